"""CSV upload: read the file, let the user pick columns, and make it this session's series."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from rnnlab.errors import RnnlabError
from rnnlab.series import csvfile
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
        table = csvfile.read_csv(file.getvalue())
    except RnnlabError as exc:
        st.error(f"{file.name}: {exc}")
        return
    guess = csvfile.guess_columns(table)
    if guess.notes:  # why a column is missing from the pickers, or preselected as the time
        st.info("\n\n".join(guess.notes))
    if not guess.numeric:
        st.error(f"{file.name}: no column holds usable numbers, so there is nothing to forecast.")
        return
    columns = list(table.columns)
    time_options = [NO_TIME] + columns
    left, mid, right = st.columns(3)
    time_column = left.selectbox("Time column", time_options,
                                 index=time_options.index(guess.time) if guess.time in columns else 0,
                                 key="csv_time")
    targets = [c for c in guess.numeric if c != time_column]
    if not targets:
        st.error(f"{file.name}: {time_column!r} is the time column and no other column holds usable numbers; "
                 f"choose {NO_TIME} as the time column to forecast {time_column!r} itself.")
        return
    target = mid.selectbox("Target (what to predict)", targets,
                           index=targets.index(guess.target) if guess.target in targets else 0, key="csv_target")
    covariates = right.multiselect("Covariates (extra inputs)",
                                   [c for c in guess.numeric if c not in (target, time_column)],
                                   key="csv_covariates")
    try:
        frame = csvfile.series_from_table(table, None if time_column == NO_TIME else time_column, target, covariates)
    except RnnlabError as exc:
        st.error(f"{file.name}: {exc}")
        return
    for note in frame.attrs.get("notes", []):
        st.info(note)
    st.dataframe(frame.head(10), width="stretch")
    st.button("Use this series", type="primary", on_click=_use, args=(frame, file.name), key="csv_use")
