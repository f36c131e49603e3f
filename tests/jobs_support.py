"""Shared by the job-layer tests: a small config, a polling wait, and two fixtures each test module
declares for itself (a warm fork server; runs stopped after each test)."""

import time

from rnnlab.config import RunConfig
from rnnlab.jobs.runner import LiveRun


def config(**settings) -> RunConfig:
    base = {"length": 400, "hidden": 8, "seq_len": 10, "batch": 8, "steps": 1_000_000, "eval_every": 50}
    return RunConfig.from_flat(base | settings)


def wait_for(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def warm_fork_server():
    """The first job starts the fork server (PyTorch imports and a warm-up: seconds, many more on a busy
    machine); wait for it once here, so that the tests' own timeouts measure the runs, not that."""
    run = LiveRun(config(steps=1)).start()
    run.join(timeout=300)
    assert run.view().phase == "finished", run.view()


def start_runs():
    runs = []

    def start(cfg=None, **kwargs):
        run = LiveRun(cfg or config(), **kwargs).start()
        runs.append(run)
        return run

    yield start
    for run in runs:
        run.stop()
