"""The run folder: the one format both `python -m rnnlab train --out DIR` and the run store write.

    config.json    the settings (RunConfig.to_json), read back by `--config` and by the app
    history.f64    the history, one row per step: float64 little-endian, columns as history.json lists them
    history.json   {"columns": [...], "dtype": "<f8"}: what each value of a row is
    history.csv    the same history for people and pandas (the command line writes it; exports carry it)
    weights.pt     torch.save of the model's state_dict
    snapshot.npz   the last "prediction vs target" window, saved with the weights (older folders have none)
    series.csv     the uploaded series, for a run trained on an upload (other series are rebuilt from config)
    run.json       name, status, notes... (exports carry it; the store keeps these in its index)

Why a fixed-width binary log for the history rather than Arrow or Parquet: a live run appends a block
every fraction of a second for minutes, and a process killed mid-run must leave a readable file. Appending
rows to a flat file is one write() per block, a torn last row is recognised by the file size alone and
dropped, and loading 100,000 steps is one np.fromfile (milliseconds). Arrow's IPC file cannot be appended
once closed, its stream needs its writer alive to end cleanly, and Parquet would need one part file per
block plus compaction. The column names live beside the log, so a row of a later version with more
columns is still read by name.
"""

from __future__ import annotations

import io
import json
import math
import os
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from rnnlab.config import RunConfig
from rnnlab.errors import RnnlabError
from rnnlab.learn.history import COLUMNS, History

CONFIG, LOG, LOG_META, CSV, WEIGHTS, SERIES, META, SNAPSHOT = (
    "config.json", "history.f64", "history.json", "history.csv", "weights.pt", "series.csv", "run.json",
    "snapshot.npz")
FILES = (CONFIG, LOG, LOG_META, CSV, WEIGHTS, SERIES, META, SNAPSHOT)
DTYPE = np.dtype("<f8")


class StoreError(RnnlabError):
    """The run store or a run folder cannot do what was asked; the message says why and what to do."""


def write_atomic(path: Path, data: bytes) -> None:
    """Replace path with data in one step: a crash leaves the old file or the new one, never half of one."""
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


class RunFolder:
    """Reads and writes one run's folder. Appending is for one writer; reading is safe meanwhile."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    # --- writing --------------------------------------------------------------------------------
    def create(self, config: RunConfig, columns: tuple[str, ...] = COLUMNS) -> RunFolder:
        self.path.mkdir(parents=True, exist_ok=True)
        write_atomic(self.path / CONFIG, (config.to_json() + "\n").encode())
        write_atomic(self.path / LOG_META, json.dumps({"columns": list(columns), "dtype": DTYPE.str}).encode())
        (self.path / LOG).touch()
        return self

    def append_history(self, block: np.ndarray) -> None:
        """Append k steps: a (len(COLUMNS), k) array in column order, as History.extend takes it."""
        rows = np.ascontiguousarray(np.asarray(block, dtype=DTYPE).T)  # (k, columns): one row per step
        if rows.size:
            with open(self.path / LOG, "ab") as f:
                f.write(rows.tobytes())

    def drop_torn_row(self) -> None:
        """Cut a partly written last row (the writer was killed mid-write) so appends stay aligned."""
        log = self.path / LOG
        row = DTYPE.itemsize * len(self.columns())
        size = log.stat().st_size
        if size % row:
            os.truncate(log, size - size % row)

    def truncate_history(self, last_step: int) -> None:
        """Keep the rows up to step last_step (a resume from weights saved there goes on after it)."""
        columns = self.columns()
        steps = block_from_log(np.fromfile(self.path / LOG, dtype=DTYPE), columns)[COLUMNS.index("step")]
        keep = int(np.searchsorted(steps, last_step, side="right"))
        os.truncate(self.path / LOG, keep * DTYPE.itemsize * len(columns))

    def save_weights(self, state_dict: dict) -> int:
        """Write weights.pt atomically; returns its size in bytes."""
        import torch  # here, so that reading and appending histories does not pay torch's import

        buffer = io.BytesIO()
        torch.save(state_dict, buffer)
        write_atomic(self.path / WEIGHTS, buffer.getvalue())
        return buffer.tell()

    def write_csv(self) -> None:
        from rnnlab.export.script import history_csv

        write_atomic(self.path / CSV, history_csv(self.history().to_frame()))

    def save_snapshot(self, arrays: dict[str, np.ndarray]) -> None:
        """The last window's arrays (plain numbers, read back without pickle); StoreError if it cannot be written."""
        buffer = io.BytesIO()
        np.savez(buffer, **arrays)
        try:
            write_atomic(self.path / SNAPSHOT, buffer.getvalue())
        except OSError as exc:
            raise StoreError(f"The run's last window could not be saved ({exc.strerror or exc}).") from None

    def write_series(self, frame: pd.DataFrame) -> None:
        write_atomic(self.path / SERIES, frame.to_csv(index=False, lineterminator="\n").encode())

    # --- reading --------------------------------------------------------------------------------
    def config(self) -> RunConfig:
        try:
            text = (self.path / CONFIG).read_text()
        except OSError:
            raise StoreError(f"The run folder {self.path.name} has no readable config.json.") from None
        try:
            return RunConfig.from_json(text)
        except RnnlabError as exc:
            raise StoreError(f"The run's config.json cannot be used: {exc}") from None

    def columns(self) -> list[str]:
        try:
            return parse_columns((self.path / LOG_META).read_bytes())
        except FileNotFoundError:
            return list(COLUMNS)

    def history(self) -> History:
        """The history as written: from the binary log, or from history.csv when there is no log."""
        if (self.path / LOG).exists():
            block = block_from_log(np.fromfile(self.path / LOG, dtype=DTYPE), self.columns())
        elif (self.path / CSV).exists():
            block = history_block_from_csv((self.path / CSV).read_bytes())
        else:
            raise StoreError(f"The run folder {self.path.name} holds no history (history.f64 or history.csv).")
        history = History(capacity=max(1024, block.shape[1]))
        history.extend(block)
        return history

    def weights(self) -> dict | None:
        if not (self.path / WEIGHTS).exists():
            return None
        import torch

        try:
            return torch.load(self.path / WEIGHTS, weights_only=True, map_location="cpu")
        except Exception:  # torch.load raises many kinds on a damaged file
            raise StoreError("The run's weights.pt is damaged; its charts still open, its model does not.") from None

    def snapshot(self) -> dict[str, np.ndarray] | None:
        """The arrays save_snapshot wrote; None when there are none (an older folder) or they are damaged:
        only the window chart goes without them."""
        try:
            with np.load(self.path / SNAPSHOT, allow_pickle=False) as npz:
                return {name: npz[name] for name in npz.files}
        except (OSError, ValueError, EOFError, zipfile.BadZipFile):
            return None

    def series(self) -> pd.DataFrame | None:
        return pd.read_csv(self.path / SERIES) if (self.path / SERIES).exists() else None

    def size(self) -> int:
        """Bytes on disk, for the quota."""
        return sum(p.stat().st_size for p in self.path.iterdir() if p.is_file()) if self.path.exists() else 0


