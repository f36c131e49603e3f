"""Forecast evaluation: how well a trained network predicts the part of the series it never saw.

Two ways to forecast, and two trivial answers to beat:
    one-step     every prediction made from the TRUE previous `seq_len` points (teacher forcing);
    free-running the network's own predictions fed back as its next inputs, as a real forecast runs;
    last value   y_hat[t] = y[t - 1] (persistence);
    seasonal     y_hat[t] = y[t - period] (the same moment one cycle ago).
Everything returned is in the series' original units. Arrays are aligned to the part's rows and hold
NaN where a method has no prediction (not enough past before the row).

No peeking: row t is always predicted from rows before t. Covariates (the columns after the target) are
read up to row t-1 like the target. A free-running forecast made at row t0 runs past rows whose covariates
were not known at t0 either; by default they are held at their last known value (row t0). Only covariates
known in advance (a calendar, a holiday list, a schedule) may be read from the true future rows:
`known_covariates=True`. With a covariate measured as it happens (temperature, the echo's pulses), True
would let the forecast read the future.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from torch import nn

from rnnlab.config import MAX_ACTIVATIONS_PER_STEP, RunConfig
from rnnlab.errors import DataError
from rnnlab.series.data import Prepared

__all__ = [
    "ForecastReport", "METRIC_NAMES", "ONE_STEP", "FREE_RUNNING", "LAST_VALUE", "SEASONAL_NAIVE",
    "DEFAULT_MAX_HORIZON", "MAX_FREE_STEPS", "HORIZON_STARTS",
    "one_step", "free_running", "error_by_horizon", "baseline_error_by_horizon", "last_value", "seasonal_naive",
    "metrics", "evaluate", "covariate_assumption", "outcome",
]

METRIC_NAMES = ("MSE", "RMSE", "MAE", "MAPE", "R²")
# The rows of ForecastReport.table, in order: the network two ways, then the answers it should beat.
ONE_STEP = "model (one-step)"
FREE_RUNNING = "model (free-running)"
LAST_VALUE = "last value"
SEASONAL_NAIVE = "seasonal naive"
DEFAULT_MAX_HORIZON = 100  # error_by_horizon's default reach (at most half the part)
MAX_FREE_STEPS = 500  # evaluate's free-running forecast: each step is one forward pass, so cap it
HORIZON_STARTS = 20  # forecasts averaged per horizon: enough to smooth the curve, all run as one batch


def covariate_assumption(covariates: int, known_covariates: bool) -> str:
    """One sentence for the Forecast page: what the forecasts read of the covariates."""
    if covariates == 0:
        return "No peeking: each row is predicted from the rows before it only."
    if known_covariates:
        return ("No peeking: each row is predicted from the rows before it, covariates included. The free-running "
                "forecast reads the true covariates of the rows it forecasts, as it may if they are known in advance "
                "(a calendar, holidays); with measured ones (temperature) that would be reading the future.")
    return ("No peeking: each row is predicted from the rows before it, covariates included. The free-running "
            "forecast does not know the future covariates either: it holds them at their last known value. Switch "
            "on \"known in advance\" only for covariates such as a calendar or holidays.")


# --- forecasting ---------------------------------------------------------------------------------

def one_step(model: nn.Module, prepared: Prepared, config: RunConfig, part: str = "test") -> np.ndarray:
    """Teacher-forced one-step-ahead predictions for each row of `part`, in original units.

    Row t is predicted from the true rows t-seq_len..t-1; that context may reach back into the
    previous part, which is honest: it is the past. Rows with less past than seq_len get NaN.
    """
    seq_len = config.train.seq_len
    start, end = prepared.rows(part)
    first, _ = _scored_rows(prepared, config, part)
    predictions = np.full(end - start, np.nan)
    if first >= end:
        return predictions
    # Window n covers rows first-seq_len+n .. first+n-1 and predicts row first+n.
    x = prepared.values[first - seq_len : end - 1].unfold(0, seq_len, 1).transpose(1, 2)  # (N, seq_len, F)
    chunk = _chunk_size(model, seq_len)
    scaled = []
    with _evaluating(model):
        for i in range(0, len(x), chunk):
            scaled.append(_next_points(model, x[i : i + chunk])[:, 0])  # (chunk,) the next point only
    predictions[first - start :] = _to_original(prepared, torch.cat(scaled))
    return predictions


def free_running(model: nn.Module, prepared: Prepared, config: RunConfig, start: int, steps: int,
                 known_covariates: bool = False) -> np.ndarray:
    """A `steps`-point forecast from row `start` (rows start..start+steps-1), in original units.

    The context is the true seq_len rows before `start`; after that each prediction is fed back as the
    next input's target feature. Covariates (the other columns) after the context are held at their
    value in row start-1, the last one known, unless `known_covariates` says they are known in advance
    (calendar, holidays): then the true ones are read. The last-step head with horizon H emits H points
    per forward pass, all fed back.
    """
    forecast = _free_run(model, prepared, config, np.array([start]), steps, known_covariates)
    return _to_original(prepared, forecast[0])


def error_by_horizon(model: nn.Module, prepared: Prepared, config: RunConfig, part: str = "test",
                     max_horizon: int | None = None, starts: int = HORIZON_STARTS,
                     known_covariates: bool = False) -> np.ndarray:
    """RMSE (original units) of free-running forecasts at horizons 1..K, averaged over evenly spaced starts.

    K is `max_horizon`, by default min(DEFAULT_MAX_HORIZON, half the part). Entry k-1 is the error k steps ahead.
    """
    start_rows, horizon = _horizon_starts(prepared, config, part, max_horizon, starts)
    forecasts = _to_original(prepared, _free_run(model, prepared, config, start_rows, horizon,
                                                 known_covariates))  # (S, K)
    truth = _truth(prepared)[start_rows[:, None] + np.arange(horizon)]  # (S, K)
    return np.sqrt(np.mean((forecasts - truth) ** 2, axis=0))  # (K,)


def baseline_error_by_horizon(prepared: Prepared, config: RunConfig, period: int, part: str = "test",
                              max_horizon: int | None = None, starts: int = HORIZON_STARTS) -> dict[str, np.ndarray]:
    """RMSE (original units) of the trivial forecasts k steps ahead, over the same starts as error_by_horizon.

    A forecast made with rows up to t0 known (t0 = start - 1) has, k steps ahead, last value y[t0] and seasonal
    naive y[t0 + k - period * ceil(k / period)]: the same moment of the latest season that is wholly in the
    past. {LAST_VALUE: (K,), SEASONAL_NAIVE: (K,)}; NaN at a horizon where no start has that much past.
    """
    if period < 1:
        raise ValueError(f"period must be at least 1 (got {period})")
    start_rows, horizon = _horizon_starts(prepared, config, part, max_horizon, starts)
    truth = _truth(prepared)
    ahead = np.arange(1, horizon + 1)  # (K,)
    known = start_rows[:, None] - 1  # (S, 1): t0, the last known row
    actual = truth[known + ahead]  # (S, K)
    sources = {
        LAST_VALUE: np.broadcast_to(known, actual.shape),
        SEASONAL_NAIVE: known + ahead - period * -(-ahead // period),  # ceil(k / period) in integers
    }
    result = {}
    for name, rows in sources.items():
        valid = rows >= 0  # a season longer than the series' past before the start has no answer
        squares = np.where(valid, (truth[np.clip(rows, 0, None)] - actual) ** 2, 0.0)
        counts = valid.sum(axis=0)  # (K,)
        with np.errstate(invalid="ignore", divide="ignore"):
            result[name] = np.where(counts > 0, np.sqrt(squares.sum(axis=0) / counts), np.nan)
    return result


def _horizon_starts(prepared: Prepared, config: RunConfig, part: str, max_horizon: int | None,
                    starts: int) -> tuple[np.ndarray, int]:
    """The evenly spaced first forecast rows of the horizon curves, and the horizon K."""
    first, end = _scored_rows(prepared, config, part)
    rows = end - first
    horizon = max_horizon if max_horizon is not None else max(1, min(DEFAULT_MAX_HORIZON, rows // 2))
    if horizon < 1:
        raise ValueError(f"max_horizon must be at least 1 (got {horizon})")
    if horizon > rows:
        raise DataError(f"The {part} part has {max(rows, 0)} rows to forecast, too few for a forecast {horizon} "
                        f"steps ahead; choose a horizon of at most {max(rows, 1)} or a larger {part} fraction.")
    start_rows = np.unique(np.linspace(first, end - horizon, min(starts, end - horizon - first + 1)).round())
    return start_rows.astype(np.int64), horizon


def _free_run(model: nn.Module, prepared: Prepared, config: RunConfig, starts: np.ndarray,
              steps: int, known_covariates: bool) -> torch.Tensor:
    """Scaled free-running forecasts (S, steps), one row per start row, all starts run as one batch."""
    seq_len, rows = config.train.seq_len, prepared.values.shape[0]
    if steps < 1 or starts.min() < seq_len or starts.max() + steps > rows:
        raise ValueError(f"a free-running forecast needs seq_len={seq_len} true rows before its start and its "
                         f"{steps} steps inside the series' {rows} rows (starts {starts.min()}..{starts.max()})")
    # Each start gets its own copy of its rows, context first; the target column of the future rows is
    # overwritten with the forecast as it is made, the covariates stay true.
    index = torch.as_tensor(starts)[:, None] - seq_len + torch.arange(seq_len + steps)  # (S, seq_len+steps)
    work = prepared.values[index]  # (S, seq_len+steps, F), a copy: the prepared values stay untouched
    if not known_covariates:  # the future's covariates were not known at the start: hold the last known ones
        work[:, seq_len:, 1:] = work[:, seq_len - 1 : seq_len, 1:]
    forecast = torch.empty(len(starts), steps)  # (S, steps)
    chunk = _chunk_size(model, seq_len)
    done = 0
    with _evaluating(model):
        while done < steps:
            window = work[:, done : done + seq_len]  # (S, seq_len, F): rows start+done-seq_len .. start+done-1
            points = torch.cat([_next_points(model, window[i : i + chunk]) for i in range(0, len(window), chunk)])
            n = min(points.shape[1], steps - done)  # (S, 1) for seq2seq, (S, H) for the last-step head
            forecast[:, done : done + n] = points[:, :n]
            work[:, seq_len + done : seq_len + done + n, 0] = points[:, :n]  # feedback: the forecast becomes input
            done += n
    return forecast


def _next_points(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Scaled predictions of the points after each window: (B, 1) for seq2seq, (B, horizon) for "last"."""
    y, _ = model(x)
    if y.dim() == 3:
        return y[:, -1, :1]  # (B, T, 1) -> (B, 1): the last step, the one that has seen the whole window
    return y  # (B, horizon)


