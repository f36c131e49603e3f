"""The live runner: one job process per run (rnnlab.jobs.worker), paced and pausable, watched by a thread.

It never calls streamlit: pages read a frozen RunView from it on their own clock. It works the same
from a plain Python process (a script, the command line, pytest): jobs fork from a fork server whose
launcher keeps the host's __main__ out of them (rnnlab.jobs.launcher).

    run = LiveRun(config, observers=[store.on_event]).start()   # returns at once
    run.pause(); run.resume(); run.step_once(); run.set_lr(1e-3); run.set_speed(20.0)
    run.view()            # a RunView: phase, step, losses, message... at one instant
    run.history           # every step so far (History); history_frame() as a DataFrame
    run.model_copy()      # the current weights in a fresh model (asks the job)
    run.stop()            # ends the job, keeps the history; join(timeout) waits for an ending on its own

Observers (constructor `observers=`, or `run.observe(f)` before start) are called on the run's
watcher thread, in order, with one event at a time:
  HistoryBlock(run, block, last)   steps just appended to run.history (block as History.extend takes it;
                                   its val_loss row is NaN except where validation was measured)
  WeightsTaken(run, weights, reason)  a state_dict: "pause" whenever the job comes to a pause, "periodic"
                                   every `weights_every` seconds of training if given, "asked" for
                                   model_copy(), "end" once with the final weights
  RunEnded(run, view)              once, last, however the job ended (finished, stopped, error)
A run store appends each block and saves weights on "pause", "periodic" and "end"; a sweep reads
validation losses from the blocks and calls event.run.stop() to prune (stop() does not wait when
called from the watcher thread). An observer must return quickly and must not call model_copy()
(its answer is read by the same thread); its exceptions are logged, never stop the run.

The job owns its pause and step budget and reports them (rnnlab.jobs.messages.State); a LiveRun
holds only the job's last report, the wait for a compute slot (the server's own fact) and, once the
job is gone, how it ended."""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

from rnnlab.config import RunConfig
from rnnlab.errors import RnnlabError
from rnnlab.jobs.context import FORK_SERVER_UP, jobs_context, start_fork_server  # noqa: F401 (start_fork_server: re-exported)
from rnnlab.jobs.messages import (
    AskWeights,
    Chunk,
    Control,
    End,
    Failed,
    FromJob,
    Go,
    Pause,
    Ready,
    Resume,
    SetLr,
    SetSpeed,
    State,
    Step,
    Stop,
    Want,
    Weights,
)
from rnnlab.jobs.slots import SLOTS, ComputeSlots
from rnnlab.learn.history import History
from rnnlab.learn.progress import Progress, Snapshot
from rnnlab.series import data

if TYPE_CHECKING:
    from rnnlab.learn.models import SequenceModel

TURN_SECONDS = 0.5  # a job's turn on a compute slot when no other job waits for one
# ...and when others wait. Three chunks, not one: 8 students on 2 cores (bench.class_load, without browsers)
# trained 4-12% more steps a second and 0.93 of the bare loop's steps per CPU-second instead of 0.86-0.89
# (fewer hand-offs, each a cold cache and an idle moment); a tab's Step then pauses about 0.55 s, not 0.3 s.
SHARED_TURN_SECONDS = 0.15
QUEUED_AFTER = 1.0  # seconds without a slot before a run says it is queued
Curve = tuple[np.ndarray, np.ndarray]  # (steps, values)

LOG = logging.getLogger("rnnlab.jobs")  # one line per job start and end, with the live count, for admins
_live: set[LiveRun] = set()
_live_lock = threading.Lock()


def _job_main(*args) -> None:
    """The job process's entry. PyTorch is imported in the job (the fork server has it), not here: a server
    starts a run, and shows its first steps, before its own import of PyTorch is done."""
    from rnnlab.jobs.worker import job_main

    job_main(*args)


def _read_weights(payload: bytes) -> dict:
    from rnnlab.jobs.worker import read_weights

    return read_weights(payload)


def starting() -> bool:
    """Whether a run is alive without its first steps yet (the server's warm-up waits for them)."""
    with _live_lock:
        return any(run.alive and not len(run.history) for run in _live)


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


