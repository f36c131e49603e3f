"""A training job in its own process: it steps a Trainer and talks to the server over one pipe.

Small recurrent models spend most of a step in Python, holding the GIL; a job thread inside
the server would fight the page redraws for it (DESIGN.md). In its own process a job has a
core to itself. The messages are the typed ones of rnnlab.jobs.messages; the job owns its
pause and step budget and reports them (State) whenever they change."""

from __future__ import annotations

import io
import time
from multiprocessing.connection import Connection

import pandas as pd
import torch

from rnnlab.config import RunConfig
from rnnlab.errors import RnnlabError
from rnnlab.jobs.context import lower_priority
from rnnlab.jobs.messages import (
    AskWeights,
    Chunk,
    End,
    Failed,
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
from rnnlab.learn.history import block_of
from rnnlab.learn.trainer import Trainer

CHUNK_SECONDS = 0.05  # a job reports its steps this often, and gives its slot back this often when others wait
SNAPSHOT_SECONDS = 0.25  # how often the current window is captured (the live feed shows one a second)


class _Job:
    def __init__(self, conn: Connection, trainer: Trainer, paused: bool, speed: float | None,
                 weights_every: float | None) -> None:
        self.conn, self.trainer = conn, trainer
        self.state = State(paused)
        self.reported = self.state
        self.speed = speed
        self.weights_every, self.weights_at = weights_every, time.monotonic()
        self.stopping = False
        self.snapshot_at = 0.0
        self.next_at = 0.0  # when the next paced step is due
        self.started = False  # the first chunk is done (one step, at the fork server's priority)

    @property
    def idle(self) -> bool:
        return self.state.phase == "paused"

    def handle(self, message: object) -> None:
        match message:
            case Pause():
                self.state = State(True)
            case Resume():
                self.state = State(False)
            case Step(n):
                self.state = State(True, self.state.budget + n)
            case SetLr(lr):
                self.trainer.set_lr(lr)
            case SetSpeed(steps_per_s):
                self.speed = steps_per_s
            case AskWeights(request):
                self.conn.send(Weights(request, weights_bytes(self.trainer.model)))
            case Stop():
                self.stopping = True
            case _:
                raise TypeError(f"unexpected message from the server: {message!r}")
        self.report()

    def report(self, chunk: Chunk | None = None) -> None:
        """Tell the server the state (with a chunk, or alone when a control changed it); weights at a pause."""
        changed = self.state != self.reported
        if chunk is not None:
            self.conn.send(chunk)
        elif changed:
            self.conn.send(self.state)
        if changed and self.idle and self.trainer.step > 0:
            self.conn.send(Weights(0, weights_bytes(self.trainer.model), "pause"))
        self.reported = self.state

    def drain(self, timeout: float = 0.0) -> None:
        """Handle every command waiting (or arriving within timeout)."""
        while not self.stopping and self.conn.poll(timeout):
            try:
                self.handle(self.conn.recv())
            except EOFError:  # the server is gone
                self.stopping = True
            timeout = 0.0

    def wait_for_slot(self) -> float | None:
        """Ask for a compute slot; the turn's length in seconds, or None if the job is stopping meanwhile."""
        self.conn.send(Want())
        while not self.stopping:
            try:
                message = self.conn.recv()
            except EOFError:
                self.stopping = True
                break
            if isinstance(message, Go):
                return message.turn
            self.handle(message)
        return None

    def run(self) -> None:
        while not self.stopping and not self.trainer.finished:
            self.drain()
            if self.idle:
                self.drain(timeout=0.5)
                continue
            turn = self.wait_for_slot()
            if turn is None:
                break
            self.take_turn(turn)
            if self.speed and not self.stopping:
                # Paced to a clock, not a sleep after each step, so 50 steps/s means 50 whatever a step costs.
                self.next_at = max(self.next_at + 1.0 / self.speed, time.monotonic() - 1.0 / self.speed)
                self.drain(timeout=max(0.0, self.next_at - time.monotonic()))

    def take_turn(self, seconds: float) -> None:
        """Chunks of steps, each reported as it is done, until the turn is over; the last gives the slot back."""
        ends = time.monotonic() + seconds
        while not self.stopping:  # a stopped job's slot is released by the server when its pipe closes
            if self.idle:  # paused while it waited for the slot or between chunks: give the slot straight back
                self.report(Chunk(block_of([]), None, None, self.state))
                return
            released = self.chunk(ends)
            self.periodic_weights()
            if not self.started:
                # The first step is on screen as soon as it can be; then the job gives way to the server
                # and the browsers (the fork server keeps the normal priority for that first moment).
                self.started = True
                lower_priority()
            if released:
                return
            self.drain()

    def chunk(self, turn_ends: float = 0.0) -> bool:
        """About CHUNK_SECONDS of steps, reported; True when the report gave the slot back (the turn is over)."""
        trainer, done = self.trainer, []
        if self.state.paused or time.monotonic() - self.snapshot_at > SNAPSHOT_SECONDS:
            self.snapshot_at = time.monotonic()
            trainer.request_snapshot()
        deadline = time.monotonic() + (CHUNK_SECONDS if self.started else 0.0)
        limit = self.state.budget if self.state.paused else None
        while not trainer.finished:
            done.append(next(trainer))
            if limit is not None and len(done) >= limit:
                break
            if self.speed or time.monotonic() >= deadline or self.conn.poll():
                break  # a command waits (Pause, say): answer it before the next step
        if self.state.paused:
            self.state = State(True, max(0, self.state.budget - len(done)))
        snapshot = next((p.snapshot for p in reversed(done) if p.snapshot is not None), None)
        # Paced jobs sleep between steps: they never keep a slot they are not using.
        turn_over = time.monotonic() + CHUNK_SECONDS / 2 >= turn_ends
        releases = bool(self.speed) or trainer.finished or self.idle or turn_over
        self.report(Chunk(block_of(done), done[-1]._replace(snapshot=None), snapshot, self.state, releases))
        return releases

    def periodic_weights(self) -> None:
        if self.weights_every and time.monotonic() - self.weights_at >= self.weights_every:
            self.weights_at = time.monotonic()
            self.conn.send(Weights(0, weights_bytes(self.trainer.model), "periodic"))


def job_main(conn: Connection, config_json: str, frame: pd.DataFrame | None, weights: dict | None,
             paused: bool, speed: float | None, weights_every: float | None = None, start_step: int = 0) -> None:
    """The job process: build the trainer, then train as the server says until done or stopped.
    start_step: a run resumed from weights saved at that step goes on counting from there."""
    torch.set_num_threads(1)  # one core per job (DESIGN.md: more threads fight each other and the browser)
    try:
        trainer = Trainer(RunConfig.from_json(config_json), frame)
        if weights is not None:
            trainer.model.load_state_dict(weights)
            trainer.reset_checkpoints()
            trainer.step = start_step
        conn.send(Ready(State(paused)))
        job = _Job(conn, trainer, paused, speed, weights_every)
        job.run()
        status = trainer.status if trainer.finished else "stopped"
        message = trainer.message or f"Stopped at step {trainer.step:,}."
        conn.send(End(status, message, weights_bytes(trainer.model)))
    except RnnlabError as exc:
        _send_quietly(conn, Failed(str(exc)))
    except Exception as exc:  # a bug: the server shows a sentence, the log keeps the type
        _send_quietly(conn, Failed(f"Training failed unexpectedly ({type(exc).__name__}: {exc})."))
    finally:
        conn.close()


def weights_bytes(model: torch.nn.Module) -> bytes:
    """A state_dict as bytes: tensors sent as such through a pipe go by shared memory that vanishes
    with the job's process, so a finished job's last weights would be lost on the way."""
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    return buffer.getvalue()


def read_weights(payload: bytes) -> dict[str, torch.Tensor]:
    return torch.load(io.BytesIO(payload), weights_only=True)


def _send_quietly(conn: Connection, message: object) -> None:
    try:
        conn.send(message)
    except (OSError, EOFError):
        pass


def warm_up() -> None:
    """Run a few steps of each cell: the first optimizer.step() imports modules lazily (seconds).
    Imported by the fork server, so that every job forked from it starts warm."""
    for cell in ("rnn", "lstm", "gru"):
        for _ in Trainer(RunConfig.from_flat({"preset": "udacity-sine", "cell": cell, "steps": 1, "length": 200})):
            pass
