"""Runs in the run store as the pages see them: the observer that writes a live run into the store as it
trains, and a finished or interrupted run that pages open like a live one."""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import fields
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from rnnlab.config import RunConfig
from rnnlab.jobs.runner import HistoryBlock, LiveRun, RunEnded, RunEvent, RunView, WeightsTaken
from rnnlab.learn.history import History
from rnnlab.learn.progress import Snapshot
from rnnlab.series import data
from rnnlab.store import RunInfo, RunStore, StoreError

if TYPE_CHECKING:
    from rnnlab.learn.models import SequenceModel


def weights_every() -> float:
    """Seconds of training between two saves of a live run's weights (RNNLAB_WEIGHTS_EVERY, default 30)."""
    try:
        return max(0.5, float(os.environ.get("RNNLAB_WEIGHTS_EVERY", "30")))
    except ValueError:
        return 30.0

LOG = logging.getLogger("rnnlab.jobs")
# How a job's end is kept: the trainer's status for a finished run, else the phase.
_ENDED = {"done": "finished", "diverged": "diverged", "early_stopped": "early_stopped"}


class Recorder:
    """A LiveRun observer that writes the run into the store: history blocks (RunWriter), weights at each
    pause, every weights_every() seconds and at the end, and the status as it changes. A store fault is kept
    as a sentence (`problem`) and never stops the training."""

    def __init__(self, store: RunStore, workspace: str, run_id: str, status: str = "running",
                 fresh: bool = True) -> None:
        """fresh: a new run (False: a resumed one, whose past steps are kept whatever happens next)."""
        self.store, self.workspace, self.run_id, self.fresh = store, workspace, run_id, fresh
        self.writer = store.writer(workspace, run_id)
        self.status = status
        self.steps_taken = 0
        self.closing = ""  # set when the run is stopped because its tab stayed closed: it ends "paused"
        self.problem = ""

    def __call__(self, event: RunEvent) -> None:
        try:
            self._record(event)
        except StoreError as exc:
            self.problem = f"This run is no longer being saved: {exc}"
            LOG.warning("run store: %s", exc)

    def _set_status(self, status: str, step: int | None, message: str = "") -> None:
        self.status = status
        self.store.set_status(self.workspace, self.run_id, status, step, message)

    def _record(self, event: RunEvent) -> None:
        match event:
            case HistoryBlock(block=block):
                self.steps_taken += block.shape[1]
                self.writer.add(block)
                if self.status != "running":
                    self._set_status("running", None)
            case WeightsTaken(run=run, weights=weights, reason=reason) if reason != "asked":
                self.writer.flush()
                step = run.view().step
                if step > 0:
                    snapshot = run.view().snapshot
                    if snapshot is not None:  # first, so that the weights' save counts its bytes
                        self.store.folder(self.run_id).save_snapshot(
                            {f.name: np.asarray(getattr(snapshot, f.name)) for f in fields(Snapshot)})
                    self.store.save_weights(self.workspace, self.run_id, weights, step)
                if reason == "pause":
                    self._set_status("paused", step)
            case RunEnded(view=view):
                self.writer.flush()
                step = view.step or None  # a resumed job stopped before its first step keeps the stored step
                if self.fresh and self.steps_taken == 0 and not self.closing:
                    self.store.discard(self.workspace, self.run_id)  # never took a step: nothing to keep
                elif self.closing:
                    self._set_status("paused", step, self.closing)
                elif view.phase == "finished":
                    self._set_status(_ENDED.get(view.status, "finished"), step, view.message)
                else:
                    self._set_status(view.phase, step, view.message)


