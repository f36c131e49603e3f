"""`python -m rnnlab sweep`: the command line's sweep, a progress line per trial, trials.csv and best.json."""

from __future__ import annotations

import argparse
import sys
import threading
from pathlib import Path
from typing import TextIO

import torch

from rnnlab.config import RunConfig
from rnnlab.sweep.engine import Sweep, TrialResult
from rnnlab.sweep.space import MAX_TRIALS, parse_params
from rnnlab.sweep.study import OBJECTIVES, PRUNERS, SweepSpec, counts_towards_budget, default_storage


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--param", action="append", default=[], metavar="NAME=RANGE",
                        help="a setting to sweep: lr=1e-4:1e-1:log, hidden=8:64:int or cell=rnn,lstm,gru (repeat)")
    parser.add_argument("--trials", type=int, default=20, help=f"trials in the study, at most {MAX_TRIALS}")
    parser.add_argument("--prune", default="median", help=f"stop hopeless trials early: {'/'.join(PRUNERS)}")
    parser.add_argument("--objective", default="val_loss", help=f"what to minimise: {'/'.join(OBJECTIVES)}")
    parser.add_argument("--workers", type=int, default=1, help="trials trained at once by this process")
    parser.add_argument("--out", type=Path, default=Path("runs/sweep"), help="output folder (default runs/sweep)")
    parser.add_argument("--storage", help="an Optuna storage URL shared by every worker "
                        "(default: an SQLite file in --out; postgresql+psycopg://user@host/db for several machines)")
    parser.add_argument("--study", default="sweep", help="the study's name in the storage (default sweep)")


def run(args: argparse.Namespace, base: RunConfig, out: TextIO = sys.stdout) -> int:
    """Check everything, then fill the study; Ctrl-C stops cleanly and the same command resumes."""
    torch.set_num_threads(1)  # each trial is a job on one thread; this process only watches them
    spec = SweepSpec(base, parse_params(args.param), trials=args.trials, pruner=args.prune.lower(),
                     objective=args.objective.lower(), study=args.study)
    args.out.mkdir(parents=True, exist_ok=True)
    storage = args.storage or default_storage(args.out)
    printer = _Printer(spec, out)
    sweep = Sweep(spec, storage, workers=args.workers, on_trial=printer)
    printer.sweep = sweep
    done = sum(1 for t in sweep.trials() if counts_towards_budget(t) and t.state.is_finished())
    print(f"Study {spec.study!r}: {spec.trials} trials of {base.train.steps:,} steps sweeping "
          f"{', '.join(p.text for p in spec.params)}; {done} done already; {args.workers} worker(s) here.",
          file=out, flush=True)
    sweep.start()
    try:
        while not sweep.wait(0.5):
            pass
    except KeyboardInterrupt:
        print("Interrupted: stopping the running trials. Run the same command to resume.", file=out, flush=True)
        sweep.stop()
    for error in sweep.errors:
        print(error, file=out)
    return write_results(sweep, args.out, out)


def write_results(sweep: Sweep, folder: Path, out: TextIO) -> int:
    sweep.table().to_csv(folder / "trials.csv", index=False)
    best = sweep.best_config()
    if best is None:
        print(f"No trial completed; wrote {folder}/trials.csv.", file=out)
        return 1
    trial, config = best
    (folder / "best.json").write_text(config.to_json())
    print(f"Best: trial {trial.number}, {OBJECTIVES[sweep.spec.objective]} {trial.value:.4g} with "
          f"{_settings(trial.params)}; wrote {folder}/trials.csv and {folder}/best.json "
          f"(python -m rnnlab train --config {folder}/best.json).", file=out)
    return 0


class _Printer:
    """One line per finished trial; worker threads call it, so lines never interleave."""

    def __init__(self, spec: SweepSpec, out: TextIO) -> None:
        self.spec, self.out, self.sweep = spec, out, None
        self._lock = threading.Lock()

    def __call__(self, result: TrialResult) -> None:
        trials = self.sweep.trials()
        done = sum(1 for t in trials if counts_towards_budget(t) and t.state.is_finished())
        best = self.sweep.best_config()
        value = f"{result.value:.4g}" if result.value is not None else "-"
        best_text = f"best {best[0].value:.4g} (trial {best[0].number})" if best else "no best yet"
        note = f"  ({result.message})" if result.message else ""
        with self._lock:
            print(f"trial {result.number:>3} {result.state:<11} {value:>10}  {_settings(result.params)}  "
                  f"{result.steps:,} steps {result.seconds:.1f} s  [{done}/{self.spec.trials}, {best_text}]{note}",
                  file=self.out, flush=True)


def _settings(params: dict) -> str:
    return " ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in params.items())
