"""CSV upload: read the file, let the user pick columns, and make it this session's series."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from rnnlab.errors import RnnlabError
from rnnlab.series import data
from rnnlab.ui.session import workspace
from rnnlab.ui.settings import PREFIX

NO_TIME = "(row number)"


def _use(frame: pd.DataFrame, name: str) -> None:
    ws = workspace()
    ws.upload, ws.upload_name = frame, name
    st.session_state[PREFIX + "data"] = "upload"  # callbacks run before the sidebar is drawn
    st.session_state["preset_choice"] = ""


def panel() -> None:
    """The upload section of the Data page; errors are sentences and leave the app as it was."""
    st.subheader("Your own series")
    ws = workspace()
    if ws.upload is not None:
        st.caption(f"In use this session: **{ws.upload_name}**, {len(ws.upload):,} rows "
                   f"(choose *Uploaded CSV* as the series in the sidebar to train on it).")
    file = st.file_uploader("Upload a CSV file", type=["csv", "txt", "tsv"], key="csv_upload",
                            help="One row per time step; a time column (optional), a numeric target and "
                                 "optional numeric covariates. Comma, semicolon or tab separated.")
    if file is None:
        return
    try:
        table = data.read_csv(file.getvalue())
    except RnnlabError as exc:
        st.error(f"{file.name}: {exc}")
        return
    guess = data.guess_columns(table)
    if not guess.numeric:
        st.error(f"{file.name}: no column holds numbers, so there is nothing to forecast.")
        return
    columns = list(table.columns)
    time_options = [NO_TIME] + columns
    left, mid, right = st.columns(3)
    time_column = left.selectbox("Time column", time_options,
                                 index=time_options.index(guess.time) if guess.time in columns else 0,
                                 key="csv_time")
    target = mid.selectbox("Target (what to predict)", list(guess.numeric),
                           index=list(guess.numeric).index(guess.target) if guess.target in guess.numeric else 0,
                           key="csv_target")
    covariates = right.multiselect("Covariates (extra inputs)",
                                   [c for c in columns if c not in (target, time_column)], key="csv_covariates")
    try:
        frame = data.series_from_table(table, None if time_column == NO_TIME else time_column, target, covariates)
    except RnnlabError as exc:
        st.error(f"{file.name}: {exc}")
        return
    for note in frame.attrs.get("notes", []):
        st.info(note)
    st.dataframe(frame.head(10), width="stretch")
    st.button("Use this series", type="primary", on_click=_use, args=(frame, file.name), key="csv_use")
