"""Server start-up: plotly.js for the live charts; in the background, the job fork server, the first
page's modules and the job layer, then PyTorch once the first page and the fork server are ready.

Neither the first page view nor the first Train click waits for the server's own import of PyTorch (one to
two seconds): the job layer the click uses imports it only in the jobs (rnnlab.jobs.runner), and the
server needs it for a run's first validation (the verdict's reference), its weights and other pages."""

from __future__ import annotations

import logging
import sys
import threading
import time

import streamlit as st

from rnnlab.ui.live_chart import ensure_plotly_js

_started = threading.Event()  # the warm-up runs once per process, whoever asks first
first_page_done = threading.Event()  # set by dashboard.py when a page view has been drawn
FIRST_PAGE_WAIT = 6.0  # seconds: a server nobody visits warms up anyway
_start_lock = threading.Lock()
WARM_UP_DONE = "server warm-up done"  # logged when it is (bench/ waits for it before measuring a warm server)
APP_LOADED_QUIET = 0.3  # seconds without a request for the app's scripts: the browser has them all
APP_LOAD_WAIT = 5.0  # seconds: at most this long after the first page view
FIRST_STEPS_WAIT = 3.0  # seconds: at most this long for a starting run's first steps


class AppScripts:
    """ASGI middleware (app.py) that notes the browser's requests for the app's scripts (/static/...).

    After a page's first delta arrives the browser asks for the scripts of the elements it shows, about
    40 of them, from this process; PyTorch's import running meanwhile slowed them from 0.5 s to 1.2 s
    and the page's first usable moment by about half a second (measured in Chromium on 2 cores)."""

    in_flight = 0
    last = 0.0  # time.monotonic() of the last request's end

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or "/static/" not in scope["path"]:
            await self.app(scope, receive, send)
            return
        AppScripts.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            AppScripts.in_flight -= 1
            AppScripts.last = time.monotonic()

    @classmethod
    def wait_until_loaded(cls, quiet: float = APP_LOADED_QUIET, limit: float = APP_LOAD_WAIT) -> None:
        """Return once no script has been asked for in `quiet` seconds (or after `limit` seconds)."""
        end = time.monotonic() + limit
        while time.monotonic() < end and (cls.in_flight or time.monotonic() - cls.last < quiet):
            time.sleep(0.05)


def _warm_up() -> None:
    """Start the job fork server (a process of its own: it imports PyTorch and warms it up once, about four
    seconds of a core, for every job forked from it), import what the first page view and the Train click
    need (about a second, pandas included) while the browser loads the app's JavaScript, then PyTorch and
    what a run's page needs once nothing waits for this process. The Inside and Forecast pages' first
    visit pays for the rest."""
    from rnnlab.jobs.context import start_fork_server, wait_for_fork_server

    started = time.monotonic()

    start_fork_server()
    import rnnlab.ui.lesson  # noqa: F401  (the Train page's modules: settings, live view, lessons)
    import rnnlab.ui.runstore  # noqa: F401
    import rnnlab.ui.session  # noqa: F401, I001  (the Train click's: the job layer without PyTorch)
    _streamlit_first_run_work()

    # PyTorch's import holds the interpreter for seconds, and the server needs it only for a run's first
    # validation (the verdict's reference) and the other pages: not while the first page runs and the
    # browser fetches the page's scripts from this process (that doubled the time to a usable page), nor
    # before the fork server is warm (a job's first step waits for it; on 2 cores they fight for a core).
    first_page_done.wait(timeout=FIRST_PAGE_WAIT)
    AppScripts.wait_until_loaded()
    wait_for_fork_server()
    _let_first_steps_through()
    import torch

    # Small recurrent models run fastest on one thread; several intra-op threads per job
    # fight the browser and the other jobs for two cores (13x slower, DESIGN.md).
    torch.set_num_threads(1)
    import rnnlab.analysis.verdict  # noqa: F401  (the first validation's reference)
    import rnnlab.learn.trainer  # noqa: F401
    import rnnlab.ui.exports  # noqa: F401  (the Train page's once there is a run; nbformat: a tenth of a second)
    # For admins and benchmarks: from here on the server answers at its steady-state cost.
    logging.getLogger("rnnlab.jobs").info("%s after %.1f s", WARM_UP_DONE, time.monotonic() - started)


def _streamlit_first_run_work(limit: float = 5.0) -> None:
    """Do here what Streamlit otherwise does once per process inside the first page run, on the way to the
    usable page (measured in a cold start on 2 cores: 0.2 s and 0.34 s of that run's 0.4 s):
    set_page_config's emoji icon compiles Streamlit's emoji table, and the first element sent walks the
    thread's stack, reading its source files, to warn a REPL user (delta_generator's once-only check)."""
    import streamlit.emojis  # noqa: F401
    from streamlit import delta_generator, runtime

    end = time.monotonic() + limit
    while not runtime.exists() and time.monotonic() < end:  # without a runtime the check would warn
        time.sleep(0.02)
    check = getattr(delta_generator, "_maybe_print_use_warning", None)  # private: skipped if it goes
    if runtime.exists() and check is not None:
        check()


def _let_first_steps_through(limit: float = FIRST_STEPS_WAIT) -> None:
    """A run clicked while the fork server warmed up starts as soon as it is up: its first chunk of steps
    passes through this process (a compute slot, the chunk, the feed's frame), which PyTorch's import would
    hold up by a third of a second (measured). Wait for it, and one feed frame, for at most `limit` s."""
    from rnnlab.jobs import runner
    from rnnlab.ui.feed import PERIOD

    end = time.monotonic() + limit
    if not runner.starting():
        return
    while runner.starting() and time.monotonic() < end:
        time.sleep(0.02)
    time.sleep(PERIOD)  # the feed's frame that shows them


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
