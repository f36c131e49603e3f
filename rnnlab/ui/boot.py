"""Server start-up: plotly.js for the live charts; in the background, the job fork server, the first
page's modules and the job layer.

The first page view does not wait for PyTorch (seconds to import): a thread imports the job layer while
the browser loads the app, so it is loaded by the time a person can press Train."""

from __future__ import annotations

import logging
import sys
import threading

import streamlit as st

from rnnlab.ui.live_chart import ensure_plotly_js

_started = threading.Event()  # the warm-up runs once per process, whoever asks first
first_page_done = threading.Event()  # set by dashboard.py when a page view has been drawn
FIRST_PAGE_WAIT = 6.0  # seconds: a server nobody visits warms up anyway
_start_lock = threading.Lock()


def _warm_up() -> None:
    """Start the job fork server (a process of its own: it imports PyTorch and warms it up once, seconds,
    for every job forked from it), import what the first page view needs (its modules: about a second,
    pandas included), then the job layer (PyTorch again, seconds), all while the browser is still
    loading the app's JavaScript. The Inside and Forecast pages' first visit pays for the rest."""
    from rnnlab.jobs.context import start_fork_server

    start_fork_server()
    import rnnlab.ui.lesson  # noqa: F401  (the Train page's modules: settings, live view, lessons)
    import rnnlab.ui.runstore  # noqa: F401

    # PyTorch's import holds the interpreter for seconds: not while the first page runs and the server
    # hands the browser the page's scripts (that doubled the time to a usable page, measured).
    first_page_done.wait(timeout=FIRST_PAGE_WAIT)
    import torch

    # Small recurrent models run fastest on one thread; several intra-op threads per job
    # fight the browser and the other jobs for two cores (13x slower, DESIGN.md).
    torch.set_num_threads(1)
    # The click's import first, then the Train page's once there is a run (nbformat: a tenth of a second).
    import rnnlab.ui.session  # noqa: F401, I001
    import rnnlab.ui.exports  # noqa: F401


def warm_up_in_background() -> None:
    """Start the warm-up thread once per process: app.py calls it when the server process starts, before
    any browser has connected; the first page run calls it too (AppTest runs the script without app.py)."""
    with _start_lock:
        if _started.is_set():
            return
        _started.set()
    threading.Thread(target=_warm_up, name="rnnlab-warm-up", daemon=True).start()


@st.cache_resource(show_spinner=False)
def start_server() -> None:
    """Once per server process."""
    ensure_plotly_js()
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s rnnlab %(message)s"))
    jobs = logging.getLogger("rnnlab.jobs")
    jobs.addHandler(handler)
    jobs.setLevel(logging.INFO)
    warm_up_in_background()


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
