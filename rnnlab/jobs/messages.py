"""The messages of the pipe between the server and a job process: small frozen classes, matched by type.

Every message is sent between two optimisation steps. A job asks for a compute slot (Want) before each
turn and gives it back with the turn's last chunk, so the server's cap on computing jobs holds across
processes. A turn is one chunk when other jobs wait, longer when none does: a job alone then seldom
stops to ask (a turn per 50 ms chunk cost it 10-20% of its speed, measured against the bare loop).
The job owns its control state (State: pause and step budget) and reports it with Ready, with every
Chunk and whenever a control changes it; the server keeps no copy of its own.

  server -> job: Go(turn)  Pause  Resume  Step(n)  SetLr(lr)  SetSpeed(steps_per_s)  AskWeights(request)  Stop
  job -> server: Ready(state)  State  Want  Chunk(block, last, snapshot, state, releases)
                 Weights(request, payload, reason)  End(status, message, payload)  Failed(message)

Weights travel as torch.save bytes (see worker.weights_bytes)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from rnnlab.learn.progress import Progress, Snapshot

JobPhase = Literal["running", "paused"]


# --- job -> server -----------------------------------------------------------------------------
@dataclass(frozen=True)
class State:
    """The job's control state: paused (Pause was pressed) and the steps still owed to Step presses.

    A paused job with steps owed still computes: its phase is running until the budget is spent."""

    paused: bool
    budget: int = 0

    @property
    def phase(self) -> JobPhase:
        return "paused" if self.paused and self.budget == 0 else "running"


@dataclass(frozen=True)
class Ready:
    """The trainer is built; the job waits for its first slot (or for Resume/Step when paused)."""

    state: State


@dataclass(frozen=True)
class Want:
    """The job asks for a compute slot for its next chunk of steps."""


@dataclass(frozen=True)
class Chunk:
    """Steps done with a slot; the turn's last chunk (releases) gives the slot back. An empty chunk
    (last None) gives it straight back: the job was paused while it waited for it or between chunks."""

    block: np.ndarray  # (len(history.COLUMNS), k), as History.extend takes it
    last: Progress | None  # the chunk's last step, without its snapshot
    snapshot: Snapshot | None  # the latest window captured for the plot, if any
    state: State  # after the chunk, so that the steps and the phase are read together
    releases: bool = True  # the turn is over: the slot goes back to the server


@dataclass(frozen=True)
class Weights:
    """The model's weights: the answer to AskWeights(request), or unasked (request 0) at a pause
    or on the job's clock, for observers that keep them."""

    request: int
    payload: bytes
    reason: Literal["asked", "pause", "periodic"] = "asked"


@dataclass(frozen=True)
class End:
    """The job ends: trained to the end, diverged, early-stopped, or stopped; its last weights."""

    status: str  # the trainer's status, or "stopped"
    message: str
    payload: bytes


@dataclass(frozen=True)
class Failed:
    """The job could not go on; a sentence for the user."""

    message: str


# --- server -> job -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Go:
    """A compute slot is the job's for a turn of about `turn` seconds (at least one chunk), until the
    Chunk that releases it."""

    turn: float = 0.0


@dataclass(frozen=True)
class Pause:
    pass


@dataclass(frozen=True)
class Resume:
    pass


@dataclass(frozen=True)
class Step:
    """n more steps, then pause (pauses first if running)."""

    n: int = 1


@dataclass(frozen=True)
class SetLr:
    lr: float


@dataclass(frozen=True)
class SetSpeed:
    steps_per_s: float | None  # None: as fast as possible


@dataclass(frozen=True)
class AskWeights:
    request: int  # answered by Weights(request, ...), so a reply is never taken for a later request's


@dataclass(frozen=True)
class Stop:
    pass


Control = Pause | Resume | Step | SetLr | SetSpeed | AskWeights | Stop
FromJob = Ready | State | Want | Chunk | Weights | End | Failed
