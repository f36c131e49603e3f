"""A worker killed mid-trial (SIGKILL: no goodbye) stops beating; after the storage's grace period another
worker takes the study over and redoes that trial under a new number. The grace is 2 s here (20 s by
default) so that the test stays short."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from rnnlab.config import RunConfig
from rnnlab.sweep.study import FAILED

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow
GRACE = 2
WORKER = f"""
import sys
from rnnlab.config import RunConfig
from rnnlab.sweep import Sweep, SweepSpec, parse_params
from rnnlab.sweep.study import open_storage
spec = SweepSpec(RunConfig.from_json(sys.argv[1]), parse_params(["lr=1e-3:1e-1:log"]), trials=1,
                 pruner="none", study="failover")
speed = float(sys.argv[3]) or None
sweep = Sweep(spec, open_storage(sys.argv[2], grace={GRACE}), speed=speed,
              on_trial=lambda r: print("trial", r.number, r.state, flush=True))
sweep.start().wait()
sys.exit(1 if sweep.errors else 0)
"""
CONFIG = RunConfig.from_flat({"data": "sine", "length": 300, "seq_len": 10, "batch": 8, "hidden": 8,
                              "eval_every": 10, "steps": 200}).to_json()


def worker(url: str, speed: float) -> subprocess.Popen:
    """A sweep worker process; speed in steps/s paces its trials (0: as fast as it can)."""
    return subprocess.Popen([sys.executable, "-c", WORKER, CONFIG, url, str(speed)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)}, start_new_session=True)


def trials(url: str) -> list:
    try:
        return optuna.load_study(study_name="failover", storage=url).trials
    except KeyError:  # not created yet
        return []


def descendants(pid: int) -> set[int]:
    """Every process below pid (the killed worker's fork server and trial job), read from /proc."""
    parents = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_a_killed_workers_trial_is_redone_by_another(tmp_path):
    url = f"sqlite:///{tmp_path / 'study.db'}"
    doomed = worker(url, speed=20.0)  # 200 steps at 20 steps/s: still training when killed
    deadline = time.monotonic() + 120
    while not any(t.state == TrialState.RUNNING and t.intermediate_values for t in trials(url)):
        assert doomed.poll() is None, doomed.communicate()[0]
        assert time.monotonic() < deadline, "the first worker never reported a validation"
        time.sleep(0.2)
    left_behind = descendants(doomed.pid)
    doomed.send_signal(signal.SIGKILL)
    doomed.communicate(timeout=30)
    try:
        heir = worker(url, speed=0.0)
        output = heir.communicate(timeout=180)[0]
        assert heir.returncode == 0, output
        killed, redone = trials(url)
        assert killed.state == TrialState.FAIL and FAILED not in killed.user_attrs  # abandoned, not failed
        assert redone.state == TrialState.COMPLETE and redone.number == killed.number + 1
        assert output.split() == ["trial", str(redone.number), "complete"]
        assert max(redone.intermediate_values) == 200
        # The killed worker's job and fork server notice their parent is gone and end too.
        deadline = time.monotonic() + 30
        while any(alive(pid) for pid in left_behind) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not any(alive(pid) for pid in left_behind)
    finally:
        for pid in left_behind:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
