"""The job layer: typed messages, the job owning its pause and step budget, observers, stop, plain processes."""

import dataclasses
import json
import multiprocessing.spawn
import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from jobs_support import config, start_runs, wait_for, warm_fork_server

from rnnlab.jobs import messages as m
from rnnlab.jobs import runner
from rnnlab.jobs.runner import HistoryBlock, RunEnded, WeightsTaken, live_jobs
from rnnlab.jobs.slots import ComputeSlots
from rnnlab.jobs.worker import _Job, read_weights
from rnnlab.learn.history import COLUMNS
from rnnlab.learn.trainer import Trainer

warm = pytest.fixture(scope="module", autouse=True)(warm_fork_server)
started = pytest.fixture(start_runs)
ROOT = Path(__file__).resolve().parent.parent


# --- the messages ------------------------------------------------------------------------------
@pytest.mark.parametrize("message", [
    m.Ready(m.State(False)), m.State(True, 3), m.Want(), m.Failed("no data"), m.End("done", "ok", b"w"),
    m.Weights(4, b"w", "pause"), m.Go(), m.Pause(), m.Resume(), m.Step(2), m.SetLr(0.01), m.SetSpeed(None),
    m.AskWeights(7), m.Stop(),
])
def test_messages_survive_the_pipe_and_cannot_be_changed(message):
    assert pickle.loads(pickle.dumps(message)) == message
    field = next(iter(dataclasses.fields(message)), None)
    if field is not None:
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(message, field.name, None)


def test_a_paused_job_with_steps_owed_is_running():
    assert m.State(False).phase == "running"
    assert m.State(True).phase == "paused"
    assert m.State(True, 2).phase == "running"


class FakePipe:
    """The job's end of the pipe, without a process: what the job sends is kept, nothing arrives."""

    def __init__(self):
        self.sent = []

    def send(self, message):
        self.sent.append(message)

    def poll(self, timeout=0.0):
        return False


def job(paused=True):
    pipe = FakePipe()
    return _Job(pipe, Trainer(config(steps=500)), paused=paused, speed=None, weights_every=None), pipe


def test_the_job_owns_its_step_budget_and_reports_it():
    worker, pipe = job()
    worker.handle(m.Step(1))
    worker.handle(m.Step(2))
    assert pipe.sent == [m.State(True, 1), m.State(True, 3)]
    del pipe.sent[:]
    while worker.state.budget:  # a chunk ends early on a slow step; the budget carries over
        worker.chunk()
    *chunks, weights = pipe.sent
    assert all(isinstance(c, m.Chunk) for c in chunks) and sum(c.block.shape[1] for c in chunks) == 3
    assert [c.state.budget for c in chunks] == [3 - c.last.step for c in chunks]
    assert chunks[-1].state == m.State(True, 0) and chunks[-1].state.phase == "paused"
    # Reaching the pause sends the weights, for an observer that keeps them.
    assert isinstance(weights, m.Weights) and weights.reason == "pause"
    assert all(torch.equal(a, b) for a, b in zip(read_weights(weights.payload).values(),
                                                  worker.trainer.model.state_dict().values(), strict=True))


def test_a_turn_keeps_the_slot_across_chunks_and_gives_it_back_with_the_last():
    # A job alone gets a long turn: it reports every chunk but asks for no slot until the turn is over
    # (here: until its 500 steps are done). Its first chunk is a single step, on screen at once.
    worker, pipe = job(paused=False)
    worker.take_turn(3600.0)
    chunks = [c for c in pipe.sent if isinstance(c, m.Chunk)]
    assert len(chunks) >= 2 and chunks[0].block.shape[1] == 1
    assert [c.releases for c in chunks] == [False] * (len(chunks) - 1) + [True]
    assert sum(c.block.shape[1] for c in chunks) == 500 and worker.trainer.finished
    # A turn shorter than a chunk is one chunk (when others wait the server gives a few: SHARED_TURN_SECONDS).
    worker, pipe = job(paused=False)
    worker.take_turn(0.0)
    assert [c.releases for c in pipe.sent if isinstance(c, m.Chunk)] == [True]


def test_a_job_paused_between_chunks_gives_its_slot_straight_back():
    worker, pipe = job(paused=True)
    worker.take_turn(3600.0)
    assert pipe.sent == [m.Chunk(pipe.sent[0].block, None, None, m.State(True))] and pipe.sent[0].releases


def test_pause_clears_the_budget_and_a_repeated_control_reports_nothing_new():
    worker, pipe = job(paused=False)
    worker.handle(m.Step(5))
    worker.handle(m.Pause())
    worker.handle(m.Pause())
    worker.handle(m.Resume())
    assert pipe.sent == [m.State(True, 5), m.State(True, 0), m.State(False, 0)]


def test_the_job_answers_a_weights_request_with_its_id_and_rejects_an_unknown_message():
    worker, pipe = job()
    worker.handle(m.AskWeights(9))
    assert pipe.sent[-1].request == 9 and pipe.sent[-1].reason == "asked"
    with pytest.raises(TypeError, match="unexpected message"):
        worker.handle(("pause",))


# --- the live run: the job's word on its state -----------------------------------------------
def test_steps_owed_are_taken_one_by_one_then_the_job_says_paused(started):
    run = started(paused=True)
    wait_for(lambda: run.view().phase == "paused", timeout=30)
    for _ in range(3):
        run.step_once()
    wait_for(lambda: run.view().step == 3 and run.view().phase == "paused", timeout=30)
    assert run.paused and len(run.history) == 3
    run.resume()
    wait_for(lambda: run.view().step > 3 and not run.paused, timeout=30)


