"""rnnlab's server: the Streamlit app (dashboard.py) and the live feed its charts read while a run trains.

`streamlit run app.py` finds the st.App below and serves both. The feed streams frames straight to the
charts (rnnlab/ui/feed.py), so a live run never reruns the page ten times a second: a rerun repaints
the whole app in the browser (about 50 ms of a core each, measured)."""

from rnnlab.jobs.context import start_fork_server

# First thing: the jobs' fork server imports and warms PyTorch up (seconds of a core) while the rest of the
# server loads (a few tenths of a second sooner than from the warm-up thread below).
start_fork_server()

import streamlit as st  # noqa: E402
from starlette.middleware import Middleware  # noqa: E402

from rnnlab.ui.boot import AppScripts, warm_up_in_background  # noqa: E402
from rnnlab.ui.feed import routes  # noqa: E402

warm_up_in_background()  # the first page's imports and later PyTorch, while the browser loads the app
app = st.App("dashboard.py", routes=routes(), middleware=[Middleware(AppScripts)])
