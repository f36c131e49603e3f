"""The live runner: one background thread per run that steps a Trainer, paced and pausable.

It never calls streamlit: pages read a frozen RunView from it on their own clock."""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from rnnlab.config import RunConfig
from rnnlab.errors import RnnlabError
from rnnlab.history import History
from rnnlab.trainer import Progress, Snapshot, Trainer
from rnnlab.ui.slots import SLOTS, ComputeSlots

CHUNK_SECONDS = 0.05  # a job gives its slot back this often, so queued jobs take turns
SNAPSHOT_SECONDS = 0.1  # how often the current window is captured for the plot
QUEUED_AFTER = 1.0  # seconds without a slot before a run says it is queued
Curve = tuple[np.ndarray, np.ndarray]  # (steps, values)
PHASES = ("starting", "queued", "running", "paused", "finished", "stopped", "error")

LOG = logging.getLogger("rnnlab.jobs")  # one line per job start and end, with the live count, for admins
_live: set[LiveRun] = set()
_live_lock = threading.Lock()


def live_jobs() -> int:
    """How many job threads are alive in this process (tests count them)."""
    with _live_lock:
        return sum(1 for run in _live if run.alive)


@dataclass(frozen=True)
class RunView:
    """Everything a page draws, read at one instant."""

    phase: str
    step: int
    steps: int
    loss: float | None
    val_loss: float | None
    lr: float
    steps_per_s: float
    message: str
    queue_position: int
    version: int
    snapshot: Snapshot | None
    status: str  # the trainer's status: running, done, diverged, early_stopped


