"""Sweeps end to end: the command line, pruning through the job's own stop, best.json, resume, and several
worker processes filling one study on SQLite (and on PostgreSQL in tests/test_sweep_postgres.py)."""

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import optuna
import pandas as pd
import pytest
from optuna.trial import TrialState

from rnnlab.cli import main
from rnnlab.config import RunConfig
from rnnlab.jobs.runner import live_jobs
from rnnlab.sweep import Sweep, SweepSpec, parse_params
from rnnlab.sweep.study import counts_towards_budget

ROOT = Path(__file__).resolve().parent.parent
# A tiny network on a short sine: each trial is a fraction of a second of training.
SMALL = ["--data", "sine", "--length", "300", "--seq-len", "10", "--batch", "8", "--hidden", "8",
         "--eval-every", "10", "--steps", "60"]
pytestmark = pytest.mark.slow


def small(**settings) -> RunConfig:
    return RunConfig.from_flat({"data": "sine", "length": 300, "seq_len": 10, "batch": 8, "hidden": 8,
                                "eval_every": 10, "steps": 60} | settings)


@pytest.fixture(autouse=True)
def no_job_left_behind():
    yield
    assert live_jobs() == 0


def finished(url: str, study: str) -> list:
    trials = optuna.load_study(study_name=study, storage=url).trials
    return [t for t in trials if counts_towards_budget(t) and t.state.is_finished()]


def test_a_small_sweep_writes_trials_and_a_best_config(tmp_path, capsys):
    code = main(["sweep", *SMALL, "--trials", "4", "--param", "lr=1e-3:1e-1:log", "--param", "hidden=4:16:int",
                 "--param", "cell=rnn,gru", "--workers", "2", "--out", str(tmp_path)])
    printed = capsys.readouterr().out
    assert code == 0, printed
    table = pd.read_csv(tmp_path / "trials.csv")
    assert list(table.columns) == ["number", "lr", "hidden", "cell", "value", "state", "steps", "seconds", "note"]
    assert sorted(table["number"]) == [0, 1, 2, 3]
    assert set(table["state"]) <= {"complete", "pruned"} and "complete" in set(table["state"])
    assert table["lr"].between(1e-3, 1e-1).all() and table["hidden"].between(4, 16).all()
    assert sum(line.startswith("trial ") for line in printed.splitlines()) == 4
    best = RunConfig.from_json((tmp_path / "best.json").read_text())
    row = table[table["state"] == "complete"].sort_values("value").iloc[0]
    assert (best.train.lr, best.model.hidden, best.model.cell) == (row["lr"], row["hidden"], row["cell"])
    assert best.train.steps == 60 and best.train.seq_len == 10  # the fixed settings are kept


def test_best_json_reproduces_its_trials_loss(tmp_path, capsys):
    sweep_dir, train_dir = tmp_path / "sweep", tmp_path / "train"
    assert main(["sweep", *SMALL, "--trials", "2", "--param", "lr=1e-3:1e-1:log", "--prune", "none",
                 "--out", str(sweep_dir)]) == 0
    table = pd.read_csv(sweep_dir / "trials.csv")
    best_value = table["value"].min()
    assert main(["train", "--config", str(sweep_dir / "best.json"), "--out", str(train_dir), "--quiet"]) == 0
    history = pd.read_csv(train_dir / "history.csv")
    assert history["val_loss"].min() == pytest.approx(best_value, rel=1e-5)
    capsys.readouterr()


def test_the_pruner_stops_a_hopeless_trials_job():
    spec = SweepSpec(small(steps=300), parse_params(["lr=1e-6:1e-1:log"]), trials=2, pruner="median")
    results = []
    sweep = Sweep(spec, None, pruner=optuna.pruners.MedianPruner(n_startup_trials=1, n_warmup_steps=0),
                  speed=300.0, on_trial=results.append)  # paced: the hopeless trial is still training when judged
    sweep.study.enqueue_trial({"lr": 0.02})  # learns
    sweep.study.enqueue_trial({"lr": 1e-6})  # barely moves from its initial loss
    sweep.start().wait(120)
    good, hopeless = sorted(results, key=lambda r: r.number)
    assert good.state == "complete" and good.steps == 300
    assert hopeless.state == "pruned" and hopeless.steps < 300
    assert [t.state for t in sweep.trials()] == [TrialState.COMPLETE, TrialState.PRUNED]


