"""The run store: every run of every workspace, kept on disk across reloads and restarts.

    <home>/index.sqlite      one row per run (rnnlab.store.index)
    <home>/runs/<run id>/    the run's folder (rnnlab.store.folder), the format `train --out` writes

A workspace is a random, unguessable id a browser keeps; every read and write names one and sees only
its own runs. Safe from several threads (a connection each) and processes (SQLite's lock)."""

from __future__ import annotations

import math
import os
import re
import secrets
import shutil
import socket
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from rnnlab.config import RunConfig
from rnnlab.learn.history import COLUMNS, History
from rnnlab.store import archive, index
from rnnlab.store.folder import SERIES, SNAPSHOT, WEIGHTS, RunFolder, StoreError, write_atomic

ACTIVE = ("starting", "running", "queued", "paused")  # statuses of a run some process is responsible for
UNDO_SECONDS = 600.0  # a deleted run can be brought back this long, then its folder goes
FLUSH_EVERY_S = 0.5  # a live run's history reaches the disk at most this long after its steps
_WORKSPACE = re.compile(r"[A-Za-z0-9_-]{22,128}")


def default_home() -> Path:
    """$RNNLAB_HOME, else $XDG_DATA_HOME/rnnlab, else ~/.local/share/rnnlab."""
    if os.environ.get("RNNLAB_HOME"):
        return Path(os.environ["RNNLAB_HOME"]).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base).expanduser() / "rnnlab"


def new_workspace_id() -> str:
    """A random id no one can guess (192 bits): whoever holds it holds the workspace."""
    return secrets.token_urlsafe(24)


def is_workspace_id(text: object) -> bool:
    return isinstance(text, str) and _WORKSPACE.fullmatch(text) is not None


class Quota(NamedTuple):
    max_runs: int
    max_mb: float

    @classmethod
    def from_env(cls) -> Quota:
        """RNNLAB_MAX_RUNS (default 100) and RNNLAB_MAX_MB (default 500) per workspace."""
        try:
            return cls(int(os.environ.get("RNNLAB_MAX_RUNS", "100")), float(os.environ.get("RNNLAB_MAX_MB", "500")))
        except ValueError:
            raise StoreError("RNNLAB_MAX_RUNS must be a whole number and RNNLAB_MAX_MB a number.") from None


@dataclass(frozen=True)
class RunInfo:
    """One run as the index lists it (no folder read)."""

    id: str
    name: str
    config_json: str
    status: str
    message: str
    step: int
    weights_step: int | None
    created: float
    updated: float
    pinned: bool
    notes: str
    deleted: float | None
    bytes: int
    loss: float | None
    best_val: float | None
    elapsed: float

    @property
    def config(self) -> RunConfig:
        return RunConfig.from_json(self.config_json)

    @property
    def resumable(self) -> bool:
        return self.weights_step is not None and self.status not in ("finished", "diverged", "early_stopped")


@dataclass(frozen=True)
class LoadedRun:
    info: RunInfo
    config: RunConfig
    history: History
    weights: dict | None  # the state_dict saved at info.weights_step, None if none was saved
    series: pd.DataFrame | None  # the uploaded series of a run trained on an upload


class Created(NamedTuple):
    run_id: str
    evicted: list[RunInfo]  # runs the quota removed to make room (the UI says so)


class Imported(NamedTuple):
    run_id: str
    evicted: list[RunInfo]
    left_out: tuple[str, ...]  # parts of the archive that were not brought in, as sentences (the UI says so)


_FIELDS = ", ".join(RunInfo.__dataclass_fields__).replace("config_json", "config AS config_json")


def _info(row: sqlite3.Row) -> RunInfo:
    values = dict(row)
    values["pinned"] = bool(values["pinned"])
    return RunInfo(**values)


