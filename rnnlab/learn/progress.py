"""What a training step reports (Progress) and the window it shows (Snapshot): plain numpy, no PyTorch.

The server reads these from every job's messages; keeping them apart from the trainer lets it start a run
and show its first steps before (or without) importing PyTorch, which takes seconds on a cold server."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

STATUSES = ("running", "done", "diverged", "early_stopped")


@dataclass(frozen=True)
class Snapshot:
    """One window in original units: the input's target feature, the true next values and the prediction."""

    input_time: np.ndarray  # (T,) row numbers of the inputs
    inputs: np.ndarray  # (T,)
    target_time: np.ndarray  # (T,) for seq2seq, (horizon,) for the last-step head
    targets: np.ndarray
    predictions: np.ndarray


class Progress(NamedTuple):
    """What happened at one optimisation step (immutable; a NamedTuple because one is built per step,
    and a frozen dataclass costs several microseconds more to build)."""

    step: int
    epoch: int
    loss: float
    val_loss: float | None  # the latest validation loss (None before the first check)
    validated: bool  # True when val_loss was computed at this step
    grad_norm: float  # NaN on steps where it was not measured (see GRAD_NORM_EVERY)
    lr: float
    elapsed: float  # seconds spent computing in the trainer so far
    steps_per_s: float  # recent compute rate
    status: str  # one of STATUSES
    message: str = ""
    snapshot: Snapshot | None = None

    @property
    def finished(self) -> bool:
        return self.status != "running"