def parse_columns(text: bytes | str) -> list[str]:
    """The column names of a history.json; StoreError if it is damaged."""
    try:
        meta = json.loads(text)
        columns = meta["columns"]
        if meta.get("dtype", DTYPE.str) != DTYPE.str or not columns or not all(isinstance(c, str) for c in columns):
            raise ValueError
        return columns
    except (ValueError, KeyError, TypeError, AttributeError):
        raise StoreError("The run's history.json is damaged; the history cannot be read.") from None


def block_from_log(raw: np.ndarray, columns: list[str]) -> np.ndarray:
    """A (len(COLUMNS), k) block from the flat values of a history.f64, read by column name."""
    rows = raw[: len(raw) - len(raw) % len(columns)].reshape(-1, len(columns))  # a torn last row is dropped
    block = np.full((len(COLUMNS), len(rows)), np.nan)
    for i, name in enumerate(COLUMNS):
        if name in columns:
            block[i] = rows[:, columns.index(name)]
    return block


def history_block_from_csv(data: bytes) -> np.ndarray:
    """A (len(COLUMNS), k) block from a history.csv (the command line's, or an export's); StoreError if unfit."""
    try:
        frame = pd.read_csv(io.BytesIO(data))
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError):
        raise StoreError("history.csv is not a readable CSV table.") from None
    missing = [c for c in ("step", "loss") if c not in frame.columns]
    if missing:
        raise StoreError(f"history.csv has no {' or '.join(missing)} column; it is not a history rnnlab wrote.")
    block = np.full((len(COLUMNS), len(frame)), np.nan)
    for i, name in enumerate(COLUMNS):
        if name in frame.columns:
            values = pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=float)
            if name in ("step", "loss") and np.isnan(values).any():
                raise StoreError(f"history.csv has a non-numeric {name} in row {int(np.argmax(np.isnan(values))) + 2}.")
            block[i] = values
    return block


def write_run_folder(path: Path, config: RunConfig, history: History, state_dict: dict) -> None:
    """A finished run as a folder (what `python -m rnnlab train --out` writes), history.csv included."""
    folder = RunFolder(path).create(config)
    (folder.path / LOG).write_bytes(b"")  # a folder reused for another run starts its log afresh
    block = np.stack([history.column(name) for name in COLUMNS]) if len(history) else np.empty((len(COLUMNS), 0))
    folder.append_history(block)
    folder.write_csv()
    folder.save_weights(state_dict)


def finite_or_none(x: float) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)