def test_a_run_is_starting_until_its_first_steps_arrive(started):
    # The server's warm-up holds its PyTorch import back while a run is starting (rnnlab.ui.boot).
    run = started(paused=True)
    wait_for(lambda: run.view().phase == "paused", timeout=30)
    assert runner.starting()  # alive, no step yet
    run.step_once()
    wait_for(lambda: run.view().step == 1, timeout=30)
    assert not runner.starting()
    run.stop()
    run.join(timeout=30)
    assert not runner.starting()


def test_a_pause_given_before_the_job_exists_reaches_it(started):
    run = started()
    run.pause()  # the watcher has not launched the process yet: the control waits for the pipe
    wait_for(lambda: run.view().phase == "paused", timeout=30)
    frozen = run.view().step
    assert run.wait_until(lambda v: v.step != frozen, timeout=0.3) is False


def test_a_queued_run_answers_pause_and_weights_while_it_waits_for_a_slot(started):
    slots = ComputeSlots(1)
    slots.acquire()  # the test holds the only slot: the run waits in the queue
    run = started(slots=slots)
    wait_for(lambda: run.view().phase == "queued", timeout=30)
    assert run.view().queue_position == 1 and run.view().step == 0
    assert run.model_copy(timeout=30) is not None  # the job answers between two requests for a slot
    run.pause()
    wait_for(lambda: run.view().phase == "paused", timeout=30)
    slots.release()  # the slot comes, the paused job gives it straight back without a step
    wait_for(lambda: slots.busy == 0 and slots.waiting == 0, timeout=30)
    assert run.view().step == 0 and run.view().phase == "paused"


# --- observers: what a run store and a sweep see ----------------------------------------------
def test_observers_see_every_block_the_weights_and_the_end(started):
    events = []
    run = started(config(steps=120), observers=[events.append], weights_every=1e-9)
    view = run.join(timeout=60)
    blocks = [e for e in events if isinstance(e, HistoryBlock)]
    steps = np.concatenate([e.block[COLUMNS.index("step")] for e in blocks])
    assert list(steps) == list(run.history.column("step")) == list(range(1, 121))
    assert blocks[-1].last.step == 120 and all(e.run is run for e in events)
    reasons = [e.reason for e in events if isinstance(e, WeightsTaken)]
    assert "periodic" in reasons and reasons[-1] == "end"
    assert isinstance(events[-1], RunEnded) and events[-1].view.phase == view.phase == "finished"
    final = next(e for e in reversed(events) if isinstance(e, WeightsTaken)).weights
    copy = run.model_copy()
    assert all(torch.equal(a, b) for a, b in zip(final.values(), copy.state_dict().values(), strict=True))


def test_an_observer_that_fails_does_not_stop_the_training(started):
    def broken(event):
        raise OSError("disk full")

    seen = []
    run = started(config(steps=60), observers=[broken, seen.append])
    assert run.join(timeout=60).phase == "finished" and len(run.history) == 60
    assert isinstance(seen[-1], RunEnded)


def test_a_sweep_can_stop_a_run_from_its_first_validation_loss(started):
    """What an Optuna pruner does: read validation losses as they come, stop the run early."""
    losses, ends = [], []

    def prune(event):
        if isinstance(event, WeightsTaken) and event.reason == "end":
            ends.append(event)
        if isinstance(event, HistoryBlock):
            measured = event.block[COLUMNS.index("val_loss")]
            losses.extend(measured[~np.isnan(measured)])
            if losses:
                event.run.stop()  # from the watcher thread: returns at once, the job ends soon after

    run = started(config(steps=100_000, eval_every=20))
    run.observe(prune)
    view = run.join(timeout=60)
    assert view.phase == "stopped" and not run.alive
    assert 20 <= view.step < 100_000 and len(run.history) == view.step
    assert losses and np.isfinite(losses[0])
    assert len(ends) == 1  # the job ended on its own Stop, with its last weights, not killed


def test_stop_before_the_job_started_ends_it_cleanly(started):
    before = live_jobs()
    run = started()
    run.stop(timeout=60)
    assert not run.alive and run.view().phase == "stopped" and live_jobs() == before


# --- from a plain process ----------------------------------------------------------------------
def test_a_plain_python_script_trains_a_job_without_rerunning_itself(tmp_path):
    """The fork server's launcher keeps a script's top level out of its jobs, and the host's
    multiprocessing is left alone."""
    marker = tmp_path / "imported.txt"
    script = tmp_path / "train_one.py"
    script.write_text(f"""
import json
with open({str(marker)!r}, "a") as f:
    f.write("imported\\n")  # a job that re-ran this script would write a second line

if __name__ == "__main__":
    import multiprocessing.spawn
    from rnnlab.config import RunConfig
    from rnnlab.jobs.runner import LiveRun
    run = LiveRun(RunConfig.from_flat({{"length": 400, "hidden": 8, "seq_len": 10, "batch": 8, "steps": 40}})).start()
    view = run.join(timeout=240)
    print(json.dumps({{"phase": view.phase, "rows": len(run.history), "val": view.val_loss,
                      "host": multiprocessing.spawn.prepare.__module__}}))
""")
    env = os.environ | {"PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=300,
                          cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result == result | {"phase": "finished", "rows": 40, "host": "multiprocessing.spawn"}
    assert marker.read_text() == "imported\n"


def test_this_process_multiprocessing_is_not_patched(started):
    run = started(config(steps=5))
    run.join(timeout=60)
    assert multiprocessing.spawn.get_preparation_data.__module__ == "multiprocessing.spawn"
    assert multiprocessing.spawn.prepare.__module__ == "multiprocessing.spawn"
