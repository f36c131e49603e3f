"""The live runner: one job process per run (rnnlab.jobs.worker), paced and pausable, watched by a thread.

It never calls streamlit: pages read a frozen RunView from it on their own clock."""

from __future__ import annotations

import logging
import multiprocessing
import multiprocessing.spawn
import threading
import time
from collections import deque
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import pandas as pd

from rnnlab.config import RunConfig
from rnnlab.errors import RnnlabError
from rnnlab.jobs.slots import SLOTS, ComputeSlots
from rnnlab.jobs.worker import job_main, read_weights
from rnnlab.learn.history import History
from rnnlab.learn.models import SequenceModel, build_model
from rnnlab.learn.trainer import Progress, Snapshot
from rnnlab.series import data

QUEUED_AFTER = 1.0  # seconds without a slot before a run says it is queued
Curve = tuple[np.ndarray, np.ndarray]  # (steps, values)
ACTIVE = ("starting", "running", "queued")  # phases in which a run computes (or is about to)

LOG = logging.getLogger("rnnlab.jobs")  # one line per job start and end, with the live count, for admins
_live: set[LiveRun] = set()
_live_lock = threading.Lock()
_context_lock = threading.Lock()
_context: multiprocessing.context.BaseContext | None = None


def jobs_context() -> multiprocessing.context.BaseContext:
    """Jobs fork from a fork server that imported torch and trained a few steps once: a new job
    starts in milliseconds instead of paying seconds of imports and lazy initialisation."""
    global _context
    with _context_lock:
        if _context is None:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(["rnnlab.jobs.warm"])
            _context = context
        return _context


_launching = threading.local()


def _job_preparation_data(name: str) -> dict:
    """multiprocessing's launch data, minus the parent's __main__ when a job is being launched.

    A job needs nothing from the server's __main__ (streamlit's command line, or the app script
    itself while it runs), and re-importing it in every job would cost time or fail."""
    data = _original_preparation_data(name)
    if getattr(_launching, "job", False):
        data.pop("init_main_from_path", None)
        data.pop("init_main_from_name", None)
    return data


_original_preparation_data = multiprocessing.spawn.get_preparation_data
multiprocessing.spawn.get_preparation_data = _job_preparation_data


@contextmanager
def _main_hidden():
    """Within this block, this thread's job launches leave __main__ alone (see _job_preparation_data)."""
    _launching.job = True
    try:
        yield
    finally:
        _launching.job = False


