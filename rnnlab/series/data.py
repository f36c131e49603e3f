"""From a chosen series to training windows: pick or load the series, split it chronologically,
scale it (fitted on the training part only) and cut it into windows. A user's CSV is read by csvfile.

A series is a DataFrame: index named "time", column 0 the target, further columns covariates, float64.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from rnnlab.config import UPLOAD_NAME, DataConfig, RunConfig
from rnnlab.errors import DataError
from rnnlab.series.datasets import DATASETS, load_dataset
from rnnlab.series.generators import GENERATORS

if TYPE_CHECKING:  # PyTorch is imported where a tensor is made: the server shows a series without it
    import torch

__all__ = [
    "DataError", "make_series",
    "Scaler", "SCALINGS", "Prepared", "prepare", "split_bounds", "windows", "rows_needed", "window_count",
]

MIN_POINTS = 3  # below this there is nothing to interpolate, scale or split
SCALINGS = ("none", "standard", "minmax")


# --- choosing the series ----------------------------------------------------------------------

def make_series(data_cfg: DataConfig, upload: pd.DataFrame | None = None) -> pd.DataFrame:
    """The series `data_cfg.data` names: a generator's, a bundled dataset's, or the uploaded one."""
    name = data_cfg.data
    if name == UPLOAD_NAME:
        if upload is None:
            raise DataError("Upload a CSV on the Data page first, or pick a built-in series.")
        frame = upload
    elif name in GENERATORS:
        frame = GENERATORS[name].fn(data_cfg.length, data_cfg.period, data_cfg.noise, data_cfg.seed)
    elif name in DATASETS:
        frame = load_dataset(name)
        if data_cfg.noise > 0:
            std = add_noise(frame, data_cfg.noise, data_cfg.seed)
            frame.attrs["notes"] = [f"added Gaussian noise of {data_cfg.noise:g} x the series' standard "
                                    f"deviation ({std:.3g})"]
    else:
        known = ", ".join([*GENERATORS, *DATASETS, UPLOAD_NAME])
        raise DataError(f"There is no series named {name!r}; pick one of {known}.")
    return frame if data_cfg.covariates else frame.iloc[:, :1]


# The pure rules below (add_noise, fit_scaling, split_bounds, cut_windows) use only numpy, torch and their
# arguments: the exported script embeds their source, so the app and the script share one version of each.

def add_noise(frame: pd.DataFrame, noise: float, seed: int) -> float:
    """Add Gaussian noise to the target (column 0) in place; returns the target's standard deviation.

    Real series come in their own units (ppm, m^3, counts), so noise is measured in the target's
    standard deviations: noise=0.1 means the same for every dataset."""
    std = float(frame.iloc[:, 0].std())
    rng = np.random.default_rng(seed)
    frame.iloc[:, 0] += noise * std * rng.standard_normal(len(frame))
    return std


def counted(number: int, noun: str) -> str:
    """"1 row", "3 rows": a count with its noun, for sentences."""
    return f"{int(number)} {noun}{'' if number == 1 else 's'}"


# --- scaling -----------------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)  # eq=False: arrays have no single truth value to compare by
class Scaler:
    """Per-column scaling, scaled = (x - center) / scale; fitted on the training rows only."""

    kind: str
    center: np.ndarray  # (F,)
    scale: np.ndarray  # (F,), never 0

    @classmethod
    def fit(cls, values: np.ndarray | torch.Tensor, kind: str) -> Scaler:
        """Fit on rows of `values` (T, F) or (T,): "none", "standard" (mean 0, std 1) or "minmax" (0..1)."""
        x = np.asarray(values, dtype=np.float64)
        x = x[:, None] if x.ndim == 1 else x
        if kind not in SCALINGS:
            raise DataError(f"Scaling must be one of {', '.join(SCALINGS)} (got {kind!r}).")
        if len(x) == 0:
            raise DataError("There are no training rows to fit the scaling on; use a longer series.")
        center, scale = fit_scaling(x, kind)
        center.setflags(write=False)
        scale.setflags(write=False)
        return cls(kind, center, scale)

    def transform(self, values: np.ndarray | torch.Tensor) -> np.ndarray | torch.Tensor:
        """Scale (..., F) values, numpy or torch, keeping the type."""
        return (values - _like(self.center, values)) / _like(self.scale, values)

    def inverse(self, values: np.ndarray | torch.Tensor,
                column: int | slice = slice(None)) -> np.ndarray | torch.Tensor:
        """Back to the original units; `column=0` for predictions of the target alone (any shape)."""
        return values * _like(self.scale[column], values) + _like(self.center[column], values)

    def inverse_target(self, values: np.ndarray | torch.Tensor) -> np.ndarray | torch.Tensor:
        """Target values or predictions (any shape) back to the target's units."""
        return self.inverse(values, column=0)


