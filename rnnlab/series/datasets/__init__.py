"""Small real series shipped with rnnlab as CSV files beside this module (sources in SOURCES.md).

Each CSV has a `time` column of ISO dates and one value column, the target.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from types import MappingProxyType
from typing import Any

import pandas as pd

from rnnlab.errors import DataError

__all__ = ["DatasetSpec", "DATASETS", "load_dataset"]


@dataclass(frozen=True)
class DatasetSpec:
    """A bundled dataset: its file, the words the UI shows, where it comes from, its pandas frequency, and
    the settings it needs to make sense (over the table's defaults; explicit settings override them)."""

    filename: str
    title: str
    description: str
    source: str
    frequency: str  # a pandas offset alias ("YS" yearly, "MS" monthly), e.g. to extend the index
    season: int = 1  # rows per seasonal cycle, for the seasonal naive baseline (1: no season)
    settings: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    covariates: tuple[str, ...] = ()  # every bundled file holds the target alone


DATASETS: dict[str, DatasetSpec] = {
    "sunspots": DatasetSpec(
        "sunspots.csv",
        "Sunspots (yearly, 1700-2008)",
        "Yearly mean sunspot number: a cycle of about 11 years whose height changes from cycle to cycle.",
        "NOAA National Geophysical Data Center, yearly sunspot numbers; public domain "
        "(as bundled with statsmodels, statsmodels.datasets.sunspots).",
        "YS",
        season=11,  # the solar cycle
        settings=MappingProxyType({"seq_len": 20}),  # about two solar cycles per window
    ),
    "nile": DatasetSpec(
        "nile.csv",
        "Nile flow (yearly, 1871-1970)",
        "Annual flow of the Nile at Aswan (10^8 m^3): 100 points with a drop near 1898. Short: use small windows.",
        "Cobb, G. W. (1978), 'The Problem of the Nile', Biometrika 65(2); public domain "
        "(as bundled with statsmodels, statsmodels.datasets.nile).",
        "YS",
        settings=MappingProxyType({"seq_len": 10}),  # 100 years: only short windows leave a validation part
    ),
    "co2": DatasetSpec(
        "co2.csv",
        "Mauna Loa CO2 (monthly, 1958-2001)",
        "Atmospheric CO2 (ppm) at Mauna Loa, Hawaii: a rising trend with a yearly cycle.",
        "Keeling, C.D. and T.P. Whorf (2004), Scripps Institution of Oceanography / CDIAC, Mauna Loa weekly "
        "CO2; public domain (as bundled with statsmodels, statsmodels.datasets.co2). Weekly values averaged "
        "to monthly means; 5 months without data filled by linear interpolation.",
        "MS",
        season=12,
        settings=MappingProxyType({"seq_len": 24}),  # two yearly cycles per window
    ),
}


def load_dataset(name: str) -> pd.DataFrame:
    """The bundled series `name`: index named time (dates), the target as the one float64 column."""
    spec = DATASETS.get(name)
    if spec is None:
        raise DataError(f"There is no bundled dataset named {name!r}; pick one of {', '.join(DATASETS)}.")
    with resources.files(__package__).joinpath(spec.filename).open("r", encoding="utf-8") as handle:
        frame = pd.read_csv(handle)
    frame["time"] = pd.to_datetime(frame["time"], format="%Y-%m-%d")
    frame = frame.set_index("time").astype("float64")
    frame.index = pd.DatetimeIndex(frame.index, freq=spec.frequency, name="time")
    return frame