@contextlib.contextmanager
def _evaluating(model: nn.Module) -> Iterator[None]:
    """Eval mode (no dropout) and no autograd for the block; the model's mode is restored after it."""
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            yield
    finally:
        model.train(was_training)


def _chunk_size(model: nn.Module, seq_len: int) -> int:
    """Windows per forward pass so that one pass holds no more activations than a training step may."""
    sizes = (getattr(model, name, 1) for name in ("directions", "hidden_size", "num_layers"))
    per_window = seq_len * math.prod(sizes)
    return max(1, MAX_ACTIVATIONS_PER_STEP // max(1, per_window))


def _to_original(prepared: Prepared, scaled: torch.Tensor) -> np.ndarray:
    return np.asarray(prepared.scaler.inverse(scaled.double().numpy(), column=0), dtype=np.float64)


def _truth(prepared: Prepared) -> np.ndarray:
    """The whole target in original units, straight from the raw frame (no float32 round trip)."""
    return prepared.frame.iloc[:, 0].to_numpy(dtype=np.float64)


def _scored_rows(prepared: Prepared, config: RunConfig, part: str) -> tuple[int, int]:
    """[first, end) rows of `part` that have seq_len rows of past: the rows every method is scored on."""
    start, end = prepared.rows(part)
    return max(start, config.train.seq_len), end


# --- baselines -----------------------------------------------------------------------------------

def last_value(prepared: Prepared, part: str = "test") -> np.ndarray:
    """Persistence, y_hat[t] = y[t-1], for each row of `part` (NaN for row 0), in original units."""
    return seasonal_naive(prepared, 1, part)


def seasonal_naive(prepared: Prepared, period: int, part: str = "test") -> np.ndarray:
    """y_hat[t] = y[t-period]: the value one cycle earlier (NaN where the series is shorter than that)."""
    if period < 1:
        raise ValueError(f"period must be at least 1 (got {period})")
    start, end = prepared.rows(part)
    truth = _truth(prepared)
    rows = np.arange(start, end)
    predictions = np.full(end - start, np.nan)
    known = rows >= period
    predictions[known] = truth[rows[known] - period]
    return predictions


# --- scoring -------------------------------------------------------------------------------------

def metrics(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float | None]:
    """MSE, RMSE, MAE, MAPE (in %) and R² of predictions, in the units given.

    MAPE is None (not defined) when a true value is zero or the truth changes sign: dividing by values
    near zero makes it explode. R² is None when the truth is constant. NaN predictions make the scores NaN.
    """
    y_true = np.asarray(y_true, dtype=np.float64).reshape(-1)
    y_pred = np.asarray(y_pred, dtype=np.float64).reshape(-1)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true and y_pred differ in length ({len(y_true)} vs {len(y_pred)})")
    if len(y_true) == 0:
        return dict.fromkeys(METRIC_NAMES)
    error = y_pred - y_true
    mse = float(np.mean(error**2))
    magnitude = np.abs(y_true)
    near_zero = magnitude <= 1e-9 * max(float(magnitude.max()), 1e-300)
    crosses_zero = bool((y_true > 0).any() and (y_true < 0).any())
    mape = None if near_zero.any() or crosses_zero else float(100 * np.mean(np.abs(error) / magnitude))
    total = float(np.sum((y_true - y_true.mean()) ** 2))
    spread = 1e-12 * max(float(np.max(magnitude)), 1.0) ** 2 * len(y_true)  # rounding noise of a constant truth
    r2 = None if total <= spread else 1.0 - float(np.sum(error**2)) / total
    return {"MSE": mse, "RMSE": math.sqrt(mse), "MAE": float(np.mean(np.abs(error))), "MAPE": mape, "R²": r2}


@dataclass(frozen=True, eq=False)  # eq=False: arrays have no single truth value to compare by
class ForecastReport:
    """The forecasts of one part, its baselines and their scores, all in original units.

    Arrays are aligned to `times` and hold NaN where a method has no prediction.
    """

    part: str
    target_name: str
    times: pd.Index  # the part's index values (dates or numbers)
    truth: np.ndarray  # (N,)
    one_step: np.ndarray  # (N,) teacher-forced, from the true past
    free_running: np.ndarray  # (N,) fed back from the first scored row, NaN after MAX_FREE_STEPS
    baselines: dict[str, np.ndarray]  # LAST_VALUE, SEASONAL_NAIVE -> (N,)
    period: int  # of the seasonal naive baseline
    # rows ONE_STEP, FREE_RUNNING, LAST_VALUE, SEASONAL_NAIVE; columns METRIC_NAMES (NaN: not defined);
    # all scored on the same rows, but free-running only on its first max_free_steps of them
    table: pd.DataFrame
    horizons: np.ndarray  # (K,) 1..K
    horizon_rmse: np.ndarray  # (K,) free-running RMSE k steps ahead
    # LAST_VALUE, SEASONAL_NAIVE -> (K,) their RMSE k steps ahead, over the same forecast starts
    horizon_baselines: dict[str, np.ndarray]
    # free-running read the true future covariates (known in advance) rather than holding the last known ones
    known_covariates: bool = False


def season_length(config: RunConfig) -> int:
    """Rows per seasonal cycle of the configured series, for the seasonal naive baseline."""
    from rnnlab.series.datasets import DATASETS

    spec = DATASETS.get(config.data.data)
    return spec.season if spec is not None else max(1, int(round(config.data.period)))


def evaluate(model: nn.Module, prepared: Prepared, config: RunConfig, part: str = "test",
             period: int | None = None, max_horizon: int | None = None,
             max_free_steps: int = MAX_FREE_STEPS, known_covariates: bool = False) -> ForecastReport:
    """Forecast `part` every way, score the network against the trivial answers, and the error by horizon.

    `period` (of the seasonal naive baseline) defaults to config.data.period rounded. `known_covariates`:
    see free_running. Do not call it while
    another thread trains the same model: it switches the model to eval mode for the duration.
    """
    period = int(round(config.data.period)) if period is None else int(period)
    start, end = prepared.rows(part)
    first, _ = _scored_rows(prepared, config, part)
    if first >= end:
        raise DataError(f"The {part} part has no row with {config.train.seq_len} rows of past before it; "
                        "use a shorter sequence length or a larger fraction for it.")
    truth = _truth(prepared)[start:end]
    predictions = one_step(model, prepared, config, part)
    steps = min(end - first, max_free_steps)
    free = np.full(end - start, np.nan)
    free[first - start : first - start + steps] = free_running(model, prepared, config, first, steps,
                                                               known_covariates)
    baselines = {LAST_VALUE: last_value(prepared, part), SEASONAL_NAIVE: seasonal_naive(prepared, period, part)}

    scored = slice(first - start, None)  # the same rows for the network and the baselines
    rows = {
        ONE_STEP: metrics(truth[scored], predictions[scored]),
        FREE_RUNNING: metrics(truth[scored][:steps], free[scored][:steps]),
        **{name: metrics(truth[scored], baseline[scored]) for name, baseline in baselines.items()},
    }
    table = pd.DataFrame.from_dict(rows, orient="index", columns=list(METRIC_NAMES)).astype(float)
    table.index.name = "method"

    curve = error_by_horizon(model, prepared, config, part, max_horizon, known_covariates=known_covariates)
    baseline_curves = baseline_error_by_horizon(prepared, config, period, part, len(curve))
    return ForecastReport(
        part=part,
        target_name=prepared.target_name,
        times=prepared.frame.index[start:end],
        truth=truth,
        one_step=predictions,
        free_running=free,
        baselines=baselines,
        period=period,
        table=table,
        horizons=np.arange(1, len(curve) + 1),
        horizon_rmse=curve,
        horizon_baselines=baseline_curves,
        known_covariates=known_covariates,
    )


# A baseline is "exact" when its RMSE is at most a millionth of the truth's spread: float rounding (a sine
# copied one period back scores about 1e-14 of it), far below any real forecast (a network that learnt a clean
# sine still errs by a thousandth or more of the spread).
EXACT_FRACTION = 1e-6


def outcome(report: ForecastReport) -> str:
    """The scores in a sentence for the Forecast page: who has the lowest RMSE, and why when a trivial answer
    is exact (the series repeats exactly every season, or stays constant), so no network can beat it."""
    rmse = report.table["RMSE"]
    best = str(rmse.idxmin())
    spread = float(np.nanstd(report.truth))
    sentence = f"Lowest RMSE: **{best}**."
    if spread == 0 or rmse[LAST_VALUE] <= EXACT_FRACTION * spread:
        return (f"{sentence} The series stays constant over this part, so repeating the last value is exact: "
                "nothing can beat it here.")
    if rmse[SEASONAL_NAIVE] <= EXACT_FRACTION * spread:
        return (f"{sentence} The series repeats exactly every {report.period} rows (a periodic series without "
                f"noise), so the seasonal naive forecast, which copies the value one season back, is exact up to "
                f"rounding (RMSE {rmse[SEASONAL_NAIVE]:.1g}): nothing can beat it here. Compare the network with "
                f"the last value instead, or add noise to the series to make the race fair.")
    if best in (LAST_VALUE, SEASONAL_NAIVE):
        return f"{sentence} On the {report.part} part the network does not beat this trivial answer."
    return sentence
