"""The sweep engine: worker threads drive Optuna ask-and-tell, and every trial is an ordinary rnnlab job
(a LiveRun: same process layer, same server-wide cap, same history). Pruning stops the job itself."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import optuna
import pandas as pd
from optuna.storages import BaseStorage, RDBStorage
from optuna.trial import FrozenTrial, Trial, TrialState

from rnnlab.config import RunConfig
from rnnlab.errors import ConfigError
from rnnlab.jobs.runner import LiveRun, RunView
from rnnlab.sweep.space import config_of
from rnnlab.sweep.study import (
    FAILED,
    HEARTBEAT_SECONDS,
    SweepSpec,
    best_trial,
    counts_towards_budget,
    open_storage,
    open_study,
    trials_frame,
)

POLL_SECONDS = 0.05  # how often a worker reads its job's history: pruning reacts within this
READ_STEPS = 20_000  # history reads slow down by one poll interval per this many steps trained
WAIT_SECONDS = 1.0  # a worker with nothing left to ask waits this long for others' trials to end


@dataclass(frozen=True)
class TrialResult:
    """One finished trial, as a progress line tells it."""

    number: int
    state: str  # complete | pruned | failed | interrupted | surplus
    value: float | None
    params: dict[str, Any]
    steps: int
    seconds: float
    message: str = ""


class Sweep:
    """One study filled by `workers` threads of this process (other processes may join the same study)."""

    def __init__(self, spec: SweepSpec, storage: str | BaseStorage | None = None, *, workers: int = 1,
                 frame: pd.DataFrame | None = None, on_trial: Callable[[TrialResult], None] | None = None,
                 pruner: optuna.pruners.BasePruner | None = None, speed: float | None = None) -> None:
        if not 1 <= workers <= 16:
            raise ConfigError(f"--workers must be between 1 and 16 (got {workers}).")
        self.spec = spec
        self.storage = open_storage(storage)
        self.study = open_study(spec, self.storage)  # every refusal happens here, before any trial starts
        if pruner is not None:
            self.study.pruner = pruner
        self.workers = workers
        self._frame = frame
        self._speed = speed  # steps/s per trial, for a class to watch; None: as fast as the cap allows
        self._on_trial = on_trial
        self._distributions = {p.name: p.distribution for p in spec.params}
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._runs: dict[int, LiveRun] = {}  # trial number -> its job, while it trains
        self._threads: list[threading.Thread] = []
        self.errors: list[str] = []

    # --- control ----------------------------------------------------------------
    def start(self) -> Sweep:
        self._threads = [threading.Thread(target=self._work, name=f"rnnlab-sweep-{i}", daemon=True)
                         for i in range(self.workers)]
        for thread in self._threads:
            thread.start()
        return self

    def wait(self, timeout: float | None = None) -> bool:
        """Block until every worker is done (True) or timeout passes (False)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        for thread in self._threads:
            thread.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
        return not self.alive

    def stop(self) -> None:
        """Stop every running trial (they are redone when the study resumes) and the workers."""
        self._stop.set()
        with self._lock:
            runs = list(self._runs.values())
        for run in runs:
            run.stop(timeout=2.0)
        self.wait(10.0)

    @property
    def alive(self) -> bool:
        return any(thread.is_alive() for thread in self._threads)

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    # --- reading ----------------------------------------------------------------
    def trials(self) -> list[FrozenTrial]:
        return self.study.get_trials(deepcopy=False)

    def table(self) -> pd.DataFrame:
        return trials_frame(self.trials(), self.spec.params)

    def live(self) -> dict[int, RunView]:
        """The view of each trial training in this process, by trial number."""
        with self._lock:
            runs = dict(self._runs)
        return {number: run.view() for number, run in runs.items()}

    def best_config(self) -> tuple[FrozenTrial, RunConfig] | None:
        best = best_trial(self.trials())
        return None if best is None else (best, config_of(self.spec.base, best.params))

    # --- the workers --------------------------------------------------------------
    def _work(self) -> None:
        try:
            while not self._stop.is_set():
                trial = self._next_trial()
                if trial is None:
                    return
                if isinstance(trial, Trial):
                    self._report(self._run(trial))
        except Exception as exc:  # a storage that went away mid-sweep, or a bug: say it, stop this worker
            self.errors.append(f"A sweep worker stopped: {type(exc).__name__}: {str(exc)[:200]}")

    def _next_trial(self) -> Trial | bool | None:
        """A new trial; None when the study has its budget; False when only others' trials are left."""
        if isinstance(self.storage, RDBStorage):
            optuna.storages.fail_stale_trials(self.study)  # a worker that vanished: redo its trial
        counted = [t for t in self.trials() if counts_towards_budget(t)]
        finished = [t for t in counted if t.state.is_finished()]
        if len(finished) >= self.spec.trials:
            return None
        if len(counted) >= self.spec.trials:
            self._stop.wait(WAIT_SECONDS)  # the rest are running elsewhere; take over any that is abandoned
            return False
        trial = self.study.ask(self._distributions)
        # Two workers may ask at the same instant for the last place: the later number gives way.
        earlier = [t for t in self.trials() if t.number < trial.number and counts_towards_budget(t)]
        if len(earlier) >= self.spec.trials:
            self.study.tell(trial, state=TrialState.FAIL)
            return False
        return trial

    def _run(self, trial: Trial) -> TrialResult:
        params = dict(trial.params)
        started = time.monotonic()
        try:
            config = config_of(self.spec.base, params)
        except ConfigError as exc:
            return self._fail(trial, params, str(exc), 0, started)
        run = LiveRun(config, self._frame, speed=self._speed, name=f"{self.spec.study} trial {trial.number}")
        with self._lock:
            self._runs[trial.number] = run
        follower = _Trial(trial, run, self.spec.objective, self.storage, self._stop)
        try:
            frame, view, pruned = follower.follow()
        finally:
            with self._lock:
                self._runs.pop(trial.number, None)
        steps = int(frame["step"].iloc[-1]) if len(frame) else 0
        trial.set_user_attr("steps", steps)
        if self._stop.is_set() and not pruned and view.phase == "stopped":
            self.study.tell(trial, state=TrialState.FAIL)  # not counted: a resumed study redoes it
            return TrialResult(trial.number, "interrupted", None, params, steps, time.monotonic() - started)
        if pruned:
            self.study.tell(trial, state=TrialState.PRUNED)
            return TrialResult(trial.number, "pruned", follower.last_value, params, steps, time.monotonic() - started)
        if view.phase == "error":
            return self._fail(trial, params, view.message, steps, started)
        value = objective_value(frame, self.spec.objective)
        if value is None:
            return self._fail(trial, params, view.message or "No finite loss to judge the trial by.", steps,
                              started)
        self.study.tell(trial, value)
        return TrialResult(trial.number, "complete", value, params, steps, time.monotonic() - started,
                           view.message if view.status == "diverged" else "")

    def _fail(self, trial: Trial, params: dict, message: str, steps: int, started: float) -> TrialResult:
        trial.set_user_attr(FAILED, message[:300])
        self.study.tell(trial, state=TrialState.FAIL)
        return TrialResult(trial.number, "failed", None, params, steps, time.monotonic() - started, message)

    def _report(self, result: TrialResult) -> None:
        if self._on_trial is not None:
            self._on_trial(result)


