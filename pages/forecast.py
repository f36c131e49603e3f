"""Forecast: one-step versus free-running predictions, and whether the network beats the trivial answers."""

import numpy as np
import streamlit as st

from rnnlab.analysis import forecast
from rnnlab.errors import RnnlabError
from rnnlab.figures import forecast as forecast_charts
from rnnlab.ui import settings
from rnnlab.ui.boot import require_entry
from rnnlab.ui.subject import subject

require_entry()

st.title("Forecasts that tell the truth")
settings.show_link_warnings()
config = st.session_state["config"]
st.markdown(
    "**One-step** predictions get the true past at every step (teacher forcing). A **free-running** forecast "
    "feeds its own predictions back, as a real forecast must. Both are compared with two trivial answers: "
    "the **last value** and the **seasonal naive** forecast (the value one season ago)."
)
try:
    s = subject(config)
except RnnlabError as exc:
    st.error(str(exc))
    st.stop()

left, right, refresh = st.columns([2, 2, 1.3], vertical_alignment="bottom")
part = left.radio("Evaluate on", ["test", "val"], horizontal=True, key="forecast_part",
                  format_func={"test": "test part", "val": "validation part"}.get)
period = right.number_input("Season length (rows) for the seasonal naive baseline", 1, 10_000,
                            forecast.season_length(s.config), key=f"forecast_period_{s.config.data.data}")
if s.active:  # the page evaluates the weights once, when drawn; a run in training moves on meanwhile
    refresh.button("Evaluate latest weights", key="forecast_refresh", width="stretch",
                   help="The run is still training: forecast again with its weights as they are now.")
covariates = s.prepared.input_size - 1
known = covariates > 0 and st.toggle(
    "Covariates known in advance", key="forecast_known_covariates",
    help="On: the free-running forecast reads the true future covariates (right for a calendar or holidays). "
         "Off: it holds them at their last known value (right for measurements such as temperature).")
st.caption(f"Evaluating {s.label}. {forecast.covariate_assumption(covariates, known)}")
if not s.trained:
    st.warning("This model has not been trained yet, so expect it to lose to the baselines.")

try:
    with st.spinner("Forecasting..."):
        report = forecast.evaluate(s.model, s.prepared, s.config, part=part, period=period,
                                  known_covariates=known)
except RnnlabError as exc:
    st.error(str(exc))
    st.stop()

st.plotly_chart(forecast_charts.forecast_figure(report), key="forecast_chart")
st.subheader("Scores (original units)")
# st.dataframe draws a missing number as "None": a column with an undefined score is shown as text, "—" there.
scores = report.table.rename(columns={"MAPE": "MAPE (%)"})
columns = {}
for name in scores.columns:
    if scores[name].isna().any():
        scores[name] = [f"{value:.4g}" if np.isfinite(value) else "—" for value in scores[name]]
        columns[name] = st.column_config.TextColumn(name, alignment="right")
    else:
        columns[name] = st.column_config.NumberColumn(name, format="%.4g")
st.dataframe(scores, column_config=columns, width="stretch")
st.markdown(forecast.outcome(report))
st.caption("MAPE (mean absolute percentage error) is left out (—) where the truth crosses or touches zero; R² "
           "where the truth is constant.")
st.plotly_chart(forecast_charts.horizon_figure(report), key="horizon_chart")
