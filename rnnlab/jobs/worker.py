"""A training job in its own process: it steps a Trainer and talks to the server over one pipe.

Small recurrent models spend most of a step in Python, holding the GIL; a job thread inside
the server would fight the page redraws for it (DESIGN.md). In its own process a job has a
core to itself. The protocol is a few tuples, all sent between two optimisation steps:

  server -> job: ("go",) ("pause",) ("resume",) ("step", n) ("lr", x) ("speed", s) ("weights", id) ("stop",)
  job -> server: ("ready",) ("want",) ("chunk", block, last, snapshot) ("weights", id, state_dict bytes)
                 ("end", status, message, state_dict bytes) ("error", message)

A job asks for a compute slot ("want") before each chunk of steps and gives it back by
sending the chunk, so the server's cap on computing jobs holds across processes."""

from __future__ import annotations

import io
import time
from multiprocessing.connection import Connection

import pandas as pd
import torch

from rnnlab.config import RunConfig
from rnnlab.errors import RnnlabError
from rnnlab.learn.history import block_of
from rnnlab.learn.trainer import Trainer

CHUNK_SECONDS = 0.05  # a job gives its slot back this often, so queued jobs take turns
SNAPSHOT_SECONDS = 0.1  # how often the current window is captured for the plot
class _Job:
    def __init__(self, conn: Connection, trainer: Trainer, paused: bool, speed: float | None) -> None:
        self.conn, self.trainer = conn, trainer
        self.paused, self.speed, self.budget = paused, speed, 0
        self.stopping = False
        self.snapshot_at = 0.0
        self.next_at = 0.0  # when the next paced step is due

    def handle(self, message: tuple) -> None:
        kind = message[0]
        if kind == "pause":
            self.paused, self.budget = True, 0
        elif kind == "resume":
            self.paused = False
        elif kind == "step":
            self.paused, self.budget = True, self.budget + int(message[1])
        elif kind == "lr":
            self.trainer.set_lr(float(message[1]))
        elif kind == "speed":
            self.speed = message[1]
        elif kind == "weights":
            self.conn.send(("weights", message[1], weights_bytes(self.trainer.model)))
        elif kind == "stop":
            self.stopping = True

    def drain(self, timeout: float = 0.0) -> None:
        """Handle every command waiting (or arriving within timeout)."""
        while not self.stopping and self.conn.poll(timeout):
            try:
                self.handle(self.conn.recv())
            except EOFError:  # the server is gone
                self.stopping = True
            timeout = 0.0

    def wait_for_slot(self) -> bool:
        self.conn.send(("want",))
        while not self.stopping:
            try:
                message = self.conn.recv()
            except EOFError:
                self.stopping = True
                break
            if message[0] == "go":
                return True
            self.handle(message)
        return False

    def run(self) -> None:
        while not self.stopping and not self.trainer.finished:
            self.drain()
            if self.paused and self.budget == 0:
                self.drain(timeout=0.5)
                continue
            if not self.wait_for_slot():
                break
            if self.paused and self.budget == 0:  # paused while it waited: give the slot straight back
                self.conn.send(("chunk", block_of([]), None, None))
                continue
            self.chunk()
            if self.speed and not self.stopping:
                # Paced to a clock, not a sleep after each step, so 50 steps/s means 50 whatever a step costs.
                self.next_at = max(self.next_at + 1.0 / self.speed, time.monotonic() - 1.0 / self.speed)
                self.drain(timeout=max(0.0, self.next_at - time.monotonic()))

    def chunk(self) -> None:
        trainer, done = self.trainer, []
        if self.paused or time.monotonic() - self.snapshot_at > SNAPSHOT_SECONDS:
            self.snapshot_at = time.monotonic()
            trainer.request_snapshot()
        deadline = time.monotonic() + CHUNK_SECONDS
        limit = self.budget if self.paused else None
        while not trainer.finished:
            done.append(next(trainer))
            if limit is not None and len(done) >= limit:
                break
            if self.speed or time.monotonic() >= deadline or self.conn.poll():
                break  # a command waits (Pause, say): answer it before the next step
        if self.paused:
            self.budget = max(0, self.budget - len(done))
        snapshot = next((p.snapshot for p in reversed(done) if p.snapshot is not None), None)
        last = done[-1]._replace(snapshot=None)
        self.conn.send(("chunk", block_of(done), last, snapshot))


def job_main(conn: Connection, config_json: str, frame: pd.DataFrame | None, weights: dict | None,
             paused: bool, speed: float | None) -> None:
    """The job process: build the trainer, then train as the server says until done or stopped."""
    torch.set_num_threads(1)  # one core per job (DESIGN.md: more threads fight each other and the browser)
    try:
        trainer = Trainer(RunConfig.from_json(config_json), frame)
        if weights is not None:
            trainer.model.load_state_dict(weights)
            trainer.reset_checkpoints()
        conn.send(("ready",))
        job = _Job(conn, trainer, paused, speed)
        job.run()
        status = trainer.status if trainer.finished else "stopped"
        message = trainer.message or f"Stopped at step {trainer.step:,}."
        conn.send(("end", status, message, weights_bytes(trainer.model)))
    except RnnlabError as exc:
        _send_quietly(conn, ("error", str(exc)))
    except Exception as exc:  # a bug: the server shows a sentence, the log keeps the type
        _send_quietly(conn, ("error", f"Training failed unexpectedly ({type(exc).__name__}: {exc})."))
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


def _send_quietly(conn: Connection, message: tuple) -> None:
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
