"""The synthetic series: shape conventions, determinism, and that each one is what its name says."""

import numpy as np
import pandas as pd
import pytest

from rnnlab.series.generators import GENERATORS

NAMES = list(GENERATORS)


def autocorrelation(x: np.ndarray, lag: int) -> float:
    x = x - x.mean()
    return float((x[lag:] * x[:-lag]).sum() / (x * x).sum())


def test_registry_holds_the_documented_generators():
    assert set(GENERATORS) == {"sine", "sines", "square", "sawtooth", "damped", "ar", "random_walk",
                               "mackey_glass", "echo", "load"}


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("length", [50, 1001])
def test_generator_returns_exactly_length_float_rows_indexed_by_time(name, length):
    frame = GENERATORS[name].fn(length, 24.0, 0.1, 0)
    assert len(frame) == length
    assert frame.index.name == "time"
    assert all(dtype == np.float64 for dtype in frame.dtypes)
    assert np.isfinite(frame.to_numpy()).all()


@pytest.mark.parametrize("name", [n for n in NAMES if n != "load"])
def test_synthetic_generators_use_a_range_index(name):
    frame = GENERATORS[name].fn(100, 10.0, 0.0, 0)
    assert isinstance(frame.index, pd.RangeIndex)


@pytest.mark.parametrize("name", NAMES)
def test_same_seed_gives_the_same_series(name):
    spec = GENERATORS[name]
    pd.testing.assert_frame_equal(spec.fn(500, 20.0, 0.3, 7), spec.fn(500, 20.0, 0.3, 7))


@pytest.mark.parametrize("name", NAMES)
def test_different_seeds_give_different_series(name):
    spec = GENERATORS[name]
    assert not np.allclose(spec.fn(500, 20.0, 0.3, 1).to_numpy(), spec.fn(500, 20.0, 0.3, 2).to_numpy())


@pytest.mark.parametrize("name", NAMES)
def test_noise_is_gaussian_of_the_given_std_on_the_target_only(name):
    spec = GENERATORS[name]
    clean, noisy = spec.fn(20_000, 30.0, 0.0, 3), spec.fn(20_000, 30.0, 0.5, 3)
    added = noisy.iloc[:, 0] - clean.iloc[:, 0]
    assert added.std() == pytest.approx(0.5, rel=0.03)
    assert abs(added.mean()) < 0.02
    pd.testing.assert_frame_equal(clean.iloc[:, 1:], noisy.iloc[:, 1:])


def test_sine_is_the_classic_wave_sampled_period_times_per_cycle():
    frame = GENERATORS["sine"].fn(200, 40.0, 0.0, 0)
    t = np.arange(200)
    np.testing.assert_allclose(frame["sine"], np.sin(2 * np.pi * t / 40.0), atol=1e-12)


@pytest.mark.parametrize("name", ["sine", "square", "sawtooth"])
def test_periodic_generators_repeat_after_exactly_one_period(name):
    values = GENERATORS[name].fn(400, 25.0, 0.0, 0).iloc[:, 0].to_numpy()
    np.testing.assert_allclose(values[25:], values[:-25], atol=1e-9)
    assert not np.allclose(values[12:], values[:-12])


def test_sine_crosses_zero_upwards_once_per_period():
    values = GENERATORS["sine"].fn(4000, 37.5, 0.0, 0)["sine"].to_numpy()
    upward = np.flatnonzero((values[:-1] < 0) & (values[1:] >= 0))
    assert np.abs(np.diff(upward) - 37.5).max() <= 1  # whole samples around a fractional period
    assert (upward[-1] - upward[0]) / (len(upward) - 1) == pytest.approx(37.5, abs=0.05)


def test_square_takes_only_plus_and_minus_one_half_the_time_each():
    values = GENERATORS["square"].fn(1000, 20.0, 0.0, 0)["square"]
    assert set(values.unique()) == {-1.0, 1.0}
    assert (values > 0).mean() == pytest.approx(0.5)


def test_sines_never_repeat_at_the_base_period():
    values = GENERATORS["sines"].fn(2000, 30.0, 0.0, 0)["sines"].to_numpy()
    assert autocorrelation(values, 30) < 0.9


def test_damped_oscillation_is_struck_again_so_a_long_series_stays_alive():
    values = GENERATORS["damped"].fn(20_000, 20.0, 0.0, 0)["damped"].to_numpy()
    peak_per_block = np.abs(values).reshape(20, -1).max(axis=1)
    assert peak_per_block.min() > 0.3  # every stretch of 50 periods still swings