def _process_start(pid: int) -> str:
    """The process's start time in clock ticks since boot (Linux), so a reused pid is not taken for it."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return ""


def _owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{_process_start(os.getpid())}"


def _owner_alive(owner: str) -> bool:
    """Whether the process that last ran this run still lives (True when it is on another machine: unknown)."""
    host, _, rest = owner.partition(":")
    pid_text, _, started = rest.partition(":")
    if not pid_text.isdigit():
        return False  # no owner recorded (a row from before owners were kept)
    if host != socket.gethostname():
        return True
    pid = int(pid_text)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # alive, another user's
    return not started or _process_start(pid) == started


def _summary(block: np.ndarray) -> dict:
    """What the index keeps of the latest steps: step, last loss, best validation loss, seconds."""
    def col(name: str) -> np.ndarray:
        return block[COLUMNS.index(name)]

    val = col("val_loss")
    val = val[np.isfinite(val)]
    loss, elapsed = float(col("loss")[-1]), float(col("elapsed")[-1])
    return {"step": int(col("step")[-1]), "loss": loss if math.isfinite(loss) else None,
            "best_val": float(val.min()) if val.size else None, "elapsed": elapsed if math.isfinite(elapsed) else 0.0}


class RunStore:
    """Create, write, list, open, export and import runs; see the module docstring for the layout."""

    def __init__(self, home: Path | str | None = None, quota: Quota | None = None) -> None:
        self.home = Path(home) if home is not None else default_home()
        self.quota = quota or Quota.from_env()
        self._local = threading.local()
        with self._faults("open the run store"):
            (self.home / "runs").mkdir(parents=True, exist_ok=True)
            index.migrate(self._db())

    # --- plumbing -------------------------------------------------------------------------------
    def _db(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = self._local.db = index.connect(self.home / "index.sqlite")
        return db

    @contextmanager
    def _faults(self, doing: str) -> Iterator[None]:
        """Turn a database or disk failure into a sentence; the rest of the store is untouched."""
        try:
            yield
        except StoreError:
            raise
        except sqlite3.OperationalError as exc:
            text = str(exc)
            if "locked" in text or "busy" in text:
                raise StoreError(f"Could not {doing}: the run store is busy (another process holds its lock); "
                                 "try again in a moment.") from None
            if "full" in text:
                raise StoreError(f"Could not {doing}: the disk holding {self.home} is full; delete old runs or "
                                 "set RNNLAB_HOME to a disk with space.") from None
            raise StoreError(f"Could not {doing}: the run store at {self.home} failed ({text}).") from None
        except sqlite3.DatabaseError as exc:
            if type(exc) is not sqlite3.DatabaseError:
                raise  # an integrity or programming error is a bug here, not a damaged file
            raise StoreError(f"Could not {doing}: the index {self.home / 'index.sqlite'} is damaged ({exc}); move "
                             "it away and restart (the run folders are kept).") from None
        except OSError as exc:
            if exc.errno == 28:  # ENOSPC
                raise StoreError(f"Could not {doing}: the disk holding {self.home} is full; delete old runs or "
                                 "set RNNLAB_HOME to a disk with space.") from None
            raise StoreError(f"Could not {doing}: {exc.strerror or exc} ({exc.filename or self.home}).") from None

    @contextmanager
    def _write(self, doing: str) -> Iterator[sqlite3.Connection]:
        """One write transaction, the lock taken up front (so it waits on the busy timeout, not fails midway)."""
        with self._faults(doing):
            db = self._db()
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise

    def folder(self, run_id: str) -> RunFolder:
        return RunFolder(self.home / "runs" / run_id)

    def _check_workspace(self, workspace: str) -> None:
        if not is_workspace_id(workspace):
            raise StoreError("This browser's workspace id is not valid; reload the page to get a new one.")

    # --- the run's life -------------------------------------------------------------------------
    def create_run(self, workspace: str, config: RunConfig, name: str, *, status: str = "running",
                   series: pd.DataFrame | None = None) -> Created:
        """A new run (its folder and row); the quota may evict the workspace's oldest unpinned runs first."""
        self._check_workspace(workspace)
        evicted = self.enforce_quota(workspace, room_for=1)
        run_id = secrets.token_hex(10)
        with self._faults("create the run"):
            folder = self.folder(run_id).create(config)
            if series is not None:
                folder.write_series(series)
        now = time.time()
        with self._write("create the run") as db:
            db.execute("INSERT INTO runs (id, workspace, name, config, status, created, updated, owner, bytes) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       (run_id, workspace, name, config.to_json(), status, now, now, _owner(), folder.size()))
        return Created(run_id, evicted)

    def writer(self, workspace: str, run_id: str, flush_every: float = FLUSH_EVERY_S) -> RunWriter:
        """The history appender of one live run (one writer per run)."""
        self.get(workspace, run_id)  # scoped: another workspace's run is not found
        return RunWriter(self, run_id, flush_every)

    def append_history(self, workspace: str, run_id: str, block: np.ndarray) -> None:
        """Append k steps ((len(COLUMNS), k), as History.extend takes them) and update the listing."""
        self.get(workspace, run_id)
        self._append(run_id, block)

    def _append(self, run_id: str, block: np.ndarray) -> None:
        if block.shape[1] == 0:
            return
        with self._faults("save the run's history"):
            folder = self.folder(run_id)
            folder.append_history(block)
            size = folder.size()
        summary = _summary(block)
        with self._write("save the run's history") as db:
            db.execute("UPDATE runs SET step = ?, loss = ?, best_val = min(coalesce(best_val, ?), coalesce(?, "
                       "best_val)), elapsed = ?, bytes = ?, updated = ? WHERE id = ?",
                       (summary["step"], summary["loss"], summary["best_val"], summary["best_val"],
                        summary["elapsed"], size, time.time(), run_id))

    def save_weights(self, workspace: str, run_id: str, state_dict: dict, step: int) -> None:
        """The weights at `step` (atomically: a crash keeps the previous ones); a resume starts from here."""
        self.get(workspace, run_id)
        with self._faults("save the run's weights"):
            folder = self.folder(run_id)
            folder.save_weights(state_dict)
            size = folder.size()
        with self._write("save the run's weights") as db:
            db.execute("UPDATE runs SET weights_step = ?, bytes = ?, updated = ? WHERE id = ?",
                       (int(step), size, time.time(), run_id))

    def set_status(self, workspace: str, run_id: str, status: str, step: int | None = None,
                   message: str = "") -> None:
        """running, paused, finished, stopped, diverged, early_stopped, error or interrupted."""
        self.get(workspace, run_id)
        with self._write("save the run's status") as db:
            db.execute("UPDATE runs SET status = ?, message = ?, step = coalesce(?, step), owner = ?, updated = ? "
                       "WHERE id = ?", (status, message, step, _owner(), time.time(), run_id))

    def mark_interrupted_on_startup(self) -> list[str]:
        """Runs left running or paused by a process that is gone (a crashed or killed server) become
        "interrupted", resumable from their last saved weights. Returns their ids."""
        with self._write("check for interrupted runs") as db:
            rows = db.execute(f"SELECT id, owner FROM runs WHERE status IN ({','.join('?' * len(ACTIVE))})",
                              ACTIVE).fetchall()
            gone = [row["id"] for row in rows if not _owner_alive(row["owner"])]
            for run_id in gone:
                db.execute("UPDATE runs SET status = 'interrupted', message = ?, updated = ? WHERE id = ?",
                           ("The server stopped while this run trained; it can resume from its last saved weights.",
                            time.time(), run_id))
        return gone

    # --- reading --------------------------------------------------------------------------------
    def list_runs(self, workspace: str, include_deleted: bool = False) -> list[RunInfo]:
        """The workspace's runs, oldest first; deleted ones (still undoable) only when asked."""
        self._check_workspace(workspace)
        with self._faults("list the runs"):
            rows = self._db().execute(
                f"SELECT {_FIELDS} FROM runs WHERE workspace = ? {'' if include_deleted else 'AND deleted IS NULL'}"
                " ORDER BY created, rowid", (workspace,)).fetchall()
        return [_info(row) for row in rows]

    def get(self, workspace: str, run_id: str) -> RunInfo:
        self._check_workspace(workspace)
        with self._faults("read the run"):
            row = self._db().execute(f"SELECT {_FIELDS} FROM runs WHERE id = ? AND workspace = ?",
                                     (run_id, workspace)).fetchone()
        if row is None:  # the same answer for another workspace's run as for no run: nothing to learn from it
            raise StoreError("This run is not in your workspace (it was deleted, or belongs to another browser).")
        return _info(row)

    def load_run(self, workspace: str, run_id: str) -> LoadedRun:
        """Config, history and weights of one run of this workspace; StoreError if its folder is missing or damaged."""
        info = self.get(workspace, run_id)
        folder = self.folder(run_id)
        if not folder.path.is_dir():
            raise StoreError(f"The folder of run {info.name!r} is missing from {self.home / 'runs'}; "
                             "delete the run from the list.")
        with self._faults(f"open run {info.name!r}"):
            return LoadedRun(info, folder.config(), folder.history(), folder.weights(), folder.series())

    def load_history(self, workspace: str, run_id: str) -> History:
        """Only the history of one run (no weights, no torch): what a comparison draws."""
        info = self.get(workspace, run_id)
        with self._faults(f"open run {info.name!r}"):
            if not self.folder(run_id).path.is_dir():
                raise StoreError(f"The folder of run {info.name!r} is missing from {self.home / 'runs'}; "
                                 "delete the run from the list.")
            return self.folder(run_id).history()

    def rewind(self, workspace: str, run_id: str) -> LoadedRun:
        """Cut the history back to the step of the saved weights, so a resumed run goes on from there
        without repeating steps; returns the run as it now is. StoreError if it has no weights."""
        info = self.get(workspace, run_id)
        if info.weights_step is None:
            raise StoreError(f"Run {info.name!r} has no saved weights to resume from.")
        with self._faults(f"resume run {info.name!r}"):
            self.folder(run_id).truncate_history(info.weights_step)
        loaded = self.load_run(workspace, run_id)
        history = loaded.history
        summary = _summary(np.stack([history.column(name) for name in COLUMNS])) if len(history) else {}
        with self._write("resume the run") as db:
            db.execute("UPDATE runs SET step = ?, loss = ?, elapsed = ?, updated = ? WHERE id = ?",
                       (info.weights_step, summary.get("loss"), summary.get("elapsed", 0.0), time.time(), run_id))
        return LoadedRun(self.get(workspace, run_id), loaded.config, history, loaded.weights, loaded.series)

    # --- editing --------------------------------------------------------------------------------
    def _update(self, workspace: str, run_id: str, doing: str, sql: str, *args) -> None:
        self.get(workspace, run_id)
        with self._write(doing) as db:
            db.execute(f"UPDATE runs SET {sql}, updated = ? WHERE id = ? AND workspace = ?",
                       (*args, time.time(), run_id, workspace))

    def rename(self, workspace: str, run_id: str, name: str) -> None:
        name = name.strip()[:200]
        if not name:
            raise StoreError("A run's name cannot be empty.")
        self._update(workspace, run_id, "rename the run", "name = ?", name)

    def set_notes(self, workspace: str, run_id: str, notes: str) -> None:
        self._update(workspace, run_id, "save the notes", "notes = ?", notes[:20_000])

    def pin(self, workspace: str, run_id: str, pinned: bool = True) -> None:
        """A pinned run is never evicted by the quota."""
        self._update(workspace, run_id, "pin the run", "pinned = ?", int(pinned))

    def delete(self, workspace: str, run_id: str) -> None:
        """Hide the run; undo_delete brings it back for UNDO_SECONDS, then its folder is removed."""
        self._update(workspace, run_id, "delete the run", "deleted = ?", time.time())

    def undo_delete(self, workspace: str, run_id: str) -> None:
        self._update(workspace, run_id, "restore the run", "deleted = NULL")

    def discard(self, workspace: str, run_id: str) -> None:
        """Remove a run for good at once (a run that never took a step: nothing to undo)."""
        self.get(workspace, run_id)
        with self._faults("remove the run"):
            self._remove([run_id])

    def purge_deleted(self, older_than: float = UNDO_SECONDS) -> int:
        """Remove runs deleted more than older_than seconds ago, for good; returns how many."""
        with self._faults("remove deleted runs"):
            rows = self._db().execute("SELECT id FROM runs WHERE deleted IS NOT NULL AND deleted < ?",
                                      (time.time() - older_than,)).fetchall()
        self._remove([row["id"] for row in rows])
        return len(rows)

    def _remove(self, run_ids: list[str]) -> None:
        for run_id in run_ids:
            with self._write("remove the run") as db:
                db.execute("DELETE FROM runs WHERE id = ?", (run_id,))
            shutil.rmtree(self.folder(run_id).path, ignore_errors=True)  # after the row: never a row without folder

    def enforce_quota(self, workspace: str, room_for: int = 0) -> list[RunInfo]:
        """Evict the oldest unpinned, inactive runs until the workspace holds at most max_runs - room_for
        runs and max_mb megabytes; returns the evicted runs so the UI can name them."""
        self.purge_deleted()
        runs = self.list_runs(workspace, include_deleted=True)
        count = sum(1 for r in runs if r.deleted is None)
        total = sum(r.bytes for r in runs)
        evicted = []
        candidates = sorted((r for r in runs if not r.pinned and r.status not in ACTIVE),
                            key=lambda r: (r.deleted is None, r.created))  # deleted ones go first
        for run in candidates:
            if count <= self.quota.max_runs - room_for and total <= self.quota.max_mb * 1e6:
                break
            evicted.append(run)
            count -= run.deleted is None
            total -= run.bytes
        self._remove([r.id for r in evicted])
        return [r for r in evicted if r.deleted is None]

    # --- files in and out -------------------------------------------------------------------------
    def export_zip(self, workspace: str, run_id: str) -> bytes:
        """The run's folder as a zip, with history.csv and run.json (name, notes, status) added."""
        info = self.get(workspace, run_id)
        meta = {"name": info.name, "notes": info.notes, "status": info.status, "message": info.message,
                "weights_step": info.weights_step, "created": info.created}
        with self._faults(f"export run {info.name!r}"):
            return archive.export_zip(self.folder(run_id), meta)

    def import_zip(self, workspace: str, data: bytes, name: str = "") -> Imported:
        """A run from a zip ("Download run", or a zipped `train --out` folder); StoreError if it is not one."""
        return self._import(workspace, archive.check(archive.files_from_zip(data)), name)

    def import_folder(self, workspace: str, path: Path | str) -> Imported:
        """A run from a folder `python -m rnnlab train --out` wrote."""
        return self._import(workspace, archive.check(archive.files_from_folder(Path(path))), Path(path).name)

    def _import(self, workspace: str, run: archive.ImportedRun, name: str) -> Imported:
        meta = run.meta
        name = str(meta.get("name") or name or "imported run")[:200]
        status = str(meta.get("status", "finished"))
        status = "interrupted" if status in ACTIVE else status  # nothing trains it here
        steps = run.block.shape[1]
        weights_step = meta.get("weights_step")
        if run.weights is not None and not isinstance(weights_step, int):
            weights_step = int(run.block[COLUMNS.index("step"), -1]) if steps else 0  # the CLI saves at the end
        created = self.create_run(workspace, run.config, name, status=status)
        try:
            with self._faults("import the run"):
                folder = self.folder(created.run_id)
                for name, data in ((SERIES, run.series), (WEIGHTS, run.weights), (SNAPSHOT, run.snapshot)):
                    if data is not None:
                        write_atomic(folder.path / name, data)
            self._append(created.run_id, run.block)
            self._update(workspace, created.run_id, "import the run", "weights_step = ?, notes = ?, message = ?, "
                         "bytes = ?", weights_step if run.weights is not None else None, str(meta.get("notes", "")),
                         str(meta.get("message", "")), folder.size())
        except BaseException:
            self._remove([created.run_id])  # half an import is no run
            raise
        return Imported(*created, run.left_out)


class RunWriter:
    """Appends a live run's history in blocks, written at most FLUSH_EVERY_S after their steps were taken.

    Call add() with every block the job sends (cheap: it only buffers), and flush() when the run pauses or
    ends; a process killed meanwhile loses at most the unflushed fraction of a second."""

    def __init__(self, store: RunStore, run_id: str, flush_every: float) -> None:
        self.store, self.run_id, self.flush_every = store, run_id, flush_every
        self._pending: list[np.ndarray] = []
        self._last_flush = time.monotonic()
        self._lock = threading.Lock()
        with store._faults("reopen the run's history"):
            store.folder(run_id).drop_torn_row()  # a resumed run appends after whole rows only

    def add(self, block: np.ndarray) -> None:
        with self._lock:
            self._pending.append(np.asarray(block, dtype=float))
            due = time.monotonic() - self._last_flush >= self.flush_every
        if due:
            self.flush()

    @property
    def unflushed(self) -> int:
        """Steps added but not yet on disk."""
        with self._lock:
            return sum(block.shape[1] for block in self._pending)

    def flush(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, []
            self._last_flush = time.monotonic()
            if pending:
                self.store._append(self.run_id, np.concatenate(pending, axis=1))