def fit_scaling(x: np.ndarray, kind: str) -> tuple[np.ndarray, np.ndarray]:
    """(center, scale) of each column of the rows x (T, F), for scaled = (x - center) / scale.

    kind "none": as they are; "standard": mean 0, std 1; "minmax": 0 to 1. Fit it on the training rows only:
    no peeking at the future."""
    if kind == "none":
        center, scale = np.zeros(x.shape[1]), np.ones(x.shape[1])
    elif kind == "standard":
        center, scale = x.mean(axis=0), x.std(axis=0)
    else:
        low, high = x.min(axis=0), x.max(axis=0)
        center, scale = low, high - low
    # A constant column (std ~ 1e-17 from rounding) would blow up: leave it unscaled, only centred.
    flat = ~(scale > 1e-9 * np.abs(x).max(axis=0))
    return center, np.where(flat, 1.0, scale)


def _like(array: np.ndarray, values: np.ndarray | torch.Tensor) -> np.ndarray | torch.Tensor:
    torch = sys.modules.get("torch")  # a tensor exists only once PyTorch is imported
    if torch is not None and isinstance(values, torch.Tensor):
        return torch.as_tensor(array, dtype=values.dtype, device=values.device)
    return array


# --- split and windows -----------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class Prepared:
    """A series ready to train on: scaled values, the split, and the scaler to undo the scaling."""

    frame: pd.DataFrame  # the raw series, as given
    values: torch.Tensor  # (T, F) float32 scaled; column 0 is the target
    target: torch.Tensor  # (T,) float32 scaled target: a view of values[:, 0]
    scaler: Scaler
    bounds: dict[str, tuple[int, int]]  # "train", "val", "test" -> [start, end) rows, in time order
    feature_names: tuple[str, ...]

    @property
    def input_size(self) -> int:
        return int(self.values.shape[1])

    @property
    def target_name(self) -> str:
        return self.feature_names[0]

    def rows(self, part: str) -> tuple[int, int]:
        """[start, end) rows of a part; "all" is the whole series."""
        if part == "all":
            return 0, int(self.values.shape[0])
        if part not in self.bounds:
            raise ValueError(f"part must be one of {', '.join(self.bounds)}, all (got {part!r})")
        return self.bounds[part]


def split_bounds(rows: int, val: float, test: float) -> dict[str, tuple[int, int]]:
    """Chronological [start, end) rows: train first, then validation, then test."""
    n_test, n_val = int(round(rows * test)), int(round(rows * val))
    n_train = rows - n_val - n_test
    return {"train": (0, n_train), "val": (n_train, n_train + n_val), "test": (n_train + n_val, rows)}


def rows_needed(seq_len: int, head: str, horizon: int) -> int:
    """Rows one window takes: its inputs plus the targets after them."""
    return seq_len + (horizon if head == "last" else 1)