def test_an_interrupted_study_resumes_and_a_finished_one_grows(tmp_path):
    url = f"sqlite:///{tmp_path / 'study.db'}"
    spec = SweepSpec(small(steps=600), parse_params(["lr=1e-3:1e-1:log"]), trials=2, pruner="none")
    sweep = Sweep(spec, url, speed=300.0).start()
    deadline = time.monotonic() + 60
    while not sweep.live() and time.monotonic() < deadline:
        time.sleep(0.05)
    sweep.stop()  # mid-trial
    assert not sweep.alive and len(finished(url, "sweep")) < 2
    resumed = SweepSpec(small(steps=600), spec.params, trials=2, pruner="none")
    Sweep(resumed, url).start().wait(120)
    assert len(finished(url, "sweep")) == 2
    more = SweepSpec(small(steps=600), spec.params, trials=3, pruner="none")
    Sweep(more, url).start().wait(120)
    done = finished(url, "sweep")
    assert len(done) == 3 and all(t.state == TrialState.COMPLETE for t in done)


def sweep_process(out: Path, url: str) -> subprocess.Popen:
    command = [sys.executable, "-m", "rnnlab", "sweep", *SMALL, "--steps", "100", "--trials", "4",
               "--param", "lr=1e-3:1e-1:log", "--param", "cell=rnn,gru", "--prune", "none",
               "--study", "shared", "--storage", url, "--out", str(out)]
    # PYTHONFAULTHANDLER: a hung worker told SIGABRT prints every thread's stack (two_workers_fill_one_study).
    return subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT), "PYTHONFAULTHANDLER": "1"})


def outputs_of(workers: list[subprocess.Popen], timeout: float) -> list[str]:
    """Each worker's output once it has exited; a worker still running after `timeout` seconds fails the
    test with every worker's output so far and the hung one's thread stacks (once seen in CI, not again)."""
    deadline = time.monotonic() + timeout
    try:
        return [w.communicate(timeout=max(1.0, deadline - time.monotonic()))[0] for w in workers]
    except subprocess.TimeoutExpired:
        for w in workers:
            if w.poll() is None:
                w.send_signal(signal.SIGABRT)
        pytest.fail("a sweep worker did not finish:\n" + "\n---\n".join(w.communicate()[0] for w in workers))


def two_workers_fill_one_study(tmp_path: Path, url: str) -> None:
    """Two processes, one study: exactly the budget of trials, each run once, none lost."""
    workers = [sweep_process(tmp_path / f"worker{i}", url) for i in range(2)]
    outputs = outputs_of(workers, 240)
    assert [w.returncode for w in workers] == [0, 0], outputs
    done = finished(url, "shared")
    assert sorted(t.state for t in done) == [TrialState.COMPLETE] * 4
    lines = [line.split()[1] for out in outputs for line in out.splitlines() if line.startswith("trial ")]
    assert sorted(int(n) for n in lines) == sorted(t.number for t in done)  # each trial reported by one worker
    assert json.loads((tmp_path / "worker0" / "best.json").read_text()) == \
        json.loads((tmp_path / "worker1" / "best.json").read_text())


def test_two_worker_processes_share_one_sqlite_study(tmp_path):
    two_workers_fill_one_study(tmp_path, f"sqlite:///{tmp_path / 'shared.db'}")


@pytest.mark.parametrize("steps", [3000, 2990, 60])
def test_a_trial_reports_a_few_dozen_validations_on_the_sweeps_stride_and_always_its_last(steps):
    # Each report is a database write and each ask reads them all back: a 3,000-step trial validated every 15
    # steps reports about REPORTS of its 200 validations, at steps every trial of the sweep shares (the pruners
    # compare there), and its last one even when it falls between two reported steps.
    from rnnlab.sweep import engine

    config = RunConfig.from_flat({"preset": "udacity-sine", "steps": steps})
    reported: list[int] = []

    class Trial:
        def report(self, value, step):
            reported.append(step)

    class Run:
        def observe(self, _):
            pass

    Run.config = config
    follower = engine._Trial(Trial(), Run(), "val_loss", None, threading.Event())
    every = config.train.eval_every
    validations = [(s, 1.0 / s) for s in range(every, steps + 1, every)]
    for i in range(0, len(validations), 7):  # as they arrive: in blocks
        follower._report(validations[i:i + 7])
    follower._report([], final=True)
    stride = engine.report_stride(config)
    assert stride % every == 0
    assert reported[0] == every and reported[-1] == validations[-1][0]
    assert all(s % stride == 0 for s in reported[1:-1])
    assert len(reported) <= engine.REPORTS + 2
    assert len(reported) == len(validations) if stride == every else len(reported) < len(validations) / 2
