"""What one browser session owns: its current run, its past runs and its upload.

Held in a session-scoped resource so that Streamlit stops the session's job
when the tab closes (the release hook), and no session ever sees another's."""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass, field

import pandas as pd
import streamlit as st

from rnnlab.config import RunConfig
from rnnlab.jobs.runner import LiveRun

MAX_KEPT_RUNS = 20  # older runs are dropped so a long lecture does not grow the server without bound


@dataclass(eq=False)  # identity semantics: kept in a WeakSet
class Workspace:
    """One session's runs and upload. Methods are called from the script thread only."""

    current: LiveRun | None = None
    past: list[LiveRun] = field(default_factory=list)
    upload: pd.DataFrame | None = None
    upload_name: str = ""
    _count: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self, config: RunConfig, *, paused: bool = False, speed: float | None = None,
              weights: dict | None = None) -> LiveRun:
        """Stop the current run (keeping it in the past runs) and start a new one."""
        with self._lock:
            self._retire()
            self.current = self._new_run(config, paused=paused, speed=speed, weights=weights).start()
            return self.current

    def start_side_by_side(self, configs: list[RunConfig], label: str) -> list[LiveRun]:
        """Runs trained at the same time next to the current one (the compare preset); kept with the past runs."""
        with self._lock:
            runs = []
            for config in configs:
                run = self._new_run(config, name_suffix=f" {label} {config.model.cell}").start()
                self.past.append(run)
                runs.append(run)
            self._trim()
            return runs

    def runs(self) -> list[LiveRun]:
        """Every run of the session, in the order they were started."""
        with self._lock:
            runs = [*self.past, *([self.current] if self.current is not None else [])]
        return sorted(runs, key=lambda run: run.number)

    def _new_run(self, config: RunConfig, name_suffix: str = "", **kwargs) -> LiveRun:
        self._count += 1
        frame = self.upload if config.data.data == "upload" else None
        run = LiveRun(config, frame, name=f"run {self._count}{name_suffix}", **kwargs)
        run.number = self._count
        return run

    def _trim(self) -> None:
        for run in self.past[:-MAX_KEPT_RUNS]:
            run.stop()
        del self.past[:-MAX_KEPT_RUNS]

    def close(self) -> None:
        """Stop every job of this session (the tab closed) and forget its runs and upload."""
        with self._lock:
            for run in [self.current, *self.past]:
                if run is not None:
                    run.stop(timeout=2.0)
            self.current, self.past, self.upload, self.upload_name = None, [], None, ""

    def _retire(self) -> None:
        run = self.current
        if run is None:
            return
        run.stop()
        if len(run.history):
            self.past.append(run)
            self._trim()
        self.current = None


# Every live workspace, for tests and for counting sessions; weak, so a released one goes away.
WORKSPACES: weakref.WeakSet[Workspace] = weakref.WeakSet()


@st.cache_resource(scope="session", on_release=lambda workspace: workspace.close(), show_spinner=False)
def workspace() -> Workspace:
    """This session's workspace, created on first use."""
    created = Workspace()
    WORKSPACES.add(created)
    return created
