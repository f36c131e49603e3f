"""What one browser owns on this server: its workspace (the runs it trains, the run it shows, its upload).

A workspace is found by the browser's workspace id (rnnlab.ui.workspace_id) in a server-wide registry,
not by Streamlit session: a reload is a new session that finds the same workspace, and its live run,
which kept training meanwhile. Every run is written to the run store as it trains (rnnlab.ui.stored).

Each session attaches to its workspace through a session-scoped resource whose release detaches it.
When no session is attached for the grace period (RNNLAB_GRACE_SECONDS), the workspace's jobs are
stopped with their weights and history saved (status "paused", resumable) and the workspace leaves
memory; the next visit opens it again from the store."""

from __future__ import annotations

import re
import threading
import weakref

import pandas as pd
import streamlit as st

from rnnlab.config import RunConfig
from rnnlab.jobs.runner import LiveRun
from rnnlab.store import RunStore, StoreError, new_workspace_id
from rnnlab.ui.runstore import grace_seconds, run_store
from rnnlab.ui.stored import AnyRun, Recorder, StoredRun, weights_every
from rnnlab.ui.workspace_id import ID_KEY, known_workspace_id

_RUN_NUMBER = re.compile(r"run (\d+)\b")  # the number of the default names, "run 7" or "run 7 compare lstm"
MAX_KEPT_RUNS = 20  # live runs beside the current one (the compare buttons add three at a time)


