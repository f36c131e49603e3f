"""Sweep: which settings are best, and how much each matters. Every trial is a training run on the server's
cores; the sidebar's values are the fixed settings."""

import streamlit as st

from rnnlab.ui import settings
from rnnlab.ui import sweep as sweep_ui
from rnnlab.ui.boot import require_entry

require_entry()

st.header("Sweep settings")
settings.show_link_warnings()
st.caption("Pick settings and their ranges; each trial trains the sidebar's run with them changed. Hopeless "
           "trials are stopped early. The same sweep runs from the command line: `python -m rnnlab sweep`.")
sweep_ui.controls(st.session_state["config"])
sweep_ui.live_view()
