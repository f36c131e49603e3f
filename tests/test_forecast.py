"""Forecast evaluation: metrics by hand, baselines on series with known answers, forecasts of real trained
models and of test doubles whose right answer is known exactly, and the figures built from a report."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
import torch
from torch import nn

from rnnlab.analysis import forecast
from rnnlab.config import RunConfig
from rnnlab.figures.forecast import forecast_figure, horizon_figure
from rnnlab.learn.models import build_model
from rnnlab.learn.trainer import Trainer
from rnnlab.series.data import Prepared, prepare


def series(values: np.ndarray, **covariates: np.ndarray) -> pd.DataFrame:
    """A series frame as the data module makes them: index "time", target first."""
    frame = pd.DataFrame({"level": np.asarray(values, dtype=np.float64), **covariates})
    frame.index.name = "time"
    return frame


def config(**settings) -> RunConfig:
    base = dict(data="sine", scale="none", seq_len=5, val=0.15, test=0.15)
    return RunConfig.from_flat({**base, **settings})


def truth_of(prepared: Prepared, part: str = "test") -> np.ndarray:
    start, end = prepared.rows(part)
    return prepared.frame.iloc[start:end, 0].to_numpy()


class Persistence(nn.Module):
    """Test double with SequenceModel's forward signature: the next point is the last input's `feature`, plus
    `drift` per step ahead. Its right answers are known exactly, so forecast.py is what gets tested."""

    def __init__(self, drift: float = 0.0, horizon: int | None = None, feature: int = 0) -> None:
        super().__init__()
        self.drift, self.horizon, self.feature = drift, horizon, feature
        self.calls = 0

    def forward(self, x: torch.Tensor, state=None) -> tuple[torch.Tensor, None]:
        self.calls += 1
        if self.horizon is None:  # seq2seq: every step predicts its successor
            return x[..., self.feature : self.feature + 1] + self.drift, state  # (B, T, 1)
        ahead = torch.arange(1, self.horizon + 1, dtype=x.dtype)  # (H,)
        return x[:, -1, self.feature : self.feature + 1] + self.drift * ahead, state  # (B, H)


# --- metrics -------------------------------------------------------------------------------------

def test_metrics_match_hand_computed_values():
    scores = forecast.metrics(np.array([1.0, 2.0, 3.0, 4.0]), np.array([1.0, 3.0, 2.0, 4.0]))
    # errors 0, 1, -1, 0; the truth's mean is 2.5, so its total sum of squares is 5
    assert scores["MSE"] == pytest.approx(0.5)
    assert scores["RMSE"] == pytest.approx(math.sqrt(0.5))
    assert scores["MAE"] == pytest.approx(0.5)
    assert scores["MAPE"] == pytest.approx(100 * (1 / 2 + 1 / 3) / 4)
    assert scores["R²"] == pytest.approx(1 - 2 / 5)


def test_mape_is_not_defined_when_a_true_value_is_zero():
    assert forecast.metrics(np.array([0.0, 1.0, 2.0]), np.array([0.1, 1.0, 2.0]))["MAPE"] is None


def test_mape_is_not_defined_when_the_truth_changes_sign():
    assert forecast.metrics(np.array([-1.0, 0.5, 2.0]), np.array([-1.0, 0.4, 2.0]))["MAPE"] is None


def test_r2_of_the_truth_itself_is_one():
    y = np.sin(np.arange(50) / 3.0) + 10
    assert forecast.metrics(y, y)["R²"] == pytest.approx(1.0)


# --- baselines -----------------------------------------------------------------------------------

def test_last_value_on_a_ramp_errs_by_the_step_size():
    prepared = prepare(config(), series(5 + 3.0 * np.arange(200)))
    scores = forecast.metrics(truth_of(prepared), forecast.last_value(prepared))
    assert scores["MAE"] == pytest.approx(3.0)
    assert scores["RMSE"] == pytest.approx(3.0)


def test_seasonal_naive_on_an_exact_periodic_series_has_zero_error():
    prepared = prepare(config(), series(np.sin(2 * np.pi * np.arange(400) / 24)))
    scores = forecast.metrics(truth_of(prepared), forecast.seasonal_naive(prepared, 24))
    assert scores["RMSE"] < 1e-9


# --- one-step forecasts --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def trained_on_level_100():
    """A GRU trained briefly on a sine around 100 (standard scaling): it sees only values near 0 inside."""
    cfg = RunConfig.from_flat(dict(data="sine", scale="standard", cell="gru", hidden=16, regime="windowed",
                                   seq_len=20, batch=16, lr=0.01, steps=200, eval_every=100))
    frame = series(100 + np.sin(2 * np.pi * np.arange(600) / 40))
    trainer = Trainer(cfg, frame)
    for _ in trainer:
        pass
    return trainer.model, trainer.prepared, cfg


def test_one_step_of_a_briefly_trained_model_beats_last_value_on_a_sine(trained_on_level_100):
    model, prepared, cfg = trained_on_level_100
    truth = truth_of(prepared)
    model_rmse = forecast.metrics(truth, forecast.one_step(model, prepared, cfg))["RMSE"]
    assert model_rmse < forecast.metrics(truth, forecast.last_value(prepared))["RMSE"]


def test_one_step_predictions_are_in_original_units(trained_on_level_100):
    model, prepared, cfg = trained_on_level_100
    predictions = forecast.one_step(model, prepared, cfg)
    assert np.all(np.abs(predictions - 100) < 2)  # near the series' level of 100, not the scaled level of 0


def test_one_step_predicts_each_row_from_the_true_row_before_it():
    cfg = config()
    prepared = prepare(cfg, series(np.random.default_rng(0).standard_normal(300)))
    # Persistence predicts the last input, so an aligned one-step forecast IS the last-value baseline.
    np.testing.assert_allclose(forecast.one_step(Persistence(), prepared, cfg), forecast.last_value(prepared),
                               rtol=1e-6)


def test_one_step_predicts_every_test_row_once_and_finitely():
    cfg = config(cell="lstm", hidden=32, seq_len=24, test=0.3)
    prepared = prepare(cfg, series(np.sin(np.arange(1000) / 5.0)))
    torch.manual_seed(0)
    model = build_model(cfg, prepared.input_size)
    predictions = forecast.one_step(model, prepared, cfg)
    assert len(predictions) == 300  # its cost: bench/forecast_cost.py, a ratio
    assert np.isfinite(predictions).all()


# --- free-running forecasts ----------------------------------------------------------------------

def test_free_running_of_an_identity_model_is_constant():
    cfg = config()
    prepared = prepare(cfg, series(np.sin(np.arange(200) / 4.0)))
    start = prepared.rows("test")[0]
    forecasts = forecast.free_running(Persistence(), prepared, cfg, start, 25)
    np.testing.assert_allclose(forecasts, np.full(25, prepared.frame.iloc[start - 1, 0]), rtol=1e-6)


def test_free_running_feeds_each_prediction_back_as_the_next_input():
    cfg = config()
    prepared = prepare(cfg, series(np.zeros(200)))
    start = prepared.rows("test")[0]
    # Each prediction is the last input plus 1: only fed-back predictions can climb 1, 2, 3, ... on a flat series.
    forecasts = forecast.free_running(Persistence(drift=1.0), prepared, cfg, start, 10)
    np.testing.assert_allclose(forecasts, np.arange(1, 11), rtol=1e-6)


def test_free_running_takes_covariates_known_in_advance_from_the_true_data():
    cfg = config()
    covariate = np.arange(200, dtype=np.float64) * 10
    prepared = prepare(cfg, series(np.zeros(200), calendar=covariate))
    start = prepared.rows("test")[0]
    # This double forecasts the covariate of the last input row, which only the true data can supply.
    forecasts = forecast.free_running(Persistence(feature=1), prepared, cfg, start, 10, known_covariates=True)
    np.testing.assert_allclose(forecasts, covariate[start - 1 : start + 9], rtol=1e-6)


def test_free_running_with_the_last_step_head_emits_horizon_points_per_pass():
    cfg = config(head="last", horizon=3)
    prepared = prepare(cfg, series(np.zeros(200)))
    model = Persistence(drift=1.0, horizon=3)
    forecasts = forecast.free_running(model, prepared, cfg, prepared.rows("test")[0], 10)
    np.testing.assert_allclose(forecasts, np.arange(1, 11), rtol=1e-6)  # fed back three at a time
    assert model.calls == 4  # ceil(10 / 3) forward passes


def test_free_running_leaves_the_prepared_values_untouched():
    cfg = config()
    prepared = prepare(cfg, series(np.zeros(200)))
    forecast.free_running(Persistence(drift=1.0), prepared, cfg, prepared.rows("test")[0], 10)
    assert float(prepared.values.abs().max()) == 0.0


# --- error by horizon and the report -------------------------------------------------------------

@pytest.fixture(scope="module")
def trained_on_noisy_sine():
    cfg = RunConfig.from_flat(dict(data="sine", length=800, noise=0.2, scale="standard", cell="gru", hidden=16,
                                   regime="windowed", seq_len=20, batch=16, lr=0.01, steps=200, eval_every=100))
    trainer = Trainer(cfg)
    for _ in trainer:
        pass
    return trainer.model, trainer.prepared, cfg


def test_error_by_horizon_grows_from_the_first_to_the_last_horizon(trained_on_noisy_sine):
    model, prepared, cfg = trained_on_noisy_sine
    curve = forecast.error_by_horizon(model, prepared, cfg, max_horizon=40)
    assert curve.shape == (40,)
    assert curve[-1] >= curve[0]


def test_evaluate_scores_the_model_and_both_baselines_on_the_same_metrics(trained_on_noisy_sine):
    model, prepared, cfg = trained_on_noisy_sine
    report = forecast.evaluate(model, prepared, cfg, period=40)
    assert list(report.table.index) == [forecast.ONE_STEP, forecast.FREE_RUNNING, forecast.LAST_VALUE,
                                        forecast.SEASONAL_NAIVE]
    assert list(report.table.columns) == list(forecast.METRIC_NAMES)
    start, end = prepared.rows("test")
    assert len(report.times) == len(report.truth) == len(report.one_step) == len(report.free_running) == end - start
    assert report.table.loc[forecast.ONE_STEP, "RMSE"] == pytest.approx(
        forecast.metrics(report.truth, report.one_step)["RMSE"])


def test_baselines_by_horizon_on_a_ramp_err_by_the_distance_to_their_source():
    cfg = config(seq_len=5)
    prepared = prepare(cfg, series(5 + 3.0 * np.arange(400)))
    curves = forecast.baseline_error_by_horizon(prepared, cfg, period=7, max_horizon=20)
    k = np.arange(1, 21)
    np.testing.assert_allclose(curves[forecast.LAST_VALUE], 3.0 * k)  # k rows back from the forecast time
    # the same moment of the latest season wholly in the past: 7 * ceil(k / 7) rows back
    np.testing.assert_allclose(curves[forecast.SEASONAL_NAIVE], 3.0 * 7 * np.ceil(k / 7))


def test_seasonal_naive_by_horizon_on_an_exact_periodic_series_is_exact():
    cfg = config()
    prepared = prepare(cfg, series(np.sin(2 * np.pi * np.arange(400) / 24)))
    curves = forecast.baseline_error_by_horizon(prepared, cfg, period=24, max_horizon=50)
    assert np.all(curves[forecast.SEASONAL_NAIVE] < 1e-9)
    assert curves[forecast.LAST_VALUE][5] > 0.5


def test_baselines_by_horizon_use_the_same_starts_as_the_model():
    # the persistence double's free-running forecast IS the last value, so the two curves must coincide
    cfg = config()
    prepared = prepare(cfg, series(np.random.default_rng(3).standard_normal(400).cumsum()))
    model_curve = forecast.error_by_horizon(Persistence(), prepared, cfg, max_horizon=30)
    curves = forecast.baseline_error_by_horizon(prepared, cfg, period=10, max_horizon=30)
    np.testing.assert_allclose(curves[forecast.LAST_VALUE], model_curve, rtol=1e-5)


def test_seasonal_naive_by_horizon_is_nan_without_a_season_of_past():
    cfg = config()
    prepared = prepare(cfg, series(np.sin(np.arange(100) / 3.0)))
    curves = forecast.baseline_error_by_horizon(prepared, cfg, period=1000, max_horizon=5)
    assert np.isnan(curves[forecast.SEASONAL_NAIVE]).all()
    assert np.isfinite(curves[forecast.LAST_VALUE]).all()


def test_evaluate_reports_the_baselines_by_horizon(trained_on_noisy_sine):
    model, prepared, cfg = trained_on_noisy_sine
    report = forecast.evaluate(model, prepared, cfg, period=40, max_horizon=30)
    assert set(report.horizon_baselines) == {forecast.LAST_VALUE, forecast.SEASONAL_NAIVE}
    assert all(curve.shape == report.horizon_rmse.shape == (30,) for curve in report.horizon_baselines.values())


def test_evaluate_restores_the_models_training_mode(trained_on_noisy_sine):
    model, prepared, cfg = trained_on_noisy_sine
    model.train()
    forecast.evaluate(model, prepared, cfg, max_horizon=5)
    assert model.training


# --- figures -------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def report_on_dates():
    """A report over a series indexed by hours, from the persistence double (no training needed)."""
    cfg = config(seq_len=24)
    frame = series(50 + 10 * np.sin(2 * np.pi * np.arange(500) / 24))
    frame.index = pd.date_range("2024-01-01", periods=500, freq="h", name="time")
    return forecast.evaluate(Persistence(), prepare(cfg, frame), cfg, period=24)


def test_forecast_figure_draws_truth_and_forecasts_and_the_baselines_thin_and_dotted(report_on_dates):
    figure = forecast_figure(report_on_dates)
    go.Figure(figure)  # plotly validates every key
    names = [trace["name"] for trace in figure["data"]]
    assert names[:3] == ["truth", "one-step (true past)", "free-running (own predictions fed back)"]
    # shown, not "legendonly": a hidden trace's legend entry is greyed out and looks disabled (issue 14)
    assert [trace.get("visible", True) for trace in figure["data"][3:]] == [True, True]
    assert [trace["line"]["dash"] for trace in figure["data"][3:]] == ["dot", "dot"]
    assert figure["layout"]["yaxis"]["title"]["text"] == "level"
    assert figure["layout"]["font"]["size"] == 15


def test_horizon_figure_draws_each_baseline_by_horizon_too(report_on_dates):
    figure = horizon_figure(report_on_dates)
    go.Figure(figure)
    curve, *references = figure["data"]
    assert len(curve["y"]) == len(report_on_dates.horizons)
    assert len(references) == 2
    for trace, name in zip(references, (forecast.LAST_VALUE, forecast.SEASONAL_NAIVE), strict=True):
        assert len(trace["y"]) == len(report_on_dates.horizons)
        np.testing.assert_allclose(trace["y"], report_on_dates.horizon_baselines[name], rtol=1e-6)
    last_value = np.asarray(references[0]["y"])
    assert last_value[5] > last_value[0]  # on a sine the last value drifts off: a curve, not a flat line


def test_report_table_holds_nan_not_none_where_mape_is_undefined(report_on_dates):
    cfg = config(seq_len=24)
    report = forecast.evaluate(Persistence(), prepare(cfg, series(np.sin(np.arange(400) / 4.0))), cfg, period=24)
    assert report.table["MAPE"].dtype == np.float64
    assert report.table["MAPE"].isna().all()  # the sine crosses zero
    assert report_on_dates.table["MAPE"].notna().all()  # 50 +- 10 never does
