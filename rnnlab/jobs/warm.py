"""Imported once by the job fork server: warms PyTorch up there, so every job forked from it starts warm.

The warm-up (seconds of imports and a few steps, as the server itself starts) runs on a thread of lower
priority, so it does not slow the first page. The fork server's own thread keeps the normal priority:
a new job starts (unpickles, builds its trainer, takes its first steps) at once even while the page
reruns for the click, and lowers its own priority after its first chunk (rnnlab.jobs.worker)."""

import threading

from rnnlab.jobs.context import lower_priority


def _warm_up() -> None:
    lower_priority()  # this thread only
    import rnnlab.jobs.runner  # noqa: F401  (every job's entry point, _job_main, is unpickled from it)
    from rnnlab.jobs.worker import warm_up

    warm_up()


_thread = threading.Thread(target=_warm_up, name="rnnlab-job-warm-up")
_thread.start()
_thread.join()
