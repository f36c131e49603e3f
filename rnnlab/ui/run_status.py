"""What the Train page says about the run in front of it: the verdict (rnnlab.analysis.verdict) while it
trains and at its end, the learning-rate changes for the loss chart, the current speed and the time left.

The verdict and the changes are read from the history at most once a second while the run computes (the
page redraws ten times a second) and once more when it stops. Everything here runs only once a run exists,
so the job layer (and PyTorch) is already loaded."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import streamlit as st

from rnnlab.errors import RnnlabError
from rnnlab.jobs.phases import ACTIVE

if TYPE_CHECKING:
    from rnnlab.analysis.verdict import Reference, Verdict
    from rnnlab.jobs.runner import LiveRun, RunView

REFRESH_SECONDS = 1.0
LONG_RUN_SECONDS = 10.0  # below this the time left is not worth a number
_READING = "_run_status_reading"
_REFERENCE = "_run_status_reference"


@dataclass(frozen=True)
class Reading:
    run: tuple[int, int]  # (id, number) of the run it was read from
    version: int  # the run's view.version then
    phase: str
    at: float  # time.monotonic()
    verdict: Verdict
    lr_changes: tuple[Any, ...]  # verdict.LrChange


class _Columns:
    """A history's columns cut to one length: the job's watcher appends while the page reads (rows below
    that length are never written again, so the views need no lock)."""

    def __init__(self, history: Any) -> None:
        self._history, self._n = history, len(history)

    def column(self, name: str) -> Any:
        return self._history.column(name)[: self._n]


def reading(run: LiveRun, view: RunView) -> Reading:
    """The verdict and learning-rate changes of `run`, re-read when the run moved on (at most once a second
    while it computes)."""
    from rnnlab.analysis import verdict

    key = (id(run), run.number)
    cached: Reading | None = st.session_state.get(_READING)
    if cached is not None and cached.run == key and cached.phase == view.phase and (
            cached.version == view.version
            or view.phase in ACTIVE and time.monotonic() - cached.at < REFRESH_SECONDS):
        return cached
    columns = _Columns(run.history)
    ended = view.phase not in (*ACTIVE, "paused")
    # The reference only matters beside a validation loss; before the first one the verdict needs no
    # PyTorch (the reference does), so a cold server shows a run's first steps without waiting for it.
    validated = bool(np.isfinite(columns.column("val_loss")).any())
    judged = verdict.judge(columns, view.status, _reference(run, key) if validated else None, finished=ended,
                           initial_lr=run.config.train.lr)
    fresh = Reading(key, view.version, view.phase, time.monotonic(), judged, lr_changes(run, columns))
    st.session_state[_READING] = fresh
    return fresh


def lr_changes(run: LiveRun, columns: _Columns | None = None) -> tuple[Any, ...]:
    """Where the learning rate changed along `run`'s history (verdict.LrChange), for the loss chart's marks.
    No session state here: the live feed calls it from its own thread."""
    from rnnlab.analysis import verdict

    columns = columns or _Columns(run.history)
    return tuple(verdict.lr_changes(columns.column("step"), columns.column("lr"), run.config.train.lr))


def _reference(run: LiveRun, key: tuple[int, int]) -> Reference | None:
    """The trivial answers' validation losses of the run's series, computed once per run."""
    from rnnlab.analysis import verdict

    cached = st.session_state.get(_REFERENCE)
    if cached is not None and cached[0] == key:
        return cached[1]
    try:
        reference = verdict.reference_losses(run.config, run.prepared)
    except (RnnlabError, ValueError, RuntimeError):  # no validation windows: judged without a reference
        reference = None
    st.session_state[_REFERENCE] = (key, reference)
    return reference


def show_verdict(run: LiveRun, view: RunView) -> None:
    """The verdict in a box: green only for a finished run that learned; while training, what the curve
    shows so far (nothing until there is something to say)."""
    found = reading(run, view).verdict
    notes = " ".join(found.notes)
    if view.phase in ACTIVE or view.phase == "paused":
        if found.kind == "too_early" and not notes:
            return
        text = f"**{found.title}:** {found.evidence} {found.advice} {notes}"  # titles say "so far": "Learning"
        _BOXES.get(found.severity, st.info)(text.strip())
        return
    if view.status == "diverged":
        st.error(f"{view.message} {notes}".strip())
        return
    lead = view.message if view.phase == "finished" else ""  # a stopped run's message is already on the page
    text = f"{lead} **{found.title}:** {found.evidence} {found.advice} {notes}"
    _BOXES.get(found.severity, st.info)(text.strip())


_BOXES = {"success": st.success, "info": st.info, "warning": st.warning, "error": st.error}


def rate_text(view: RunView) -> str:
    """Steps per second now: a dash when no step is being taken (paused, finished), never an average or peak."""
    if view.phase not in ("running", "queued"):
        return "–"
    return f"{view.steps_per_s:,.0f}"


def time_left(view: RunView) -> str:
    """"about 3 min" while a run computes at a measured rate and has more than LONG_RUN_SECONDS to go; "–"
    otherwise."""
    if view.phase not in ("running", "queued") or view.steps_per_s <= 0:
        return "–"
    seconds = (view.steps - view.step) / view.steps_per_s
    return "–" if seconds < LONG_RUN_SECONDS else f"about {duration(seconds)}"


def duration(seconds: float) -> str:
    """45 s, 12 min, 2 h 5 min: rounded as a person would say it."""
    if not math.isfinite(seconds):
        return "a very long time"
    if seconds < 60:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    hours, minutes = divmod(round(seconds / 60), 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"
