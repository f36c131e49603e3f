"""rnnlab: the entry point. Page config, the shared sidebar of settings, navigation."""

from pathlib import Path

import streamlit as st

from rnnlab.ui import boot, runstore, settings
from rnnlab.ui.workspace_id import workspace_id

st.set_page_config(page_title="rnnlab: recurrent networks on time series", page_icon="〰️", layout="wide")
boot.start_server()
# Streamlit leaves 6rem above every page; on a projected 720p screen the charts need that room.
st.html("<style>[data-testid='stMainBlockContainer']{padding-top:2.5rem}</style>")

# Absolute paths: AppTest reruns lose relative page paths when the tests run from elsewhere.
HERE = Path(__file__).parent / "pages"
PAGES = [
    st.Page(HERE / "train.py", title="Train", icon=":material/play_circle:", default=True),
    st.Page(HERE / "shapes.py", title="Shapes", icon=":material/view_in_ar:", url_path="shapes"),
    st.Page(HERE / "data.py", title="Data", icon=":material/table_chart:", url_path="data"),
    st.Page(HERE / "inside.py", title="Inside", icon=":material/neurology:", url_path="inside"),
    st.Page(HERE / "forecast.py", title="Forecast", icon=":material/timeline:", url_path="forecast"),
    st.Page(HERE / "runs.py", title="Runs", icon=":material/stacked_line_chart:", url_path="runs"),
    st.Page(HERE / "glossary.py", title="Glossary", icon=":material/menu_book:", url_path="glossary"),
    st.Page(HERE / "sweep.py", title="Sweep", icon=":material/tune:", url_path="sweep"),
    st.Page(HERE / "teach.py", title="Teach", icon=":material/school:", url_path="teach"),
]
page = st.navigation(PAGES)
settings.sidebar()
# The browser's workspace id (its runs in the store): known at the first run of a visit (rnnlab.ui.workspace_id).
workspace = workspace_id()
runstore.load_workspace_if_kept(workspace)
page.run()
boot.first_page_done.set()