def test_ar_process_is_stationary_with_unit_variance_and_cycles_near_the_period():
    values = GENERATORS["ar"].fn(50_000, 20.0, 0.0, 0)["ar"].to_numpy()
    halves = values.reshape(2, -1)
    assert halves.std(axis=1) == pytest.approx([1.0, 1.0], rel=0.1)
    assert autocorrelation(values, 10) < 0 < autocorrelation(values, 20)  # half a cycle apart: opposite


def test_random_walk_steps_have_std_one_over_sqrt_period():
    values = GENERATORS["random_walk"].fn(40_000, 25.0, 0.0, 0)["random_walk"].to_numpy()
    assert np.diff(values).std() == pytest.approx(1 / 5, rel=0.03)


def test_mackey_glass_is_bounded_and_not_constant():
    values = GENERATORS["mackey_glass"].fn(5000, 40.0, 0.0, 0)["mackey_glass"].to_numpy()
    assert 0 < values.min() and values.max() < 2
    assert values.std() > 0.1
    assert values[-1000:].std() > 0.1  # still chaotic at the end, not settled on a fixed point


def test_mackey_glass_period_sets_the_sampling_rate():
    coarse = GENERATORS["mackey_glass"].fn(500, 20.0, 0.0, 0)["mackey_glass"].to_numpy()
    fine = GENERATORS["mackey_glass"].fn(1000, 40.0, 0.0, 0)["mackey_glass"].to_numpy()
    np.testing.assert_allclose(fine[::2], coarse, atol=1e-9)  # same trajectory, twice the samples


def test_echo_target_is_the_signal_delayed_by_period_samples():
    frame = GENERATORS["echo"].fn(1000, 30.4, 0.0, 5)
    assert list(frame.columns) == ["echo", "signal"]
    np.testing.assert_array_equal(frame["echo"].to_numpy()[30:], frame["signal"].to_numpy()[:-30])
    assert (frame["echo"].to_numpy()[:30] == 0).all()
    assert (frame["signal"] != 0).mean() == pytest.approx(0.2, abs=0.05)  # sparse pulses


def test_load_has_the_target_and_six_named_covariates_on_an_hourly_clock():
    frame = GENERATORS["load"].fn(500, 24.0, 0.0, 0)
    assert list(frame.columns) == ["load", "wind", "temperature", "pressure", "humidity", "weather", "holiday"]
    assert isinstance(frame.index, pd.DatetimeIndex)
    assert (frame.index[1:] - frame.index[:-1] == pd.Timedelta(hours=1)).all()
    assert set(frame["weather"].unique()) <= {0.0, 1.0, 2.0}
    assert set(frame["holiday"].unique()) <= {0.0, 1.0}


def test_load_has_daily_and_weekly_seasonality():
    load = GENERATORS["load"].fn(24 * 7 * 16, 24.0, 0.0, 0)["load"].to_numpy()
    assert autocorrelation(load, 24) > 0.5
    assert autocorrelation(load, 168) > 0.4
    assert autocorrelation(load, 168) > autocorrelation(load, 84) + 0.2  # the weekend recurs weekly


def test_load_covariates_explain_load_beyond_its_calendar():
    frame = GENERATORS["load"].fn(24 * 7 * 16, 24.0, 0.0, 0)
    y = frame["load"].to_numpy()
    calendar = np.column_stack([np.eye(24)[frame.index.hour], frame.index.day_of_week >= 5])
    weather = np.column_stack([calendar, frame["holiday"], np.maximum(0, 15 - frame["temperature"]),
                               frame["weather"]])

    def explained(x: np.ndarray) -> float:
        residual = y - x @ np.linalg.lstsq(x, y, rcond=None)[0]
        return 1 - residual.var() / y.var()

    assert explained(weather) > explained(calendar) + 0.2


def test_load_period_is_samples_per_day():
    frame = GENERATORS["load"].fn(100, 48.0, 0.0, 0)
    assert frame.index[1] - frame.index[0] == pd.Timedelta(minutes=30)


@pytest.mark.parametrize("name", NAMES)
def test_declared_covariates_are_the_columns_after_the_target(name):
    frame = GENERATORS[name].fn(100, 24.0, 0.0, 0)
    assert tuple(frame.columns[1:]) == GENERATORS[name].covariates


@pytest.mark.parametrize("name", NAMES)
def test_a_generators_own_settings_are_valid_settings(name):
    from rnnlab.config import FIELD_BY_NAME

    for setting, value in GENERATORS[name].settings.items():
        FIELD_BY_NAME[setting].check(value)
