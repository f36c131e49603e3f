"""The jobs' multiprocessing context: a fork server that imported PyTorch and trained a few steps once.

Apart from the job layer's other modules: a server starts the fork server first thing (start_fork_server), so
the fork server's imports (PyTorch) run on one core while the server loads the app on the other."""

from __future__ import annotations

import multiprocessing
import os
import threading
from multiprocessing import forkserver

_lock = threading.Lock()
_context: multiprocessing.context.BaseContext | None = None
FORK_SERVER_UP = threading.Event()  # a process has been forked from it: its warm-up is done


def _niceness() -> int:
    try:
        return int(os.environ.get("RNNLAB_JOB_NICENESS", "10"))
    except ValueError:  # a typo must not stop every run from starting: keep the default
        return 10


# Jobs yield the CPU to the web server and the browsers when the cores are contended: a page stays
# responsive while runs train. Alone on a core a job runs as fast as at 0. RNNLAB_JOB_NICENESS sets it
# (0: jobs compete with the server on equal terms).
JOB_NICENESS = _niceness()


def lower_priority() -> None:
    """Give the calling thread the jobs' niceness (on Linux a thread's own, inherited by what it forks)."""
    if JOB_NICENESS > 0:
        os.nice(JOB_NICENESS)


def jobs_context() -> multiprocessing.context.BaseContext:
    """Jobs fork from a fork server that imported torch and trained a few steps once: a new job
    starts in milliseconds instead of paying seconds of imports and lazy initialisation."""
    global _context
    with _lock:
        if _context is None:
            context = multiprocessing.get_context("forkserver")
            # The launcher first: it keeps the host's __main__ out of every job (see its docstring).
            context.set_forkserver_preload(["rnnlab.jobs.launcher", "rnnlab.jobs.warm"])
            _context = context
        return _context


def start_fork_server() -> None:
    """Start the jobs' fork server now (it warms PyTorch up once, seconds) rather than at the first job."""
    jobs_context()
    forkserver.ensure_running()


def _nothing() -> None:
    """A process that only shows the fork server is up (wait_for_fork_server)."""


def wait_for_fork_server(timeout: float = 30.0) -> None:
    """Return once the fork server forks jobs, that is once its warm-up is done (seconds after it starts):
    starting a process waits for it. The forked process does nothing and exits at once."""
    probe = jobs_context().Process(target=_nothing, name="rnnlab-fork-server-probe", daemon=True)
    probe.start()
    FORK_SERVER_UP.set()
    probe.join(timeout)
