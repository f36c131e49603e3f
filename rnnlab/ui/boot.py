"""Server start-up: plotly.js for the live charts, then, in the background, the job fork server and the job layer.

The first page view does not wait for PyTorch (seconds to import): a thread imports the job layer while
the page draws, so it is loaded by the time a person can press Train."""

from __future__ import annotations

import logging
import sys
import threading
import time

import streamlit as st

from rnnlab.ui.live_chart import ensure_plotly_js

FIRST_PAGE_GRACE = 0.3  # seconds: the first page's script gets the core before the imports start


def _warm_up() -> None:
    """Start the job fork server (a process of its own: it imports PyTorch and warms it up once, seconds,
    for every job forked from it), then import the job layer here (PyTorch again) while it does: the two
    take the two cores, so a first run can start about when the page can be clicked. The Inside and
    Forecast pages' first visit pays for the rest of this process's warm-up."""
    from rnnlab.jobs.context import start_fork_server

    start_fork_server()
    time.sleep(FIRST_PAGE_GRACE)
    import torch

    # Small recurrent models run fastest on one thread; several intra-op threads per job
    # fight the browser and the other jobs for two cores (13x slower, DESIGN.md).
    torch.set_num_threads(1)
    import rnnlab.ui.session  # noqa: F401  (the Train click's import, done now)


@st.cache_resource(show_spinner=False)
def start_server() -> threading.Thread:
    """Once per server process."""
    ensure_plotly_js()
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s rnnlab %(message)s"))
    jobs = logging.getLogger("rnnlab.jobs")
    jobs.addHandler(handler)
    jobs.setLevel(logging.INFO)
    thread = threading.Thread(target=_warm_up, name="rnnlab-warm-up", daemon=True)
    thread.start()
    return thread


def require_entry() -> None:
    """Every page runs under dashboard.py. A fresh server that is first asked for /runs (say) runs the page
    file alone, as an old-style `pages/` folder app, until dashboard.py has called st.navigation once;
    switch that mode off and rerun, so dashboard.py (sidebar, settings) runs first."""
    from streamlit.runtime.pages_manager import PagesManager

    # The flag is server-wide: a second session that started its run in the old mode while the first one
    # flipped the flag sees False here, yet runs without dashboard.py; its sidebar always sets "config".
    if PagesManager.uses_pages_directory or "config" not in st.session_state:
        PagesManager.uses_pages_directory = False
        st.rerun()
