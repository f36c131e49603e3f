"""The jobs' multiprocessing context: a fork server that imported PyTorch and trained a few steps once.

Apart from the runner, which imports PyTorch: a server starts the fork server first thing (start_fork_server),
so the fork server's imports run on one core while the server's own run on the other, instead of after them."""

from __future__ import annotations

import multiprocessing
import os
import threading
from multiprocessing import forkserver

_lock = threading.Lock()
_context: multiprocessing.context.BaseContext | None = None


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
