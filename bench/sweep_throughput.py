"""Sweep throughput: trial steps per second over a whole sweep, against the bare loop times the cores given.

Target: >= 0.8 with 2 workers. The sweep is `udacity-sine` (its own validation every 15 steps) sweeping the
learning rate only, so every trial does the same work per step as the bare loop; no pruning, so every trial
runs all its steps. The sweep's clock runs from Start to the last trial told, and includes what a sweep costs
beyond training: job starts, Optuna's sampler, the SQLite storage, reading each job's history. The job fork
server is warmed first (a server has it running before any sweep). The bare loop (bench/bare.py, one thread)
is measured before and after the sweep in this process; the reference is its median times the workers.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402

from bench.bare import BareLoop  # noqa: E402
from bench.common import Report, check, fmt_rate, median  # noqa: E402
from rnnlab.config import RunConfig  # noqa: E402
from rnnlab.jobs.runner import LiveRun  # noqa: E402
from rnnlab.sweep import Sweep, SweepSpec, parse_params  # noqa: E402
from rnnlab.sweep.study import default_storage  # noqa: E402

TARGET = 0.8


def bare_rate(config: RunConfig, seconds: float) -> float:
    loop = BareLoop(config, eval_every=config.train.eval_every)
    loop.steps(50)
    done, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        loop.steps(200)
        done += 200
    return done / (time.perf_counter() - start)


def main(argv: list[str] | None = None) -> Report:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer, shorter trials")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    trials, steps = (6, 1000) if args.quick else (12, 3000)
    config = RunConfig.from_flat({"preset": "udacity-sine", "steps": steps})
    report = Report("sweep_throughput", "Sweep throughput: trial steps/s over the sweep vs bare loop x cores",
                    args.quick)
    warm = LiveRun(config.replace(steps=20)).start()  # the fork server, as a running app has it
    while warm.alive:
        time.sleep(0.05)
    before = bare_rate(config, 5.0)
    with tempfile.TemporaryDirectory() as folder:
        spec = SweepSpec(config, parse_params(["lr=1e-3:5e-2:log"]), trials=trials, pruner="none")
        sweep = Sweep(spec, default_storage(Path(folder)), workers=args.workers)
        start = time.perf_counter()
        sweep.start().wait()
        seconds = time.perf_counter() - start
        table = sweep.table()
    after = bare_rate(config, 5.0)
    bare = median([before, after])
    rate = table["steps"].sum() / seconds
    ratio = rate / (bare * args.workers)
    report.add("bare loop, one thread", fmt_rate(bare), note=f"before {fmt_rate(before)}, after {fmt_rate(after)}")
    report.add(f"sweep, {args.workers} workers", fmt_rate(rate),
               note=f"{len(table)} trials x {steps:,} steps in {seconds:.1f} s; "
                    f"{(table['state'] == 'complete').sum()} complete")
    report.add(f"sweep / (bare x {args.workers})", f"{ratio:.2f}", f">= {TARGET}", check(ratio, TARGET))
    report.table("trials", table[["number", "lr", "state", "steps", "seconds"]].round(4).to_dict("records"))
    return report.finish()


if __name__ == "__main__":
    main()
