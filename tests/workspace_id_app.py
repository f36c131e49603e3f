"""A page that only shows this browser's workspace id (tests of rnnlab.ui.workspace_id)."""

import streamlit as st

from rnnlab.ui.workspace_id import workspace_id

st.markdown(f"workspace: `{workspace_id()}`")
st.button("Rerun", key="rerun")