def live_jobs() -> int:
    """How many jobs are alive in this server (tests count them)."""
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
    """A run of one config in its own process. Control methods are safe from any thread."""

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
        self.number = 0  # the order in its session (set by the session's workspace)
        self.history = History()
        self._frame = frame
        self._initial = (weights, paused, speed)
        self._slots = slots
        self._lock = threading.Lock()
        self._send_lock = threading.Lock()
        self._stop = threading.Event()
        self._paused = paused
        self._pending_steps = 0
        self._holding = False  # a slot is granted and its chunk not back yet
        self._phase = "starting"
        self._message = ""
        self._last: Progress | None = None
        self._snapshot: Snapshot | None = None
        self._version = 0
        self._rate_marks: deque[tuple[float, int]] = deque(maxlen=64)
        self._queued_since: float | None = None
        self._weights: dict | None = weights
        self._weights_reply = threading.Condition(self._lock)
        self._weights_asked = 0  # id of the latest request for weights
        self._weights_id = 0  # id of the request the held weights answer (or the end of the job)
        self._ended = False
        self._prepared: data.Prepared | None = None
        self._conn = None
        self._process = None
        self._watcher = threading.Thread(target=self._watch, name="rnnlab-job-watcher", daemon=True)

    # --- control ----------------------------------------------------------------
    def start(self) -> LiveRun:
        """Return at once: the job process is launched by the watcher thread, so a click never waits for it."""
        with _live_lock:
            _live.add(self)
            count = len(_live)
        self._watcher.start()
        LOG.info("job started: %s (%d live)", self.name, count)
        return self

    def _launch(self) -> None:
        weights, paused, speed = self._initial
        ours, theirs = jobs_context().Pipe()
        process = jobs_context().Process(
            target=job_main, args=(theirs, self.config.to_json(), self._frame, weights, paused, speed),
            name="rnnlab-job", daemon=True)
        with _context_lock, _main_hidden():
            process.start()  # waits for the fork server, which warms up once when the server starts
        theirs.close()
        with self._send_lock:
            self._conn, self._process = ours, process
        if self._stop.is_set():
            self._send(("stop",))

    def pause(self) -> None:
        with self._lock:
            self._paused, self._pending_steps = True, 0
            if not self._holding and self._phase in ACTIVE:
                self._phase = "paused"
        self._send(("pause",))

    def resume(self) -> None:
        with self._lock:
            self._paused = False
            if self._phase == "paused":
                self._phase = "running"
        self._send(("resume",))

    def step_once(self) -> None:
        """One optimisation step while paused (pauses first if running)."""
        with self._lock:
            self._paused = True
            self._pending_steps += 1
        self._send(("step", 1))

    def set_lr(self, lr: float) -> None:
        self._send(("lr", float(lr)))

    def set_speed(self, steps_per_s: float | None) -> None:
        """None trains as fast as possible; a number paces the run for a class to watch."""
        self._send(("speed", steps_per_s))

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the job and wait for it; the history so far is kept."""
        self._stop.set()
        self._send(("stop",))
        if self._watcher.is_alive() and threading.current_thread() is not self._watcher:
            self._watcher.join(timeout)
        if self._process is not None and self._process.is_alive():
            self._process.terminate()  # it did not answer in time

    @property
    def alive(self) -> bool:
        return self._watcher.is_alive()

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
            # Validation is measured every few dozen steps: a quarter of the points draws the same curve.
            return self.history.sample("loss", max_points), self.history.sample("val_loss", max(50, max_points // 4))

    def history_frame(self) -> pd.DataFrame:
        with self._lock:
            return self.history.to_frame()

    @property
    def prepared(self) -> data.Prepared:
        """The run's series, split and scaled as its job has it (rebuilt here: cheap and deterministic)."""
        if self._prepared is None:
            frame = self._frame if self._frame is not None else data.make_series(self.config.data)
            self._prepared = data.prepare(self.config, frame)
        return self._prepared

    def model_copy(self, timeout: float = 10.0) -> SequenceModel | None:
        """The run's current weights in a fresh model (asked of the job between two steps)."""
        with self._lock:
            self._weights_asked += 1
            asked = self._weights_asked
        if self.alive:
            self._send(("weights", asked))
            with self._lock:
                # Wait for this request's answer (a late answer to an older one would be stale).
                self._weights_reply.wait_for(lambda: self._weights_id >= asked or self._ended, timeout)
        with self._lock:
            weights = self._weights
        if weights is None:
            return None
        model = build_model(self.config, self.prepared.input_size)
        model.load_state_dict(weights)
        return model

    # --- the watcher thread: reads the job's messages ---------------------------
    def _watch(self) -> None:
        try:
            self._launch()
            while True:
                try:
                    message = self._conn.recv()
                except (EOFError, OSError):
                    if self._phase in ACTIVE + ("paused",):
                        self._set_phase("error" if not self._stop.is_set() else "stopped",
                                        "The training process stopped unexpectedly." if not self._stop.is_set()
                                        else f"Stopped at step {len(self.history):,}.")
                    break
                if not self._handle(message):
                    break
        except RnnlabError as exc:
            self._set_phase("error", str(exc))
        except Exception as exc:  # a bug here: stop the job and say so rather than leave it orphaned
            LOG.exception("watcher failed: %s", self.name)
            self._set_phase("error", f"The run's monitor failed ({type(exc).__name__}: {exc}).")
            self._send(("stop",))
        finally:
            self._release()
            with self._lock:
                self._ended = True
                self._weights_reply.notify_all()
            if self._conn is not None:
                self._conn.close()
            if self._process is not None:
                self._process.join(2.0)
            with _live_lock:
                _live.discard(self)
                count = len(_live)
            LOG.info("job ended: %s, %s at step %d (%d live)", self.name, self._phase, len(self.history), count)

    def _handle(self, message: tuple) -> bool:
        """Act on one message; False when the job has ended."""
        kind = message[0]
        if kind == "ready":
            self._set_phase("paused" if self._paused else "running")
        elif kind == "want":
            with self._lock:
                self._queued_since = time.monotonic()
            if self._slots.acquire(self._stop) is None:
                return True  # stopping: the "stop" already sent ends the job
            with self._lock:
                self._holding, self._queued_since = True, None
            self._send(("go",))
        elif kind == "chunk":
            self._release()
            self._publish(*message[1:])
        elif kind == "weights":
            weights = read_weights(message[2])
            with self._lock:
                self._weights, self._weights_id = weights, max(self._weights_id, message[1])
                self._weights_reply.notify_all()
        elif kind == "end":
            _, status, text, weights = message
            weights = read_weights(weights)
            with self._lock:
                self._weights, self._weights_id = weights, self._weights_asked  # the last word on weights
                self._weights_reply.notify_all()
            self._set_phase("finished" if status != "stopped" else "stopped", text)
            return False
        elif kind == "error":
            self._set_phase("error", message[1])
            return False
        return True

    def _publish(self, block: np.ndarray, last: Progress | None, snapshot: Snapshot | None) -> None:
        with self._lock:
            if last is None:  # an empty chunk: the job was paused while it waited for its slot
                if self._paused and self._pending_steps == 0 and self._phase in ACTIVE:
                    self._phase = "paused"
                return
            self.history.extend(block)
            if snapshot is not None:
                self._snapshot = snapshot
            self._last = last
            self._version += 1
            self._rate_marks.append((time.monotonic(), last.step))
            if self._paused:
                self._pending_steps = max(0, self._pending_steps - block.shape[1])
                if self._pending_steps == 0 and last.status == "running":
                    self._phase = "paused"

    def _release(self) -> None:
        with self._lock:
            holding, self._holding = self._holding, False
        if holding:
            self._slots.release()

    def _send(self, message: tuple) -> None:
        if self._conn is None:
            return
        with self._send_lock:
            try:
                self._conn.send(message)
            except (OSError, EOFError, BrokenPipeError):
                pass  # the job has ended; its last messages are being read

    def _wall_rate(self) -> float:
        """Steps per wall-clock second over about the last second."""
        if self._phase != "running" and self._last is not None:
            return self._last.step / self._last.elapsed if self._last.elapsed > 0 else 0.0  # the run's average
        if len(self._rate_marks) < 2:
            return 0.0
        now_t, now_step = self._rate_marks[-1]
        then_t, then_step = next((t, n) for t, n in self._rate_marks if now_t - t <= 1.0)
        return (now_step - then_step) / (now_t - then_t) if now_t > then_t else 0.0

    def _set_phase(self, phase: str, message: str | None = None) -> None:
        with self._lock:
            self._phase = phase
            if message is not None:
                self._message = message
