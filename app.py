"""rnnlab's server: the Streamlit app (dashboard.py) and the live feed its charts read while a run trains.

`streamlit run app.py` finds the st.App below and serves both. The feed streams frames straight to the
charts (rnnlab/ui/feed.py), so a live run never reruns the page ten times a second: a rerun repaints
the whole app in the browser (about 50 ms of a core each, measured)."""

import streamlit as st
from starlette.middleware import Middleware

from rnnlab.ui.boot import AppScripts, warm_up_in_background
from rnnlab.ui.feed import routes

warm_up_in_background()  # the fork server and the first page's imports, while the browser loads the app
app = st.App("dashboard.py", routes=routes(), middleware=[Middleware(AppScripts)])
