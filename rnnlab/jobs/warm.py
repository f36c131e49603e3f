"""Imported once by the job fork server: warms PyTorch up there, so every job forked from it starts warm."""

import os

# Jobs (forked from here, so they inherit it) yield the CPU to the web server and the browsers when the
# cores are contended: a page stays responsive while runs train, and a server's start (this process
# imports PyTorch for seconds) does not slow the first page. Alone on a core a job runs as fast as before.
# RNNLAB_JOB_NICENESS sets it (0: jobs compete with the server on equal terms).
try:
    JOB_NICENESS = int(os.environ.get("RNNLAB_JOB_NICENESS", "10"))
except ValueError:  # a typo must not stop every run from starting: keep the default
    JOB_NICENESS = 10
if JOB_NICENESS > 0:
    os.nice(JOB_NICENESS)

from rnnlab.jobs.worker import warm_up  # noqa: E402  (after the niceness: the imports are the slow part)

warm_up()
