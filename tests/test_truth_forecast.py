"""The Forecast page says why a trivial answer wins (issue 14): on a pure sine the seasonal naive forecast is
exact, and the page says the series repeats exactly every season instead of crowning it silently."""

from __future__ import annotations

import numpy as np
import pytest

from rnnlab.analysis import forecast
from rnnlab.series.data import prepare
from tests.test_forecast import Persistence, config, series
from tests.test_pages import app, no_job_left_behind  # noqa: F401 (the fixture stops every job after a test)


def _report(values: np.ndarray, period: int) -> forecast.ForecastReport:
    cfg = config(seq_len=10)
    return forecast.evaluate(Persistence(), prepare(cfg, series(values)), cfg, period=period)


@pytest.mark.parametrize("period", [12, 24, 40])
def test_on_a_pure_sine_the_outcome_says_the_series_repeats_exactly_every_season(period):
    report = _report(np.sin(2 * np.pi * np.arange(600) / period), period)
    assert report.table["RMSE"].idxmin() == forecast.SEASONAL_NAIVE
    text = forecast.outcome(report)
    assert f"repeats exactly every {period} rows" in text and "nothing can beat it" in text


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_on_a_noisy_sine_the_outcome_claims_no_exact_repeat(seed):
    noise = np.random.default_rng(seed).normal(0, 0.1, 600)
    report = _report(np.sin(2 * np.pi * np.arange(600) / 24) + noise, 24)
    text = forecast.outcome(report)
    assert text.startswith("Lowest RMSE") and "repeats exactly" not in text


def test_a_season_length_that_does_not_match_claims_no_exact_repeat():
    report = _report(np.sin(2 * np.pi * np.arange(600) / 24), 17)
    assert "repeats exactly" not in forecast.outcome(report)


def test_when_a_trivial_answer_wins_the_outcome_says_the_network_does_not_beat_it():
    # the last value plus a constant drift: strictly worse than the last value itself on a random walk
    walk = np.cumsum(np.random.default_rng(0).normal(size=600))
    cfg = config(seq_len=10)
    report = forecast.evaluate(Persistence(drift=2.0), prepare(cfg, series(walk)), cfg, period=24)
    assert report.table["RMSE"].idxmin() == forecast.LAST_VALUE
    assert "does not beat this trivial answer" in forecast.outcome(report)


def test_forecast_page_explains_the_exact_seasonal_naive_on_a_pure_sine():
    at = app({"data": "sine", "noise": "0", "period": "40"}, page="pages/forecast.py")
    assert not at.exception
    text = " ".join(m.value for m in at.markdown)
    assert "repeats exactly every 40 rows" in text
    # no run is training: nothing to re-evaluate, so no button whose effect is unclear
    assert not [b for b in at.button if b.key == "forecast_refresh"]
