"""The live runner: a background job per run, pausable, paced, and sharing a server-wide cap."""

import threading
import time

import pytest
from jobs_support import config, start_runs, wait_for, warm_fork_server

from rnnlab.jobs.runner import live_jobs
from rnnlab.jobs.slots import ComputeSlots
from rnnlab.learn.history import History, downsample
from rnnlab.learn.trainer import Trainer

warm = pytest.fixture(scope="module", autouse=True)(warm_fork_server)
started = pytest.fixture(start_runs)


def test_a_run_trains_in_the_background(started):
    run = started()
    wait_for(lambda: run.view().step > 20)
    assert run.view().phase == "running" and run.view().loss is not None


def test_pause_stops_the_steps_and_resume_continues(started):
    run = started()
    wait_for(lambda: run.view().step > 5)
    run.pause()
    wait_for(lambda: run.view().phase == "paused")
    frozen = run.view().step
    time.sleep(0.2)
    assert run.view().step == frozen
    run.resume()
    wait_for(lambda: run.view().step > frozen)


def test_step_once_takes_exactly_one_step(started):
    run = started(paused=True)
    wait_for(lambda: run.view().phase == "paused")
    assert run.view().step == 0
    run.step_once()
    assert run.wait_until(lambda v: v.step == 1, timeout=5)
    time.sleep(0.1)
    assert run.view().step == 1 and run.view().phase == "paused"


def test_speed_paces_the_run(started):
    run = started(speed=5.0)
    wait_for(lambda: run.view().step >= 1)
    first = run.view().step
    time.sleep(1.0)
    # Only an upper bound: a busy machine can slow a run down, never speed it up.
    assert run.view().step <= first + 6


def test_learning_rate_changes_without_a_reset(started):
    run = started()
    wait_for(lambda: run.view().step > 5)
    run.set_lr(0.001)
    wait_for(lambda: run.view().lr == pytest.approx(0.001))
    assert run.history.column("step")[0] == 1  # same run, not restarted


def test_stop_ends_the_thread_and_keeps_the_history(started):
    before = live_jobs()
    run = started()
    wait_for(lambda: run.view().step > 5)
    run.stop()
    assert not run.alive and run.view().phase == "stopped"
    assert len(run.history) == run.view().step
    assert live_jobs() == before


def test_a_run_that_ends_says_so(started):
    run = started(config(steps=30))
    view = run.join(timeout=60)
    assert not run.alive and view.phase == "finished" and view.step == len(run.history) == 30
    assert view.status == "done" and "30 steps" in view.message
    # An ended run's view no longer changes: waiting for more steps gives up at once, and says so.
    assert not run.wait_until(lambda v: v.step > 30, timeout=60)


def test_a_bad_series_is_an_error_sentence_not_a_crash(started):
    run = started(config(data="upload"))
    wait_for(lambda: run.view().phase == "error")
    assert "Upload a CSV" in run.view().message


def test_the_history_matches_a_trainer_run_step_for_step(started):
    run = started(config(steps=60))
    wait_for(lambda: run.view().phase == "finished")
    direct = [p.loss for p in Trainer(config(steps=60))]
    assert list(run.history.column("loss")) == pytest.approx(direct)


def test_jobs_share_a_capped_pool_in_turns(started):
    slots = ComputeSlots(1)
    runs = [started(slots=slots) for _ in range(3)]
    wait_for(lambda: all(r.view().step > 3 for r in runs), timeout=20)
    assert slots.busy <= 1


def test_paused_jobs_hold_no_slot(started):
    slots = ComputeSlots(1)
    first = started(slots=slots)
    wait_for(lambda: first.view().step > 3)
    first.pause()
    second = started(slots=slots)
    wait_for(lambda: second.view().step > 20)
    assert first.view().phase == "paused"


def test_slots_serve_waiters_first_come_first_served():
    slots = ComputeSlots(1)
    slots.acquire()
    order = []

    def waiter(n):
        slots.acquire()
        order.append(n)
        slots.release()

    threads = []
    for n in range(3):
        t = threading.Thread(target=waiter, args=(n,))
        t.start()
        threads.append(t)
        wait_for(lambda n=n: slots.waiting == n + 1)
    slots.release()
    for t in threads:
        t.join(5)
    assert order == [0, 1, 2]


def test_a_cancelled_waiter_gives_up():
    slots = ComputeSlots(1)
    slots.acquire()
    cancelled = threading.Event()
    cancelled.set()
    assert slots.acquire(cancelled, timeout=0.01) is None
    assert slots.waiting == 0


def test_history_sample_is_bounded_and_keeps_the_last_point():
    history = History(capacity=4)
    for progress in Trainer(config(steps=300, eval_every=10)):
        history.append(progress)
    steps, loss = history.sample("loss", max_points=50)
    assert len(steps) == 50 and steps[-1] == 300 and loss[-1] == history.column("loss")[-1]
    val_steps, _ = history.sample("val_loss")
    assert list(val_steps) == list(range(10, 301, 10))
    frame = history.to_frame()
    assert len(frame) == 300 and list(frame.columns[:3]) == ["step", "epoch", "loss"]


def test_downsample_keeps_the_mean_level():
    import numpy as np

    x = np.arange(10_000, dtype=float)
    y = np.full(10_000, 3.0)
    xs, ys = downsample(x, y, 100)
    assert len(xs) == 100 and np.allclose(ys, 3.0) and xs[0] < xs[-1]


def test_a_stopped_run_still_gives_its_weights(started):
    run = started()
    wait_for(lambda: run.view().step > 5)
    run.stop()
    model = run.model_copy()
    assert model is not None
    assert sum(p.numel() for p in model.parameters()) > 0


def test_a_running_job_hands_out_a_copy_of_its_weights(started):
    run = started()
    wait_for(lambda: run.view().step > 5)
    first = run.model_copy()
    wait_for(lambda: run.view().step > 50)
    second = run.model_copy()
    assert any(not (a == b).all() for a, b in zip(first.parameters(), second.parameters(), strict=True))


def test_history_grows_by_blocks_of_any_size():
    import numpy as np

    history = History(capacity=4)
    total = 0
    for k in (3, 1, 7, 100, 1, 2000):
        block = np.vstack([np.arange(total + 1, total + k + 1)] + [np.full(k, float(k))] * 6)
        history.extend(block)
        total += k
    assert len(history) == total
    assert list(history.column("step")) == list(range(1, total + 1))