def window_count(rows: int, seq_len: int, head: str, horizon: int, stride: int = 1) -> int:
    """How many windows `windows` cuts from a part of `rows` rows."""
    return max(0, (rows - rows_needed(seq_len, head, horizon)) // stride + 1)


_PART_NAMES = {"train": "training part", "val": "validation part", "test": "test part", "all": "series"}
_REMEDY = {"train": ", or smaller validation and test fractions", "val": ", or a larger validation fraction",
           "test": ", or a larger test fraction"}


def _check_rows(part: str, rows: int, seq_len: int, head: str, horizon: int) -> None:
    need = rows_needed(seq_len, head, horizon)
    if rows < need:
        ahead = counted(horizon, "target step") if head == "last" else "1 next step"
        raise DataError(f"The {_PART_NAMES[part]} has {rows} rows, but one window needs {need} "
                        f"(seq_len {seq_len} + {ahead}); use a longer series, a shorter sequence length"
                        f"{_REMEDY.get(part, '')}.")


def prepare(config: RunConfig, frame: pd.DataFrame) -> Prepared:
    """Split `frame` by the config's fractions, fit the scaler on train, and check every part fits a window."""
    raw = _checked_values(frame)
    data, model, train = config.data, config.model, config.train
    bounds = split_bounds(len(raw), data.val, data.test)
    for part, (start, end) in bounds.items():
        _check_rows(part, end - start, train.seq_len, model.head, model.horizon)
    start, end = bounds["train"]
    scaler = Scaler.fit(raw[start:end], data.scale)
    scaled = scaler.transform(raw).astype(np.float32)
    if not np.isfinite(scaled).all():
        raise DataError("Some values are too large to train on (beyond float32); choose standard or minmax scaling.")
    import torch

    values = torch.from_numpy(np.ascontiguousarray(scaled))  # (T, F)
    return Prepared(frame, values, values[:, 0], scaler, bounds, tuple(str(name) for name in frame.columns))


def _checked_values(frame: pd.DataFrame) -> np.ndarray:
    if not isinstance(frame, pd.DataFrame) or len(frame.columns) == 0:
        raise DataError("The series has no columns; pick a series or a target column.")
    for name in frame.columns:
        if not (pd.api.types.is_numeric_dtype(frame[name]) or pd.api.types.is_bool_dtype(frame[name])):
            raise DataError(f"Column {name!r} is not numeric; pick only numeric columns.")
    raw = frame.to_numpy(dtype=np.float64, na_value=np.nan)
    if len(raw) < MIN_POINTS:
        raise DataError(f"The series has {counted(len(raw), 'row')}; it needs at least {MIN_POINTS}, "
                        "and a few hundred to learn.")
    bad = ~np.isfinite(raw)
    if bad.any():
        name = frame.columns[int(np.argmax(bad.any(axis=0)))]
        raise DataError(f"Column {name!r} has {int(bad.sum())} missing or infinite values; load the file through "
                        "the CSV importer, which fills small gaps, or fix the file.")
    return raw


def windows(prepared: Prepared, part: str, seq_len: int, head: str, horizon: int,
            stride: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    """Inputs X (N, seq_len, F) and targets Y of a part, as views of `prepared.values` (no copy).

    head "seq2seq": Y (N, seq_len, 1), Y[n, t] = target one step after X[n, t];
    head "last": Y (N, horizon), the `horizon` targets after the window. Window n starts at part start + n*stride.
    """
    if head not in ("seq2seq", "last"):
        raise ValueError(f"head must be seq2seq or last (got {head!r})")
    if stride < 1:
        raise ValueError(f"stride must be at least 1 (got {stride})")
    start, end = prepared.rows(part)
    _check_rows(part, end - start, seq_len, head, horizon)
    return cut_windows(prepared.values, start, end, seq_len, head, horizon, stride)


def cut_windows(values: torch.Tensor, start: int, end: int, seq_len: int, head: str, horizon: int,
                stride: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    """Inputs X (N, seq_len, F) cut from rows [start, end) of values (T, F), and targets Y from its column 0,
    both views of `values` (no copy); window n starts at row start + n*stride.

    head "seq2seq": Y (N, seq_len, 1), Y[n, t] = the target one step after X[n, t];
    head "last": Y (N, horizon), the `horizon` targets after the window."""
    target = values[:, 0]  # (T,): column 0 is the target
    if head == "seq2seq":
        x = values[start:end - 1].unfold(0, seq_len, stride)  # (N, F, seq_len): unfold puts the window last
        y = target[start + 1:end].unfold(0, seq_len, stride)  # (N, seq_len): the same windows, one step later
        return x.transpose(1, 2), y.unsqueeze(-1)  # (N, seq_len, F), (N, seq_len, 1)
    x = values[start:end - horizon].unfold(0, seq_len, stride)  # (N, F, seq_len): unfold puts the window last
    y = target[start + seq_len:end].unfold(0, horizon, stride)  # (N, horizon): the steps after each window
    return x.transpose(1, 2), y  # (N, seq_len, F), (N, horizon)
