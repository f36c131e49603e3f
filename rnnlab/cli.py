"""Command line: `python -m rnnlab train|shapes|presets|lessons|sweep`, flags named as the settings are."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

import torch

from rnnlab import presets
from rnnlab.config import FIELDS, RunConfig, json_settings
from rnnlab.errors import RnnlabError


def _settings_parser(description: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--config", type=Path, help="a JSON file of settings (as written by train or the app)")
    parser.add_argument("--preset", help=f"start from a preset: {', '.join(presets.PRESETS)}")
    for f in FIELDS:
        flags = [f"--{f.name}"] + ([f"--{f.name.replace('_', '-')}"] if "_" in f.name else [])
        choices = f" ({'/'.join(f.choices)})" if f.choices else ""
        parser.add_argument(*flags, dest=f.name, metavar=f.kind.__name__.upper(), help=f"{f.help}{choices}")
    return parser


def config_from_args(args: argparse.Namespace) -> RunConfig:
    """The file's settings (or the preset's: an explicit preset replaces the file), then each flag given on
    the command line, merged as a link's are: a series' own settings apply where none of these sets them."""
    flat: dict = {}
    if args.config is not None:
        try:
            flat = json_settings(args.config.read_text())
        except OSError as exc:
            raise RnnlabError(f"Cannot read the config file {args.config}: {exc.strerror}.") from None
    if args.preset:
        flat = {"preset": args.preset}
    flat.update({f.name: getattr(args, f.name) for f in FIELDS if getattr(args, f.name) is not None})
    return RunConfig.from_flat(flat)


def train(argv: Sequence[str], out: TextIO = sys.stdout) -> int:
    from rnnlab.learn.history import History
    from rnnlab.learn.trainer import Trainer
    from rnnlab.store.folder import write_run_folder

    parser = _settings_parser("Train a recurrent network headless and save its history, config and weights.")
    parser.add_argument("--out", type=Path, default=Path("runs/latest"), help="output folder (default runs/latest)")
    parser.add_argument("--threads", type=int, default=1, help="PyTorch threads (small RNNs run fastest on 1)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    torch.set_num_threads(max(1, args.threads))
    config = config_from_args(args)
    trainer = Trainer(config)
    history = History()
    last_draw = 0.0
    for progress in trainer:
        history.append(progress)
        now = time.monotonic()
        if not args.quiet and (now - last_draw > 0.1 or progress.finished):
            last_draw = now
            print(_bar(progress, config.train.steps), end="\r", file=sys.stderr, flush=True)
    if not args.quiet:
        print(file=sys.stderr)
    write_run_folder(args.out, config, history, trainer.model.state_dict())  # the run store's folder format
    losses = history.column("loss")
    print(trainer.message or f"Stopped at step {trainer.step:,}.", file=out)
    print(f"loss: first {losses[0]:.4g}, last {losses[-1]:.4g}; wrote {args.out}/history.csv, config.json, "
          "weights.pt", file=out)
    return 0 if trainer.status != "diverged" else 3


def _bar(p, total: int, width: int = 30) -> str:
    done = int(width * p.step / max(total, 1))
    val = f" val {p.val_loss:.4g}" if p.val_loss is not None else ""
    return (f"[{'#' * done}{'.' * (width - done)}] {p.step:>{len(str(total))}}/{total} "
            f"loss {p.loss:.4g}{val} {p.steps_per_s:,.0f} steps/s ")


def shapes(argv: Sequence[str], out: TextIO = sys.stdout) -> int:
    from rnnlab.analysis.shapes import param_table, shape_trace, trace_table
    from rnnlab.series.data import make_series

    parser = _settings_parser("Print the shape of every tensor in one forward pass of this configuration.")
    parser.add_argument("--seq-first", action="store_true", help="trace with batch_first=False")
    args = parser.parse_args(argv)
    config = config_from_args(args)
    input_size = make_series(config.data).shape[1]
    rows = shape_trace(config, input_size, batch_first=not args.seq_first)
    print(trace_table(rows), file=out)
    print(file=out)
    for row in param_table(config, input_size):
        print(f"{row.part:<28} {row.count:>10,}  {row.formula}", file=out)
    return 0


def list_presets(argv: Sequence[str], out: TextIO = sys.stdout) -> int:
    for name, preset in presets.PRESETS.items():
        print(f"{name:<22} {preset.description}", file=out)
    return 0


def list_lessons(argv: Sequence[str], out: TextIO = sys.stdout) -> int:
    from rnnlab.lessons import load_lessons

    for name, item in load_lessons().items():
        print(f"{name:<22} {item.title}: {item.summary} (open with ?lesson={name})", file=out)
    return 0


def sweep(argv: Sequence[str], out: TextIO | None = None) -> int:
    from rnnlab.sweep import command

    parser = _settings_parser("Sweep settings with Optuna: every trial is a training run of these settings with "
                              "the swept ones changed; writes trials.csv and best.json.")
    command.add_arguments(parser)
    args = parser.parse_args(argv)
    return command.run(args, config_from_args(args), out or sys.stdout)


COMMANDS = {"train": train, "shapes": shapes, "presets": list_presets, "lessons": list_lessons, "sweep": sweep}


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in COMMANDS:
        print(f"usage: python -m rnnlab {{{','.join(COMMANDS)}}} [--help] [settings]", file=sys.stderr)
        return 2
    try:
        return COMMANDS[argv[0]](argv[1:])
    except RnnlabError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
