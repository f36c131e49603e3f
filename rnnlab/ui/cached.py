"""Per-config results shared by all sessions: pure functions of a frozen config, so safe to share."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from rnnlab.analysis.shapes import ParamRow, TraceRow, param_table, shape_trace
from rnnlab.config import DataConfig, RunConfig
from rnnlab.series import data


@st.cache_data(max_entries=64, show_spinner=False)
def series(data_config: DataConfig) -> pd.DataFrame:
    """A built-in series (generated or bundled); uploads are per-session and never pass through here."""
    return data.make_series(data_config)


@st.cache_data(max_entries=128, show_spinner=False)
def trace(config: RunConfig, input_size: int, batch_first: bool) -> list[TraceRow]:
    return shape_trace(config, input_size, batch_first=batch_first)


@st.cache_data(max_entries=128, show_spinner=False)
def params(config: RunConfig, input_size: int) -> list[ParamRow]:
    return param_table(config, input_size)