@dataclass(frozen=True)
class HistoryBlock:
    """Steps just added to run.history: block as History.extend takes it, last the block's last step."""

    run: LiveRun
    block: np.ndarray
    last: Progress


@dataclass(frozen=True)
class WeightsTaken:
    """The job's weights arrived: asked (model_copy), at a pause, on the job's clock (weights_every), at the end."""

    run: LiveRun
    weights: dict
    reason: Literal["asked", "pause", "periodic", "end"]


@dataclass(frozen=True)
class RunEnded:
    """The job is gone (finished, stopped, or failed); view is the run's final view."""

    run: LiveRun
    view: RunView


RunEvent = HistoryBlock | WeightsTaken | RunEnded
Observer = Callable[[RunEvent], None]


class LiveRun:
    """A run of one config in its own process. Control methods are safe from any thread (see the module docstring)."""

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
        observers: Iterable[Observer] = (),
        weights_every: float | None = None,
        start_step: int = 0,
    ) -> None:
        self.config = config
        self.name = name
        self.number = 0  # the order in its session (set by the session's workspace)
        self.history = History()
        self._frame = frame  # an upload; None: the job makes the series from the config
        self._series: pd.DataFrame | None = None
        self._initial = (weights, paused, speed, weights_every, start_step)  # start_step: a resumed run's
        self._slots = slots
        self._observers = list(observers)
        self._lock = threading.Lock()
        self._send_lock = threading.Lock()
        self._unsent: list[Control] = []  # controls given before the job's pipe exists
        self._stop = threading.Event()  # stop() was called
        self._quit = threading.Event()  # stop() was called or the job is gone: the slot keeper gives up
        self._wanted = threading.Event()  # the job asked for a slot
        self._holding = False  # a slot is granted and its chunk not back yet
        self._queued_since: float | None = None
        self._state: State | None = None  # as the job last reported it; None until it is ready
        self._outcome: tuple[str, str] | None = None  # (phase, message) once the job is gone
        self._last: Progress | None = None
        self._snapshot: Snapshot | None = None
        self._version = 0
        self._rate_marks: deque[tuple[float, int]] = deque(maxlen=64)
        self._weights: dict | None = weights
        self._weights_reply = threading.Condition(self._lock)
        self._weights_asked = 0  # id of the latest request for weights
        self._weights_id = 0  # id of the request the held weights answer (or the end of the job)
        self._ended = False
        self._prepared: data.Prepared | None = None
        self._conn = None
        self._process = None
        self._watcher = threading.Thread(target=self._watch, name="rnnlab-job-watcher", daemon=True)
        self._keeper = threading.Thread(target=self._keep_slots, name="rnnlab-job-slots", daemon=True)

    # --- control ----------------------------------------------------------------
    def start(self) -> LiveRun:
        """Return at once: the job process is launched by the watcher thread, so a click never waits for it."""
        with _live_lock:
            _live.add(self)
            count = len(_live)
        self._watcher.start()
        LOG.info("job started: %s (%d live)", self.name, count)
        return self

    def observe(self, observer: Observer) -> None:
        """Call observer(event) on the watcher thread for every later HistoryBlock, WeightsTaken and RunEnded."""
        with self._lock:
            self._observers.append(observer)

    def pause(self) -> None:
        self._send(Pause())

    def resume(self) -> None:
        self._send(Resume())

    def step_once(self) -> None:
        """One optimisation step while paused (pauses first if running)."""
        self._send(Step(1))

    def set_lr(self, lr: float) -> None:
        self._send(SetLr(float(lr)))

    def set_speed(self, steps_per_s: float | None) -> None:
        """None trains as fast as possible; a number paces the run for a class to watch."""
        self._send(SetSpeed(steps_per_s))

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the job and wait for it; the history so far is kept."""
        self._stop.set()
        self._quit.set()
        self._send(Stop())
        if threading.current_thread() is self._watcher:
            return  # called by an observer: the job ends on its own, and this very thread reads its End
        if self._watcher.is_alive():
            self._watcher.join(timeout)
        if self._process is not None and self._process.is_alive():
            self._process.terminate()  # it did not answer in time

    def join(self, timeout: float | None = None) -> RunView:
        """Wait until the job has ended (or timeout passes); the view then."""
        if self._watcher.is_alive() and threading.current_thread() is not self._watcher:
            self._watcher.join(timeout)
        return self.view()

    @property
    def alive(self) -> bool:
        return self._watcher.is_alive()

    @property
    def paused(self) -> bool:
        """Pause was pressed (as the job reports it; as asked at the start until the job is ready)."""
        with self._lock:
            return self._state.paused if self._state is not None else self._initial[1]

    # --- reading ----------------------------------------------------------------
    def view(self) -> RunView:
        with self._lock:
            last = self._last
            # Jobs take turns on the slots every few dozen milliseconds; only a long wait is "queued".
            queued = self._queued_since is not None and time.monotonic() - self._queued_since > QUEUED_AFTER
            if self._outcome is not None:
                phase, message = self._outcome
            else:
                phase, message = ("starting" if self._state is None else self._state.phase), ""
            queued = queued and phase == "running"
            return RunView(
                phase="queued" if queued else phase,
                step=last.step if last else 0,
                steps=self.config.train.steps,
                loss=last.loss if last else None,
                val_loss=last.val_loss if last else None,
                lr=last.lr if last else self.config.train.lr,
                steps_per_s=self._wall_rate(phase),
                message=message,
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
    def frame(self) -> pd.DataFrame:
        """The run's series as it was chosen (no PyTorch: the live charts read its index)."""
        if self._series is None:
            self._series = self._frame if self._frame is not None else data.make_series(self.config.data)
        return self._series

    @property
    def prepared(self) -> data.Prepared:
        """The run's series, split and scaled as its job has it (rebuilt here: cheap and deterministic)."""
        if self._prepared is None:
            self._prepared = data.prepare(self.config, self.frame)
        return self._prepared

    def model_copy(self, timeout: float = 10.0) -> SequenceModel | None:
        """The run's current weights in a fresh model (asked of the job between two steps).
        Not from an observer: the answer is read by the thread that calls observers."""
        with self._lock:
            self._weights_asked += 1
            asked = self._weights_asked
        if self.alive:
            self._send(AskWeights(asked))
            with self._lock:
                # Wait for this request's answer (a late answer to an older one would be stale).
                self._weights_reply.wait_for(lambda: self._weights_id >= asked or self._ended, timeout)
        with self._lock:
            weights = self._weights
        if weights is None:
            return None
        from rnnlab.learn.models import build_model

        model = build_model(self.config, self.prepared.input_size)
        model.load_state_dict(weights)
        return model

    # --- the watcher thread: launches the job and reads its messages ----------------
    def _launch(self) -> None:
        weights, paused, speed, weights_every, start_step = self._initial
        ours, theirs = jobs_context().Pipe()
        process = jobs_context().Process(
            target=_job_main, args=(theirs, self.config.to_json(), self._frame, weights, paused, speed, weights_every,
                  start_step),
            name="rnnlab-job", daemon=True)
        process.start()  # waits for the fork server, which warms up once when the server starts
        FORK_SERVER_UP.set()
        theirs.close()
        with self._send_lock:
            self._conn, self._process = ours, process
            unsent, self._unsent = self._unsent, []
        for message in unsent:
            self._send(message)
        self._keeper.start()

    def _watch(self) -> None:
        try:
            self._launch()
            while True:
                try:
                    message = self._conn.recv()
                except (EOFError, OSError):
                    stopped = self._stop.is_set()
                    self._end("stopped" if stopped else "error",
                              f"Stopped at step {len(self.history):,}." if stopped
                              else "The training process stopped unexpectedly.")
                    break
                if not self._handle(message):
                    break
        except RnnlabError as exc:
            self._end("error", str(exc))
        except Exception as exc:  # a bug here: stop the job and say so rather than leave it orphaned
            LOG.exception("watcher failed: %s", self.name)
            self._end("error", f"The run's monitor failed ({type(exc).__name__}: {exc}).")
            self._send(Stop())
        finally:
            with self._lock:
                self._ended = True
                self._weights_reply.notify_all()
            self._quit.set()
            self._wanted.set()  # wakes the slot keeper, which sees _quit and leaves
            self._release()
            if self._conn is not None:
                self._conn.close()
            if self._process is not None:
                self._process.join(2.0)
            with _live_lock:
                _live.discard(self)
                count = len(_live)
            view = self.view()
            LOG.info("job ended: %s, %s at step %d (%d live)%s", self.name, view.phase, len(self.history), count,
                     f": {view.message}" if view.phase == "error" else "")  # why, in the server's log
            self._notify(RunEnded(self, view))

    def _handle(self, message: FromJob) -> bool:
        """Act on one message; False when the job has ended."""
        match message:
            case Ready(state) | (State() as state):
                with self._lock:
                    self._state = state
            case Want():
                self._wanted.set()
            case Chunk(block, last, snapshot, state, releases):
                if releases:
                    self._release()
                self._publish(block, last, snapshot, state)
            case Weights(request, payload, reason):
                self._take_weights(_read_weights(payload), request, reason)
            case End(status, text, payload):
                with self._lock:
                    asked = self._weights_asked  # the last word on weights answers every request
                self._take_weights(_read_weights(payload), asked, "end")
                self._end("finished" if status != "stopped" else "stopped", text)
                return False
            case Failed(text):
                self._end("error", text)
                return False
            case _:
                raise TypeError(f"unexpected message from the job: {message!r}")
        return True

    def _publish(self, block: np.ndarray, last: Progress | None, snapshot: Snapshot | None, state: State) -> None:
        with self._lock:
            self._state = state
            if last is None:  # an empty chunk: the job was paused while it waited for its slot
                return
            self.history.extend(block)
            if snapshot is not None:
                self._snapshot = snapshot
            self._last = last
            self._version += 1
            self._rate_marks.append((time.monotonic(), last.step))
        self._notify(HistoryBlock(self, block, last))

    def _take_weights(self, weights: dict, request: int, reason: str) -> None:
        with self._lock:
            self._weights, self._weights_id = weights, max(self._weights_id, request)
            self._weights_reply.notify_all()
        self._notify(WeightsTaken(self, weights, reason))

    def _end(self, phase: str, message: str) -> None:
        with self._lock:
            if self._outcome is None:  # the first word on how it ended stands
                self._outcome = (phase, message)

    def _notify(self, event: RunEvent) -> None:
        with self._lock:
            observers = list(self._observers)
        for observer in observers:
            try:
                observer(event)
            except Exception:  # an observer's fault (a full disk, say) never stops the training
                LOG.exception("observer failed on %s: %s", type(event).__name__, self.name)

    # --- the slot keeper thread: asks for a compute slot whenever the job wants one -----
    def _keep_slots(self) -> None:
        """A thread of its own, so that the watcher keeps reading the job (a pause, say) while it waits its turn."""
        while True:
            self._wanted.wait()
            self._wanted.clear()
            if self._quit.is_set():
                return
            with self._lock:
                self._queued_since = time.monotonic()
            granted = self._slots.acquire(self._quit) is not None
            with self._lock:
                self._queued_since = None
                self._holding = granted and not self._ended
            if not granted:
                return
            if not self._holding:  # the job ended while this thread waited: the watcher released nothing
                self._slots.release()
                return
            # A long turn only when nobody else waits (a job that starts waiting meanwhile waits at most TURN_SECONDS).
            self._send(Go(TURN_SECONDS if self._slots.waiting == 0 else SHARED_TURN_SECONDS))

    def _release(self) -> None:
        with self._lock:
            holding, self._holding = self._holding, False
        if holding:
            self._slots.release()

    def _send(self, message: Control | Go) -> None:
        with self._send_lock:
            if self._conn is None:
                self._unsent.append(message)  # sent by _launch once the pipe exists
                return
            try:
                self._conn.send(message)
            except (OSError, EOFError, BrokenPipeError):
                pass  # the job has ended; its last messages are being read

    def _wall_rate(self, phase: str) -> float:
        """Steps per wall-clock second over about the last second."""
        if phase != "running" and self._last is not None:
            return self._last.step / self._last.elapsed if self._last.elapsed > 0 else 0.0  # the run's average
        if len(self._rate_marks) < 2:
            return 0.0
        now_t, now_step = self._rate_marks[-1]
        then_t, then_step = next((t, n) for t, n in self._rate_marks if now_t - t <= 1.0)
        return (now_step - then_step) / (now_t - then_t) if now_t > then_t else 0.0
