"""The jobs' multiprocessing context: a fork server that imported PyTorch and trained a few steps once.

Apart from the runner, which imports PyTorch: a server starts the fork server first thing (start_fork_server),
so the fork server's imports run on one core while the server's own run on the other, instead of after them."""

from __future__ import annotations

import multiprocessing
import threading
from multiprocessing import forkserver

_lock = threading.Lock()
_context: multiprocessing.context.BaseContext | None = None


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
