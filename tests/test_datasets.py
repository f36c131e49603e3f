"""The bundled real series: each loads, is clean, and holds plausible values."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import rnnlab.series.datasets
from rnnlab.errors import DataError
from rnnlab.series.datasets import DATASETS, load_dataset
from rnnlab.series.generators import GENERATORS

PLAUSIBLE = {  # name: (rows, low, high) in the dataset's own units
    "sunspots": (309, 0, 300),
    "nile": (100, 300, 2000),
    "co2": (526, 300, 400),
}


def test_at_least_two_datasets_are_bundled_and_none_shares_a_generator_name():
    assert len(DATASETS) >= 2
    assert not set(DATASETS) & set(GENERATORS)


@pytest.mark.parametrize("name", DATASETS)
def test_dataset_loads_as_a_series_with_a_time_index(name):
    frame = load_dataset(name)
    assert frame.index.name == "time"
    assert isinstance(frame.index, pd.DatetimeIndex)
    assert frame.index.is_monotonic_increasing and frame.index.is_unique
    assert all(dtype == np.float64 for dtype in frame.dtypes)


@pytest.mark.parametrize("name", DATASETS)
def test_dataset_has_no_missing_values(name):
    assert not load_dataset(name).isna().any().any()


@pytest.mark.parametrize("name", PLAUSIBLE)
def test_dataset_values_are_plausible(name):
    rows, low, high = PLAUSIBLE[name]
    target = load_dataset(name).iloc[:, 0]
    assert len(target) == rows
    assert low <= target.min() and target.max() <= high


@pytest.mark.parametrize("name", DATASETS)
def test_dataset_index_follows_its_declared_frequency(name):
    frame = load_dataset(name)
    expected = pd.date_range(frame.index[0], periods=len(frame), freq=DATASETS[name].frequency)
    assert (frame.index == expected).all()


@pytest.mark.parametrize("name", DATASETS)
def test_dataset_file_ships_inside_the_package_with_its_source_noted(name):
    folder = Path(rnnlab.series.datasets.__file__).parent
    spec = DATASETS[name]
    assert (folder / spec.filename).stat().st_size < 20_000
    assert "public domain" in spec.source
    assert f"`{name}`" in (folder / "SOURCES.md").read_text()


def test_co2_rises_over_the_decades():
    co2 = load_dataset("co2")["co2"]
    assert co2["2001"].mean() - co2["1960"].mean() > 40


def test_unknown_dataset_is_refused_with_the_valid_names():
    with pytest.raises(DataError, match="sunspots"):
        load_dataset("nope")


@pytest.mark.parametrize("name", DATASETS)
def test_a_datasets_declared_covariates_and_settings_hold(name):
    from rnnlab.config import FIELD_BY_NAME, RunConfig
    from rnnlab.series.data import prepare

    assert tuple(load_dataset(name).columns[1:]) == DATASETS[name].covariates
    for setting, value in DATASETS[name].settings.items():
        FIELD_BY_NAME[setting].check(value)
    # Its own settings leave every part of the split room for a window.
    prepare(RunConfig.from_flat({"data": name}), load_dataset(name))