class Workspace:
    """One browser's runs on this server. Methods are called from script threads (several sessions of one
    browser may share it), so they take the lock."""

    def __init__(self, workspace_id: str | None = None) -> None:
        """workspace_id None: a workspace in memory only, never saved (benchmarks)."""
        self.id = workspace_id or new_workspace_id()
        self.current: AnyRun | None = None
        self.live: list[LiveRun] = []  # runs this server trains for the workspace, oldest first
        self.upload: pd.DataFrame | None = None
        self.upload_name = ""
        self.notices: list[str] = []  # sentences for the Runs page (quota evictions, store faults)
        self._count = 0
        self._lock = threading.RLock()
        self._sessions = 0
        self._timer: threading.Timer | None = None
        self.store: RunStore | None = None
        self.problem = ""
        try:
            if workspace_id is not None:
                self.store = run_store()
        except StoreError as exc:  # the app still trains; nothing is kept, and the Runs page says why
            self.store, self.problem = None, f"Runs are not being saved: {exc}"
        latest = self.stored_runs()[-1:] if self.store else []
        if latest:  # a restarted server, or a tab back after the grace period: show the last run again
            self.current = self._stored(latest[0].id)

    # --- starting runs ----------------------------------------------------------------------------
    def start(self, config: RunConfig, *, paused: bool = False, speed: float | None = None,
              weights: dict | None = None) -> LiveRun:
        """Stop the current run (it stays in the store) and start a new one."""
        with self._lock:
            self._retire()
            self.current = self._new_run(config, paused=paused, speed=speed, weights=weights)
            return self.current

    def start_side_by_side(self, configs: list[RunConfig], label: str) -> list[LiveRun]:
        """Runs trained at the same time next to the current one (the compare preset)."""
        with self._lock:
            return [self._new_run(config, name_suffix=f" {label} {config.model.cell}") for config in configs]

    def resume(self, run_id: str) -> LiveRun:
        """A stored run goes on training from its last saved weights (its history cut back to their step),
        as the current run; StoreError if it cannot."""
        with self._lock:
            if self.store is None:
                raise StoreError(self.problem)
            if self._live(run_id) is not None:
                raise StoreError("This run is training already.")
            self._retire()
            loaded = self.store.rewind(self.id, run_id)
            # listed as training from now, owned by this server (a crash marks it interrupted again)
            self.store.set_status(self.id, run_id, "running")
            last_lr = loaded.history.column("lr")[-1:] if len(loaded.history) else ()
            run = self._launch(loaded.config, loaded.info.name, run_id, weights=loaded.weights,
                               start_step=loaded.info.weights_step, history=loaded.history,
                               frame=loaded.series)
            if len(last_lr) and last_lr[0] != loaded.config.train.lr:
                run.set_lr(float(last_lr[0]))  # it was changed live: go on at the rate it had reached
            self.current = run
            return run

    def go_on(self, run_id: str) -> AnyRun:
        """Resume a run as the current one: a paused run this server still holds goes on where it is, a stored
        one from its last saved weights (resume); StoreError if it cannot."""
        with self._lock:
            live = self._live(run_id)
            if live is not None and live.alive:
                if live.view().phase != "paused":
                    raise StoreError("This run is training already.")
                if self.current is not live:
                    self._retire()  # as resume: one run trains for the workspace
                self.current = live
                live.resume()
            else:
                live = None
        if live is None:
            return self.resume(run_id)
        # The page drawn next lists it as training (and keeps redrawing it), not as still paused.
        live.wait_until(lambda view: view.phase != "paused", timeout=1.0)
        return live

    def _new_run(self, config: RunConfig, name_suffix: str = "", paused: bool = False, **kwargs) -> LiveRun:
        frame = self.upload if config.data.data == "upload" else None
        name, run_id = f"run {self._next_number()}{name_suffix}", None
        if self.store is not None:
            try:
                name = f"run {self._next_name_number()}{name_suffix}"
                run_id, evicted = self.store.create_run(self.id, config, name, status="paused" if paused else "running",
                                                        series=frame)
                if evicted:
                    q = self.store.quota
                    self.say(f"To stay within this browser's quota ({q.max_runs} runs, {q.max_mb:g} MB), the oldest "
                             f"unpinned runs were removed: {', '.join(repr(r.name) for r in evicted)}.")
            except StoreError as exc:
                self.say(f"This run is not being saved: {exc}")
        return self._launch(config, name, run_id, paused=paused, frame=frame, **kwargs)

    def _launch(self, config: RunConfig, name: str, run_id: str | None, *, history=None, paused: bool = False,
                **kwargs) -> LiveRun:
        recorder = None
        if run_id is not None:
            recorder = Recorder(self.store, self.id, run_id, "paused" if paused else "running", fresh=history is None)
        run = LiveRun(config, name=name, observers=[recorder] if recorder else [], paused=paused,
                      weights_every=weights_every(), **kwargs)
        if history is not None:
            run.history = history  # a resumed run's past steps, before its job adds to them
        run.number, run.run_id, run.recorder = self._next_number(), run_id, recorder
        self._trim()
        self.live.append(run.start())
        return run

    def _next_name_number(self) -> int:
        """One past the highest "run N" of the workspace (deleted runs still undoable included): counting the
        runs instead would give a new run the name of a kept one once an older run is deleted or purged."""
        names = (_RUN_NUMBER.match(info.name) for info in self.store.list_runs(self.id, include_deleted=True))
        return max((int(found[1]) for found in names if found), default=0) + 1

    def _next_number(self) -> int:
        self._count += 1
        return self._count

    def _retire(self) -> None:
        if isinstance(self.current, LiveRun):
            self.current.stop()
        self.current = None

    def _trim(self) -> None:
        """Keep in memory the runs still computing, and the current one; an ended run is in the store (kept in
        memory only when there is no store)."""
        self.live = [run for run in self.live
                     if run.alive or run is self.current or (run.recorder is None and len(run.history))]
        for run in self.live[:-MAX_KEPT_RUNS]:
            run.stop()
        del self.live[:-MAX_KEPT_RUNS]

    # --- reading --------------------------------------------------------------------------------
    def runs(self) -> list[LiveRun]:
        """The runs this server is training (or just trained) for the workspace, in the order they started."""
        with self._lock:
            return list(self.live)

    def _live(self, run_id: str) -> LiveRun | None:
        return next((run for run in self.live if run.run_id == run_id and run_id is not None), None)

    def run(self, run_id: str) -> AnyRun:
        """A run of the workspace by its store id: the live one if this server trains it, else the stored one."""
        with self._lock:
            return self._live(run_id) or self._stored(run_id)

    def _stored(self, run_id: str) -> StoredRun:
        if self.store is None:
            raise StoreError(self.problem)
        return StoredRun(self.store, self.id, self.store.get(self.id, run_id), self._next_number())

    def open(self, run_id: str) -> AnyRun:
        """Make a run the current one, the one Train, Inside and Forecast show; StoreError if it is gone."""
        with self._lock:
            self.current = self.run(run_id)
            return self.current

    def stored_runs(self) -> list:
        """Every run of the workspace in the store (RunInfo), oldest first; [] when the store is unavailable."""
        if self.store is None:
            return []
        try:
            return self.store.list_runs(self.id)
        except StoreError as exc:
            self.say(str(exc))
            return []

    def say(self, sentence: str) -> None:
        with self._lock:
            if sentence not in self.notices:
                self.notices = [*self.notices[-4:], sentence]
        try:
            st.toast(sentence)
        except Exception:  # noqa: BLE001  (no script running: the Runs page still shows it)
            pass

    # --- sessions -------------------------------------------------------------------------------
    def attach(self) -> None:
        with self._lock:
            self._sessions += 1
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None

    def detach(self) -> None:
        """A session left; with none left, the grace period starts."""
        with self._lock:
            self._sessions = max(0, self._sessions - 1)
            if self._sessions == 0 and self._timer is None:
                self._timer = threading.Timer(grace_seconds(), self._expire)
                self._timer.daemon = True
                self._timer.start()

    def _expire(self) -> None:
        with self._lock:
            if self._sessions > 0:
                return
            self._timer = None
            minutes = grace_seconds() / 60
            for run in self.live:
                if run.recorder is not None and run.alive:
                    run.recorder.closing = (f"Paused and saved after its tab stayed closed for {minutes:.3g} minutes; "
                                            "its Resume goes on from there.")
            self.close()

    def close(self) -> None:
        """Stop every job of the workspace (saved by their recorders) and forget it on this server."""
        with self._lock:
            for run in self.live:
                run.stop(timeout=2.0)
            self.current, self.live, self.upload, self.upload_name = None, [], None, ""
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
        with _REGISTRY_LOCK:
            if _REGISTRY.get(self.id) is self:
                del _REGISTRY[self.id]


