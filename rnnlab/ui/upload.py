"""CSV upload: read the file, let the user pick columns, and make it this session's series."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from rnnlab.errors import RnnlabError
from rnnlab.figures import charts
from rnnlab.series import csvfile
from rnnlab.series.data import rows_needed, split_bounds
from rnnlab.ui.session import workspace
from rnnlab.ui.settings import PREFIX, SEQ_LEN_CHOICES

NO_TIME = "(row number)"
NOTICE = "upload_notice"


def fitting_seq_len(rows: int, seq_len: int, val: float, test: float, head: str, horizon: int) -> int | None:
    """The longest sequence length (seq_len itself, else one of the sidebar's choices below it) whose
    window fits every part of a `rows`-row series split by these fractions; None if none does."""
    shortest = min(end - start for start, end in split_bounds(rows, val, test).values())
    for candidate in [seq_len, *sorted((c for c in SEQ_LEN_CHOICES if c < seq_len), reverse=True)]:
        if rows_needed(candidate, head, horizon) <= shortest:
            return candidate
    return None


def _use(frame: pd.DataFrame, name: str) -> None:
    ws = workspace()
    ws.upload, ws.upload_name = frame, name
    if "data" in st.session_state.get("pins", {}):  # a class link that hides or locks the series
        st.session_state[NOTICE] = f"{name} is kept for this session, but the link you opened fixes the series."
        return
    st.session_state[PREFIX + "data"] = "upload"  # callbacks run before the sidebar is drawn
    st.session_state["preset_choice"] = ""
    _fit_seq_len(len(frame))


def _fit_seq_len(rows: int) -> None:
    """A sequence length the new series is too short for is shortened, with a note (the previous preset's
    100 steps do not fit a 400-row upload's 60-row validation part)."""
    get = {name: st.session_state.get(PREFIX + name) for name in ("seq_len", "val", "test", "head", "horizon")}
    if None in get.values():
        return
    fits = fitting_seq_len(rows, **get)
    if fits == get["seq_len"] or fits is None:  # None: the Data page explains what is too short
        return
    if "seq_len" in st.session_state.get("pins", {}):
        st.session_state[NOTICE] = (f"Sequence length {get['seq_len']} is too long for this {rows:,}-row series, "
                                    "and the link you opened fixes it; ask for a longer series.")
        return
    st.session_state[PREFIX + "seq_len"] = fits
    st.session_state[NOTICE] = (f"Sequence length set from {get['seq_len']} to {fits}: with {rows:,} rows, the "
                                "shortest part (validation or test) cannot hold a longer window. Change it in "
                                "the sidebar's Training section.")


def show_notice() -> None:
    """The note of the last "Use this series", once."""
    notice = st.session_state.pop(NOTICE, "")
    if notice:
        st.info(notice)


def panel() -> None:
    """The upload section of the Data page; errors are sentences and leave the app as it was."""
    st.subheader("Your own series")
    ws = workspace()
    if ws.upload is not None:
        chosen = st.session_state["config"].data.data == "upload"
        st.caption(f"In use this session: **{ws.upload_name}**, {len(ws.upload):,} rows "
                   + ("(the sidebar's series: Train trains on it)." if chosen
                      else "(choose *Uploaded CSV* as the series in the sidebar to train on it)."))
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
    st.dataframe(charts.readable_index(frame.head(10)), width="stretch")
    st.button("Use this series", type="primary", on_click=_use, args=(frame, file.name), key="csv_use")
