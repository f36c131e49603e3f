"""The sweep engine: worker threads drive Optuna ask-and-tell, and every trial is an ordinary rnnlab job
(a LiveRun: same process layer, same server-wide cap, same history). Pruning stops the job itself."""

from __future__ import annotations

import math
import queue
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
from rnnlab.jobs.runner import HistoryBlock, LiveRun, RunEnded, RunEvent, RunView
from rnnlab.learn.history import COLUMNS, History
from rnnlab.sweep.space import config_of
from rnnlab.sweep.study import (
    FAILED,
    SweepSpec,
    best_trial,
    counts_towards_budget,
    open_storage,
    open_study,
    trials_frame,
)

STEP, VAL = COLUMNS.index("step"), COLUMNS.index("val_loss")  # rows of a history block
WAKE_SECONDS = 0.25  # a worker waiting for its job's next validation looks at the sweep's stop this often
WAIT_SECONDS = 1.0  # a worker with nothing left to ask waits this long for others' trials to end
# Validations reported to Optuna per trial, at most about: each report is a write to the study's database and
# every ask reads them all back. Reporting all 200 of a 3,000-step trial kept the sweep at 0.67-0.70 of two bare
# loops (bench.sweep_throughput); the curves and the pruners need a few dozen points.
REPORTS = 25


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
            view, pruned = follower.follow()
        finally:
            with self._lock:
                self._runs.pop(trial.number, None)
        steps = int(run.history.column("step")[-1]) if len(run.history) else 0
        trial.set_user_attr("steps", steps)
        if self._stop.is_set() and not pruned and view.phase == "stopped":
            self.study.tell(trial, state=TrialState.FAIL)  # not counted: a resumed study redoes it
            return TrialResult(trial.number, "interrupted", None, params, steps, time.monotonic() - started)
        if pruned:
            self.study.tell(trial, state=TrialState.PRUNED)
            return TrialResult(trial.number, "pruned", follower.last_value, params, steps, time.monotonic() - started)
        if view.phase == "error":
            return self._fail(trial, params, view.message, steps, started)
        value = objective_value(run.history, self.spec.objective)
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
    when the pruner says so, when the sweep stops, or never (it finishes).

    The job's watcher thread hands each validation over (on_event, an observer: quick, no storage call);
    this worker's thread reports it and asks the pruner, so the training never waits on the database."""

    def __init__(self, trial: Trial, run: LiveRun, objective: str, storage: BaseStorage,
                 stop: threading.Event) -> None:
        self.trial, self.run, self.storage, self.stop = trial, run, storage, stop
        self.column = COLUMNS.index("val_loss" if objective == "val_loss" else "loss")
        self.measured: queue.SimpleQueue[tuple[int, float] | None] = queue.SimpleQueue()  # None: the job ended
        self.last_value: float | None = None
        self.stride = report_stride(run.config)
        self.due = 0  # the first validation at or after this step is reported
        self.held: tuple[int, float] | None = None  # the latest validation not reported (reported at the end)
        run.observe(self.on_event)

    def on_event(self, event: RunEvent) -> None:
        """On the job's watcher thread: pass on each (step, objective) where validation was measured."""
        if isinstance(event, HistoryBlock):
            block = event.block
            validated = ~np.isnan(block[VAL])
            for step, value in zip(block[STEP, validated], block[self.column, validated], strict=True):
                self.measured.put((int(step), float(value)))
        elif isinstance(event, RunEnded):
            self.measured.put(None)

    def follow(self) -> tuple[RunView, bool]:
        """Train the trial's job to its end; (its final view, whether it was pruned)."""
        self.run.start()
        beat = _Heartbeat(self.storage, self.trial)
        try:
            while True:
                beat.maybe()
                if self.stop.is_set():
                    self.run.stop()
                    return self.run.view(), False
                try:
                    got = [self.measured.get(timeout=WAKE_SECONDS)]
                except queue.Empty:
                    continue
                while got[-1] is not None and not self.measured.empty():  # a backlog: judge once after it
                    got.append(self.measured.get())
                if self._report([g for g in got if g is not None], final=got[-1] is None) \
                        and self.trial.should_prune():
                    self.run.stop()
                    return self.run.view(), True
                if got[-1] is None:
                    return self.run.join(), False
        finally:
            if self.run.alive:
                self.run.stop()

    def _report(self, measured: list[tuple[int, float]], final: bool = False) -> bool:
        """Report the validations due (the objective at that step), one per stride, and the last one when the
        job has ended; True if any was reported."""
        reported = False
        for step, value in measured:
            if not math.isfinite(value):
                continue
            self.last_value = value
            if step >= self.due:
                self.trial.report(value, step)
                self.due, self.held, reported = (step // self.stride + 1) * self.stride, None, True
            else:
                self.held = (step, value)
        if final and self.held is not None:
            self.trial.report(self.held[1], self.held[0])
            self.held, reported = None, True
        return reported


def report_stride(config: RunConfig) -> int:
    """Steps between two validations reported to Optuna: a multiple of eval_every, so that the trials of a sweep
    report at the same steps (where the pruners compare them), and about REPORTS in a trial at most."""
    every = config.train.eval_every
    return every * max(1, math.ceil(config.train.steps / every / REPORTS))


class _Heartbeat:
    """Tells a database storage that this worker is alive, so that its trial is not given to another."""

    def __init__(self, storage: BaseStorage, trial: Trial) -> None:
        self.storage = storage
        self.every = storage.get_heartbeat_interval() if isinstance(storage, RDBStorage) else None
        self.trial_id: int | None = None
        if self.every:
            # Optuna's public way from a trial to its storage id (Trial._trial_id is private).
            study_id = storage.get_study_id_from_name(trial.study.study_name)
            self.trial_id = storage.get_trial_id_from_study_id_trial_number(study_id, trial.number)
        self.last = -math.inf

    def maybe(self) -> None:
        if self.trial_id is not None and time.monotonic() - self.last >= self.every / 2:
            self.storage.record_heartbeat(self.trial_id)
            self.last = time.monotonic()


def objective_value(history: History, objective: str) -> float | None:
    """Best validation loss, or the last training loss; None if there is no finite one."""
    values = history.column("val_loss" if objective == "val_loss" else "loss")
    values = values[np.isfinite(values)]
    if not len(values):
        return None
    return float(values.min() if objective == "val_loss" else values[-1])