class LiveRun:
    """A run of one config in a background thread. Control methods are safe from any thread."""

    def __init__(
        self,
        config: RunConfig,
        frame: pd.DataFrame | None = None,
        *,
        speed: float | None = None,
        paused: bool = False,
        slots: ComputeSlots = SLOTS,
        name: str = "",
        weights: dict | None = None,
    ) -> None:
        self.config = config
        self.name = name
        self.history = History()
        self.trainer: Trainer | None = None
        self._frame = frame
        self._weights = weights  # a checked state_dict to start from (an imported model)
        self._slots = slots
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._stop = threading.Event()
        self._paused = paused
        self._pending_steps = 0
        self._speed = speed
        self._pending_lr: float | None = None
        self._phase = "starting"
        self._message = ""
        self._last: Progress | None = None
        self._snapshot: Snapshot | None = None
        self._version = 0
        self._rate_marks: deque[tuple[float, int]] = deque(maxlen=64)
        self._queued_since: float | None = None
        self._snapshot_at = 0.0
        self._thread = threading.Thread(target=self._run, name="rnnlab-job", daemon=True)

    # --- control ----------------------------------------------------------------
    def start(self) -> LiveRun:
        with _live_lock:
            _live.add(self)
            count = len(_live)
        self._thread.start()
        LOG.info("job started: %s (%d live)", self.name, count)
        return self

    def pause(self) -> None:
        with self._wake:
            self._paused = True
            self._pending_steps = 0

    def resume(self) -> None:
        with self._wake:
            self._paused = False
            self._wake.notify_all()

    def step_once(self) -> None:
        """One optimisation step while paused (pauses first if running)."""
        with self._wake:
            self._paused = True
            self._pending_steps += 1
            self._wake.notify_all()

    def set_lr(self, lr: float) -> None:
        with self._wake:
            self._pending_lr = lr

    def set_speed(self, steps_per_s: float | None) -> None:
        """None trains as fast as possible; a number paces the run for a class to watch."""
        with self._wake:
            self._speed = steps_per_s
            self._wake.notify_all()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the thread and wait for it; the history so far is kept."""
        self._stop.set()
        with self._wake:
            self._wake.notify_all()
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    @property
    def paused(self) -> bool:
        return self._paused

    # --- reading ----------------------------------------------------------------
    def view(self) -> RunView:
        with self._lock:
            last = self._last
            # Jobs take turns on the slots every few dozen milliseconds; only a long wait is "queued".
            queued = self._queued_since is not None and time.monotonic() - self._queued_since > QUEUED_AFTER
            return RunView(
                phase="queued" if queued and self._phase == "running" else self._phase,
                step=last.step if last else 0,
                steps=self.config.train.steps,
                loss=last.loss if last else None,
                val_loss=last.val_loss if last else None,
                lr=last.lr if last else self.config.train.lr,
                steps_per_s=self._wall_rate(),
                message=self._message,
                queue_position=self._slots.waiting if queued else 0,
                version=self._version,
                snapshot=self._snapshot,
                status=last.status if last else "running",
            )

    def wait_until(self, predicate: Callable[[RunView], bool], timeout: float) -> bool:
        """Poll the view until predicate holds (True) or timeout passes (False); for button callbacks."""
        deadline = time.monotonic() + timeout
        while not predicate(self.view()):
            if time.monotonic() > deadline or not self.alive:
                return predicate(self.view())
            time.sleep(0.005)
        return True

    def loss_curves(self, max_points: int = 2000) -> tuple[Curve, Curve]:
        """(steps, train loss) and (steps, validation loss), downsampled for a chart."""
        with self._lock:
            return self.history.sample("loss", max_points), self.history.sample("val_loss", max_points)

    def history_frame(self) -> pd.DataFrame:
        with self._lock:
            return self.history.to_frame()

    # --- the job thread -----------------------------------------------------------
    def _run(self) -> None:
        try:
            trainer = Trainer(self.config, self._frame)
            if self._weights is not None:
                trainer.model.load_state_dict(self._weights)
                trainer.reset_checkpoints()
            self.trainer = trainer
            self._set_phase("paused" if self._paused else "running")
            while not self._stop.is_set() and not self.trainer.finished:
                budget = self._wait_for_work()
                if budget == 0:
                    continue
                self._run_chunk(budget)
            if self.trainer.finished:
                self._set_phase("finished", self.trainer.message)
            else:
                self._set_phase("stopped", f"Stopped at step {self.trainer.step:,}.")
        except RnnlabError as exc:
            self._set_phase("error", str(exc))
        except Exception as exc:  # a bug: report it as a sentence rather than killing the page
            LOG.exception("job failed: %s", self.name)
            self._set_phase("error", f"Training failed unexpectedly ({type(exc).__name__}: {exc}).")
        finally:
            with _live_lock:
                _live.discard(self)
                count = len(_live)
            LOG.info("job ended: %s, %s at step %d (%d live)", self.name, self._phase, len(self.history), count)

    def _wait_for_work(self) -> int | None:
        """Block while paused or paced; return how many steps may run now (None = no limit)."""
        with self._wake:
            while self._paused and self._pending_steps == 0 and not self._stop.is_set():
                self._set_phase_locked("paused")
                self._wake.wait(0.5)
            if self._stop.is_set():
                return 0
            if self._paused:
                return self._pending_steps
            return None

    def _run_chunk(self, budget: int | None) -> None:
        with self._wake:
            self._queued_since = time.monotonic()
        if self._slots.acquire(self._stop) is None:
            return
        trainer = self.trainer
        done: list[Progress] = []
        try:
            with self._wake:
                self._queued_since = None
                if self._phase in ("paused", "starting"):
                    self._set_phase_locked("running")
                if self._pending_lr is not None:
                    trainer.set_lr(self._pending_lr)
                    self._pending_lr = None
                interval = 1.0 / self._speed if self._speed else 0.0
            if self._paused or time.monotonic() - self._snapshot_at > SNAPSHOT_SECONDS:
                self._snapshot_at = time.monotonic()
                trainer.request_snapshot()
            deadline = time.monotonic() + CHUNK_SECONDS
            while not self._stop.is_set() and not trainer.finished:
                done.append(next(trainer))
                if budget is not None and len(done) >= budget:
                    break
                if self._paused or interval or time.monotonic() >= deadline:
                    break
        finally:
            self._slots.release()
            self._publish(done, budget)
        if interval and not self._stop.is_set():
            with self._wake:
                self._wake.wait(interval)

    def _publish(self, done: list[Progress], budget: int | None) -> None:
        if not done:
            return
        with self._wake:
            for progress in done:
                self.history.append(progress)
                if progress.snapshot is not None:
                    self._snapshot = progress.snapshot
            self._last = done[-1]
            self._version += 1
            self._rate_marks.append((time.monotonic(), done[-1].step))
            if budget is not None:
                self._pending_steps = max(0, self._pending_steps - len(done))
                if self._pending_steps == 0 and self.trainer and self.trainer.status == "running":
                    self._set_phase_locked("paused")

    def _wall_rate(self) -> float:
        """Steps per wall-clock second over about the last second."""
        if len(self._rate_marks) < 2 or self._phase != "running":
            return 0.0
        now_t, now_step = self._rate_marks[-1]
        then_t, then_step = next((t, n) for t, n in self._rate_marks if now_t - t <= 1.0)
        return (now_step - then_step) / (now_t - then_t) if now_t > then_t else 0.0

    def _set_phase(self, phase: str, message: str = "") -> None:
        with self._wake:
            self._set_phase_locked(phase, message)

    def _set_phase_locked(self, phase: str, message: str | None = None) -> None:
        self._phase = phase
        if message is not None:
            self._message = message
