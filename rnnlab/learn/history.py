"""A run's history: one row per step, kept in growable numpy columns, downsampled for charts."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:  # a type only: reading and writing histories (the run store) need no PyTorch
    from rnnlab.learn.progress import Progress

COLUMNS = ("step", "epoch", "loss", "val_loss", "grad_norm", "lr", "elapsed")


def block_of(done: list[Progress]) -> np.ndarray:
    """(len(COLUMNS), k) array of k steps in column order; validation loss only where it was measured."""
    rows = [(p.step, p.epoch, p.loss, p.val_loss if p.validated and p.val_loss is not None else math.nan,
             p.grad_norm, p.lr, p.elapsed) for p in done]
    return np.array(rows, dtype=float).reshape(len(done), len(COLUMNS)).T


def lr_changes(frame: pd.DataFrame, initial: float) -> tuple[tuple[int, float], ...]:
    """((step, lr), ...) where a step of `frame` (History.to_frame()) used another learning rate than the
    step before it, the first step compared with `initial`: a run's live changes, as RunConfig.lr_schedule."""
    steps, rates = frame["step"].to_numpy(), frame["lr"].to_numpy(dtype=float)
    changed = rates != np.concatenate([[initial], rates[:-1]])
    return tuple((int(step), float(lr)) for step, lr in zip(steps[changed], rates[changed], strict=True))


class History:
    """Append Progress records; read columns, a DataFrame or a chart-sized sample."""

    def __init__(self, capacity: int = 1024) -> None:
        self._data = np.full((len(COLUMNS), capacity), np.nan)
        self._n = 0

    def __len__(self) -> int:
        return self._n

    def append(self, p: Progress) -> None:
        self.extend(block_of([p]))

    def extend(self, block: np.ndarray) -> None:
        """Append k steps at once: a (len(COLUMNS), k) array in column order (as a job sends them)."""
        k = block.shape[1]
        if self._n + k > self._data.shape[1]:
            grown = np.full((len(COLUMNS), max(2 * self._data.shape[1], self._n + k)), np.nan)
            grown[:, : self._n] = self._data[:, : self._n]
            self._data = grown
        self._data[:, self._n : self._n + k] = block
        self._n += k

    def column(self, name: str) -> np.ndarray:
        """A read-only view of one column."""
        view = self._data[COLUMNS.index(name), : self._n]
        view.flags.writeable = False
        return view

    def to_frame(self) -> pd.DataFrame:
        """One row per step, validation loss only where it was computed (as history.csv holds it)."""
        frame = pd.DataFrame({name: self._data[i, : self._n] for i, name in enumerate(COLUMNS)})
        for name in ("step", "epoch"):
            frame[name] = frame[name].astype(np.int64)
        return frame

    def sample(self, name: str, max_points: int = 2000) -> tuple[np.ndarray, np.ndarray]:
        """(steps, values) of one column, at most max_points long, so a chart costs the same at any step."""
        steps, values = self.column("step"), self.column(name)
        if name == "val_loss":
            keep = ~np.isnan(values)
            steps, values = steps[keep], values[keep]
        return downsample(steps, values, max_points)


def downsample(x: np.ndarray, y: np.ndarray, max_points: int) -> tuple[np.ndarray, np.ndarray]:
    """Bucket means: keeps the curve's level without aliasing. The last point is always kept exactly."""
    n = len(x)
    if n <= max_points:
        return np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    buckets = max_points - 1
    edges = np.linspace(0, n - 1, buckets + 1).astype(np.int64)
    counts = np.diff(edges)
    sums_x = np.add.reduceat(np.asarray(x[:-1], dtype=float), edges[:-1])
    sums_y = np.add.reduceat(np.asarray(y[:-1], dtype=float), edges[:-1])
    xs = np.append(sums_x / counts, x[-1])
    ys = np.append(sums_y / counts, y[-1])
    return xs, ys