# Every workspace in memory, by id: a reload finds its workspace here whatever its session.
_REGISTRY: dict[str, Workspace] = {}
_REGISTRY_LOCK = threading.Lock()
# The same workspaces, weakly, for tests.
WORKSPACES: weakref.WeakSet[Workspace] = weakref.WeakSet()


def for_id(workspace_id: str) -> Workspace:
    with _REGISTRY_LOCK:
        found = _REGISTRY.get(workspace_id)
        if found is None:
            found = _REGISTRY[workspace_id] = Workspace(workspace_id)
            WORKSPACES.add(found)
        return found


class _Attachment:
    """This session's hold on its workspace (released when the session ends)."""

    def __init__(self) -> None:
        self.workspace: Workspace | None = None
        self._lock = threading.Lock()

    def hold(self, workspace: Workspace) -> None:
        with self._lock:
            if self.workspace is workspace:
                return
            if self.workspace is not None:
                self.workspace.detach()
            workspace.attach()
            self.workspace = workspace

    def release(self) -> None:
        with self._lock:
            if self.workspace is not None:
                self.workspace.detach()
            self.workspace = None


@st.cache_resource(scope="session", on_release=lambda attachment: attachment.release(), show_spinner=False)
def _attachment() -> _Attachment:
    return _Attachment()


def workspace() -> Workspace:
    """This browser's workspace, created on first use (dashboard.py waits for the browser's id before any page runs)."""
    workspace_id = known_workspace_id()
    if workspace_id is None:  # not answered yet (a callback racing the first run): this tab alone, for now
        workspace_id = st.session_state[ID_KEY] = new_workspace_id()
    found = for_id(workspace_id)
    _attachment().hold(found)
    if _REGISTRY.get(found.id) is not found:  # it expired between the two lines above: open it again
        return workspace()
    return found
