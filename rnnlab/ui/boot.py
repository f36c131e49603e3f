"""Server start-up: one PyTorch thread per job, and a warm-up so the first Train click is instant."""

from __future__ import annotations

import logging
import sys
import threading
import time

import streamlit as st
import torch

FORK_SERVER_DELAY = 1.5  # seconds after the first page view


def _warm_up() -> None:
    """Start the job fork server now: it imports PyTorch and warms it up once (seconds), for every job
    forked from it. This process is not warmed: that would take the same cores at the same moment,
    and only the Inside and Forecast pages' first visit pays for it here."""
    from multiprocessing import forkserver

    from rnnlab.jobs.runner import jobs_context

    # Let the first page finish drawing before the fork server's imports take a core (cold start).
    time.sleep(FORK_SERVER_DELAY)
    jobs_context()
    forkserver.ensure_running()


@st.cache_resource(show_spinner=False)
def start_server() -> threading.Thread:
    """Once per server process."""
    # Small recurrent models run fastest on one thread; several intra-op threads per job
    # fight the browser and the other jobs for two cores (13x slower, DESIGN.md).
    torch.set_num_threads(1)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s rnnlab %(message)s"))
    jobs = logging.getLogger("rnnlab.jobs")
    jobs.addHandler(handler)
    jobs.setLevel(logging.INFO)
    thread = threading.Thread(target=_warm_up, name="rnnlab-warm-up", daemon=True)
    thread.start()
    return thread


def require_entry() -> None:
    """Every page runs under app.py. A fresh server that is first asked for /runs (say) runs the page
    file alone, as an old-style `pages/` folder app, until app.py has called st.navigation once;
    switch that mode off and rerun, so app.py (sidebar, settings) runs first."""
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()
