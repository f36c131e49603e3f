"""Synthetic series. Each generator is a plain function (length, period, noise, seed) -> DataFrame.

Conventions: exactly `length` rows, index named "time", column 0 the target, further columns
covariates, all float64; Gaussian noise of std `noise` is added to the target only.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["GeneratorSpec", "GENERATORS"]


@dataclass(frozen=True)
class GeneratorSpec:
    """A named generator: the function, the words the UI shows for it, the settings it needs to make
    sense (over the settings table's defaults; explicit settings override them) and its covariate columns."""

    fn: Callable[[int, float, float, int], pd.DataFrame]
    title: str
    description: str
    settings: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    covariates: tuple[str, ...] = ()


def _rngs(seed: int) -> tuple[np.random.Generator, np.random.Generator]:
    """Separate streams for the series and the noise, so changing `noise` keeps the same series."""
    series_seed, noise_seed = np.random.SeedSequence(seed).spawn(2)
    return np.random.default_rng(series_seed), np.random.default_rng(noise_seed)


def _frame(columns: dict[str, np.ndarray], noise: float, seed: int, index: pd.Index | None = None) -> pd.DataFrame:
    """Assemble the series: target first, noise on the target only, index named time."""
    frame = pd.DataFrame({name: np.asarray(values, dtype=np.float64) for name, values in columns.items()})
    if noise > 0:
        _, noise_rng = _rngs(seed)
        frame.iloc[:, 0] += noise * noise_rng.standard_normal(len(frame))
    frame.index = index if index is not None else pd.RangeIndex(len(frame))
    frame.index.name = "time"
    return frame


def sine(length: int, period: float, noise: float, seed: int) -> pd.DataFrame:
    """sin(2*pi*t/period): the classic notebook's wave, `period` samples per cycle."""
    t = np.arange(length)
    return _frame({"sine": np.sin(2 * np.pi * t / period)}, noise, seed)


def sines(length: int, period: float, noise: float, seed: int) -> pd.DataFrame:
    """Three sines whose periods never line up (ratios 1 : golden ratio : sqrt 7), random phases."""
    rng, _ = _rngs(seed)
    t = np.arange(length)
    periods = period * np.array([1.0, (1 + 5**0.5) / 2, 7**0.5])
    amplitudes = np.array([1.0, 0.6, 0.35])
    phases = rng.uniform(0, 2 * np.pi, size=3)
    y = sum(a * np.sin(2 * np.pi * t / p + phi) for a, p, phi in zip(amplitudes, periods, phases, strict=True))
    return _frame({"sines": y}, noise, seed)


def square(length: int, period: float, noise: float, seed: int) -> pd.DataFrame:
    """+1 for the first half of each cycle, -1 for the second."""
    phase = (np.arange(length) / period) % 1.0
    return _frame({"square": np.where(phase < 0.5, 1.0, -1.0)}, noise, seed)


def sawtooth(length: int, period: float, noise: float, seed: int) -> pd.DataFrame:
    """Rises linearly from -1 to 1 over each cycle, then drops back."""
    phase = (np.arange(length) / period) % 1.0
    return _frame({"sawtooth": 2 * phase - 1}, noise, seed)


def damped(length: int, period: float, noise: float, seed: int) -> pd.DataFrame:
    """A decaying oscillation, struck again (random strength and phase) every 3 to 8 cycles."""
    rng, _ = _rngs(seed)
    t = np.arange(length, dtype=np.float64)
    # Enough restarts to cover the series even if every gap is the shortest one.
    count = int(length / (3 * period)) + 2
    gaps = rng.uniform(3 * period, 8 * period, size=count)
    starts = np.concatenate([[0.0], np.cumsum(gaps)])
    strength = rng.uniform(0.5, 1.5, size=len(starts))
    phase = rng.uniform(0, 2 * np.pi, size=len(starts))
    segment = np.searchsorted(starts, t, side="right") - 1
    since = t - starts[segment]
    y = strength[segment] * np.exp(-since / (1.5 * period)) * np.cos(2 * np.pi * since / period + phase[segment])
    return _frame({"damped": y}, noise, seed)


def ar(length: int, period: float, noise: float, seed: int) -> pd.DataFrame:
    """A stationary AR(2) process whose complex roots give a noisy cycle of about `period` samples."""
    rng, _ = _rngs(seed)
    # Roots r*exp(+-i*theta): theta sets the cycle, r < 1 keeps it stationary; a cycle lives ~`period` samples.
    theta, r = 2 * np.pi / period, np.exp(-1.0 / period)
    a1, a2 = 2 * r * np.cos(theta), -r * r
    burn_in = int(5 * period) + 10  # forget the zero start
    shocks = rng.standard_normal(length + burn_in)
    x = np.zeros(length + burn_in)
    for t in range(2, len(x)):  # a plain loop: ~40 ms for 100,000 points, no scipy needed
        x[t] = a1 * x[t - 1] + a2 * x[t - 2] + shocks[t]
    # Stationary variance of AR(2) with unit shocks, so the series has std about 1.
    variance = (1 - a2) / ((1 + a2) * ((1 - a2) ** 2 - a1**2))
    return _frame({"ar": x[burn_in:] / np.sqrt(variance)}, noise, seed)


def random_walk(length: int, period: float, noise: float, seed: int) -> pd.DataFrame:
    """A Gaussian random walk; steps of std 1/sqrt(period), so it wanders about 1 per `period` samples."""
    rng, _ = _rngs(seed)
    return _frame({"random_walk": np.cumsum(rng.standard_normal(length)) / np.sqrt(period)}, noise, seed)


# Mackey-Glass: dx/dt = beta * x(t - tau) / (1 + x(t - tau)^n) - gamma * x(t), chaotic at tau = 17.
_MG_BETA, _MG_GAMMA, _MG_N, _MG_TAU = 0.2, 0.1, 10, 17.0
_MG_SUBSTEPS = 170  # integration steps per delay tau: h = 0.1 time units
_MG_CYCLE = 50.0  # its quasi-period in time units; `period` samples span one of them


def mackey_glass(length: int, period: float, noise: float, seed: int) -> pd.DataFrame:
    """The Mackey-Glass delay equation (tau = 17): chaotic, long memory; sampled `period` times per ~50 time units."""
    rng, _ = _rngs(seed)
    m, h = _MG_SUBSTEPS, _MG_TAU / _MG_SUBSTEPS
    # Exponential Euler: the decay term is solved exactly over a step, the delayed term held constant.
    decay = np.exp(-_MG_GAMMA * h)
    # Within one block of m steps every delayed value is already known, so a block is one matrix product:
    # x[k+j] = decay^(j+1) x[k-1] + sum_{i<=j} decay^(j-i) * gain * f(x[k+i-m]).
    powers = decay ** np.arange(m + 1)
    lags = np.arange(m)[:, None] - np.arange(m)[None, :]
    gain = (1 - decay) / _MG_GAMMA
    mix = np.where(lags >= 0, powers[np.clip(lags, 0, m)], 0.0) * gain
    carry = powers[1:]

    step = _MG_CYCLE / period / h  # integration steps between two samples (not necessarily whole)
    burn_in = 30 * m  # about 500 time units: leave the transient from the initial history behind
    history = 1.2 + 0.1 * rng.standard_normal(m)  # x on [-tau, 0): the seed picks the trajectory
    grid_x = np.arange(m + 1)
    samples, done, start = [], 0, 0  # `start`: grid index of the block's first point
    while done < length:
        block = carry * history[-1] + mix @ (_MG_BETA * history / (1 + history**_MG_N))
        # Sample i sits at grid index burn_in + i*step; take those in [start - 1, start - 1 + m).
        low = max(0, int(math.ceil((start - 1 - burn_in) / step)))
        high = min(length, int(math.ceil((start - 1 + m - burn_in) / step)))
        if high > low:
            positions = burn_in + step * np.arange(low, high) - (start - 1)
            samples.append(np.interp(positions, grid_x, np.concatenate([history[-1:], block])))
            done = high
        history, start = block, start + m
    return _frame({"mackey_glass": np.concatenate(samples)}, noise, seed)


def echo(length: int, period: float, noise: float, seed: int) -> pd.DataFrame:
    """Long memory: target `echo` repeats the covariate `signal` (sparse random pulses) `period` samples later."""
    rng, _ = _rngs(seed)
    delay = int(round(period))
    pulses = rng.random(length) < 0.2
    signal = np.where(pulses, rng.uniform(-1, 1, size=length), 0.0)
    target = np.zeros(length)
    target[delay:] = signal[: max(0, length - delay)]
    return _frame({"echo": target, "signal": signal}, noise, seed)


def load(length: int, period: float, noise: float, seed: int) -> pd.DataFrame:
    """Synthetic electric load (GW) with weather, temperature and holidays; `period` samples per day."""
    rng, _ = _rngs(seed)
    seconds = max(1, round(86_400 / period))  # 24 -> hourly
    index = pd.date_range("2024-01-01", periods=length, freq=pd.Timedelta(seconds=seconds))  # a Monday
    days = np.arange(length) * seconds / 86_400
    hour = (days % 1) * 24
    day = np.floor(days).astype(int)
    weekday = day % 7

    def smooth(persistence_hours: float, std: float) -> np.ndarray:
        """An AR(1) wander with the given memory in hours and stationary std."""
        phi = np.exp(-seconds / 3600 / persistence_hours)
        shocks = rng.standard_normal(length) * std * np.sqrt(1 - phi**2)
        out = np.empty(length)
        out[0] = rng.standard_normal() * std
        for t in range(1, length):
            out[t] = phi * out[t - 1] + shocks[t]
        return out

    # Winter start: cold mornings, milder afternoons, a slow seasonal warming, and weather fronts.
    season = 4 - 6 * np.cos(2 * np.pi * (days + 10) / 365.25)
    temperature = season + 4 * np.sin(2 * np.pi * (hour - 9) / 24) + smooth(36, 4)
    pressure = 1013 + smooth(60, 8)
    humidity = np.clip(70 - 1.5 * (pressure - 1013) - 2 * (temperature - season) + smooth(12, 5), 20, 100)
    weather = np.where(pressure < 1006, 2.0, np.where(pressure < 1016, 1.0, 0.0))  # 0 clear, 1 cloudy, 2 rain
    wind = np.abs(5 + 0.4 * (1013 - pressure) + smooth(8, 2.5))
    holiday_days = rng.random(day.max() + 1) < 1 / 25
    holiday = holiday_days[day].astype(float)

    # Load: a two-peak daily profile, lower at weekends and on holidays, more heating when cold,
    # cooling when hot, lights on in bad weather.
    profile = (0.75 + 0.2 * np.exp(-((hour - 8.5) ** 2) / 6) + 0.3 * np.exp(-((hour - 19) ** 2) / 8)
               - 0.15 * np.exp(-((hour - 3.5) ** 2) / 8))
    activity = np.where(weekday >= 5, 0.82, 1.0) * np.where(holiday > 0, 0.78, 1.0)
    heating = 0.02 * np.maximum(0, 15 - temperature)
    cooling = 0.03 * np.maximum(0, temperature - 22)
    lighting = 0.025 * weather * ((hour < 8) | (hour > 16))
    value = profile * activity + heating + cooling + lighting + smooth(6, 0.01)
    columns = {"load": value, "wind": wind, "temperature": temperature, "pressure": pressure,
               "humidity": humidity, "weather": weather, "holiday": holiday}
    return _frame(columns, noise, seed, index=index)


GENERATORS: dict[str, GeneratorSpec] = {
    "sine": GeneratorSpec(sine, "Sine wave", "sin(2*pi*t/period): one clean cycle every `period` samples."),
    "sines": GeneratorSpec(sines, "Three sines", "A sum of three sine waves whose periods never line up."),
    "square": GeneratorSpec(square, "Square wave", "Jumps between +1 and -1 every half period."),
    "sawtooth": GeneratorSpec(sawtooth, "Sawtooth", "Rises steadily over each period, then falls back at once."),
    "damped": GeneratorSpec(damped, "Damped oscillation",
                            "A ringing that dies away and is struck again at random every few periods."),
    "ar": GeneratorSpec(ar, "AR(2) process",
                        "A random process that remembers its last two values: a noisy cycle of about `period`."),
    "random_walk": GeneratorSpec(random_walk, "Random walk",
                                 "Each point is the last plus a random step: not predictable beyond the trend."),
    "mackey_glass": GeneratorSpec(mackey_glass, "Mackey-Glass (chaotic)",
                                  "A chaotic delay equation (tau = 17): deterministic, yet never repeats."),
    # Windows twice the delay, so every echo's pulse is inside the window that must repeat it.
    "echo": GeneratorSpec(echo, "Echo (long memory)",
                          "The target repeats the input signal `period` steps later: a test of memory.",
                          MappingProxyType({"period": 30.0, "seq_len": 60}), covariates=("signal",)),
    # Hourly samples for twelve weeks: a day is 24 samples, and the weekly cycle repeats a dozen times.
    "load": GeneratorSpec(load, "Electric load (7 features)",
                          "Hourly electricity demand with wind, temperature, pressure, humidity, weather "
                          "and holidays; daily and weekly cycles; `period` samples per day.",
                          MappingProxyType({"period": 24.0, "length": 2016}),
                          covariates=("wind", "temperature", "pressure", "humidity", "weather", "holiday")),
}
