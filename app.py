"""rnnlab: the entry point. Page config, the shared sidebar of settings, navigation."""

import streamlit as st

from rnnlab.ui import boot, settings

st.set_page_config(page_title="rnnlab: recurrent networks on time series", page_icon="〰️", layout="wide")
boot.start_server()

PAGES = [
    st.Page("pages/train.py", title="Train", icon=":material/play_circle:", url_path="train", default=True),
    st.Page("pages/shapes.py", title="Shapes", icon=":material/view_in_ar:", url_path="shapes"),
    st.Page("pages/data.py", title="Data", icon=":material/table_chart:", url_path="data"),
]
page = st.navigation(PAGES)
settings.sidebar()
page.run()