class _Trial:
    """Follows one trial's job: reports its validation losses to Optuna as they come, and stops the job
    when the pruner says so, when the sweep stops, or never (it finishes)."""

    def __init__(self, trial: Trial, run: LiveRun, objective: str, storage: BaseStorage,
                 stop: threading.Event) -> None:
        self.trial, self.run, self.objective, self.storage, self.stop = trial, run, objective, storage, stop
        self.reported = -1  # the last step reported
        self.last_value: float | None = None

    def follow(self) -> tuple[pd.DataFrame, RunView, bool]:
        self.run.start()
        beat = read_at = 0.0
        every = self.run.config.train.eval_every
        try:
            while True:
                ended = not self.run.alive  # read before the history: an ended job's history is complete
                step = self.run.view().step
                # The whole history is copied on each read: read it only once a validation is due, and
                # less often as it grows (a long trial would otherwise copy megabytes 20 times a second).
                due = step - max(self.reported, 0) >= every and \
                    time.monotonic() - read_at >= POLL_SECONDS * (1 + step / READ_STEPS)
                if ended or due:
                    frame, read_at = self.run.history_frame(), time.monotonic()
                    if self._report(frame) and self.trial.should_prune():
                        self.run.stop()
                        return self.run.history_frame(), self.run.view(), True
                    if ended:
                        return frame, self.run.view(), False
                if self.stop.is_set():
                    self.run.stop()
                    return self.run.history_frame(), self.run.view(), False
                if isinstance(self.storage, RDBStorage) and time.monotonic() - beat > HEARTBEAT_SECONDS / 2:
                    self.storage.record_heartbeat(self.trial._trial_id)  # this worker is alive
                    beat = time.monotonic()
                time.sleep(POLL_SECONDS)
        finally:
            if self.run.alive:
                self.run.stop()

    def _report(self, frame: pd.DataFrame) -> bool:
        """Report each new validation (the objective measured at that step); True if any was new."""
        checked = frame[(frame["step"] > self.reported) & frame["val_loss"].notna()]
        column = "val_loss" if self.objective == "val_loss" else "loss"
        for step, value in zip(checked["step"], checked[column], strict=True):
            if math.isfinite(value):
                self.trial.report(float(value), int(step))
                self.last_value = float(value)
            self.reported = int(step)
        return len(checked) > 0


def objective_value(frame: pd.DataFrame, objective: str) -> float | None:
    """Best validation loss, or the last training loss; None if there is no finite one."""
    column = frame["val_loss"] if objective == "val_loss" else frame["loss"]
    values = column.to_numpy(dtype=float)
    values = values[np.isfinite(values)]
    if not len(values):
        return None
    return float(values.min() if objective == "val_loss" else values[-1])