class StoredRun:
    """A run of the store opened in the pages: the read side of a LiveRun (view, curves, history, a model
    copy), nothing computing. Loaded on first use; `run_id` names it in the store."""

    alive = False
    paused = False

    def __init__(self, store: RunStore, workspace: str, info: RunInfo, number: int) -> None:
        self.store, self.workspace, self.run_id = store, workspace, info.id
        self.info = info
        self.name = info.name
        self.number = number
        self.config: RunConfig = info.config
        self._history: History | None = None
        self._loaded = None
        self._series: pd.DataFrame | None = None
        self._prepared: data.Prepared | None = None
        self._snapshot: Snapshot | None = None
        self._lock = threading.Lock()
        self.problem = ""  # a missing or damaged folder: the page says this sentence instead of drawing

    @property
    def history(self) -> History:
        if self._history is None:
            try:
                self._history = self.store.load_history(self.workspace, self.run_id)
            except StoreError as exc:
                self.problem, self._history = str(exc), History()
        return self._history

    def _load(self):
        with self._lock:
            if self._loaded is None:
                self._loaded = self.store.load_run(self.workspace, self.run_id)
                self._history = self._loaded.history
            return self._loaded

    def view(self) -> RunView:
        info = self.info
        if info.status in _ENDED.values():
            phase, status = "finished", {"finished": "done"}.get(info.status, info.status)
        elif info.status == "error":
            phase, status = "error", "running"
        else:  # stopped, paused or interrupted: resumable (Resume on Train or on the Runs page)
            phase, status = "stopped", "running"
        message = info.message or f"Stopped at step {info.step:,}."
        self.history  # noqa: B018  (loading it finds a missing or damaged folder)
        if self.problem:
            phase, message = "error", self.problem
        if self.resumable:
            message += f" **Resume** goes on from step {info.weights_step:,}, where its weights were saved."
        return RunView(phase=phase, step=info.step, steps=self.config.train.steps, loss=info.loss,
                       val_loss=info.best_val, lr=self.config.train.lr,
                       steps_per_s=info.step / info.elapsed if info.elapsed > 0 else 0.0, message=message,
                       queue_position=0, version=0, snapshot=self.snapshot, status=status)

    @property
    def resumable(self) -> bool:
        """Stopped, paused or interrupted with saved weights: Train's Resume goes on from them."""
        return not self.problem and self.info.resumable and self.info.status != "error"

    @property
    def snapshot(self) -> Snapshot | None:
        """The last window saved with the weights (None for a folder written before it was kept)."""
        if self._snapshot is None and not self.problem:
            arrays = self.store.folder(self.run_id).snapshot()
            if arrays is not None and {f.name for f in fields(Snapshot)} <= set(arrays):
                self._snapshot = Snapshot(**{f.name: arrays[f.name] for f in fields(Snapshot)})
        return self._snapshot

    @property
    def weights_missing(self) -> str:
        """Why there are no weights to download ("" when there are)."""
        if self.info.weights_step is None:
            return "This run has no saved weights: it ended before they were first saved."
        return ""

    @property
    def upload(self) -> pd.DataFrame | None:
        """The series the run trained on when it was an upload (kept in its folder), else None."""
        try:
            return self._load().series
        except StoreError:
            return None

    def loss_curves(self, max_points: int = 2000):
        history = self.history
        return history.sample("loss", max_points), history.sample("val_loss", max(50, max_points // 4))

    def history_frame(self) -> pd.DataFrame:
        return self.history.to_frame()

    @property
    def frame(self) -> pd.DataFrame:
        """The run's series as it was chosen (LiveRun.frame)."""
        if self._series is None:
            series = self._load().series
            self._series = series if series is not None else data.make_series(self.config.data)
        return self._series

    @property
    def prepared(self) -> data.Prepared:
        if self._prepared is None:
            self._prepared = data.prepare(self.config, self.frame)
        return self._prepared

    def model_copy(self, timeout: float = 0.0) -> SequenceModel | None:
        """The saved weights in a fresh model; None when the run has none (or they are damaged)."""
        try:
            weights = self._load().weights
        except StoreError:
            return None
        if weights is None:
            return None
        from rnnlab.learn.models import build_model  # PyTorch: only when weights are asked for

        model = build_model(self.config, self.prepared.input_size)
        model.load_state_dict(weights)
        return model

    def wait_until(self, predicate, timeout: float) -> bool:
        return predicate(self.view())

    # A stored run computes nothing: the Train page's controls have nothing to tell it.
    def pause(self) -> None: ...
    def resume(self) -> None: ...
    def step_once(self) -> None: ...
    def set_lr(self, lr: float) -> None: ...
    def set_speed(self, steps_per_s: float | None) -> None: ...
    def stop(self, timeout: float = 0.0) -> None: ...


AnyRun = LiveRun | StoredRun
