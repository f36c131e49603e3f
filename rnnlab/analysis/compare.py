"""Comparing runs: a summary row per run, the settings that differ, overlaid loss curves."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from rnnlab.analysis import verdict
from rnnlab.config import FIELDS, RunConfig
from rnnlab.figures import charts
from rnnlab.learn.history import History

# One colour per run, distinct on a projector; cycled when there are more runs.
RUN_COLOURS = ("#1f5fbf", "#e07b00", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf")


@dataclass(frozen=True)
class RunRecord:
    """What the Runs page needs of one run."""

    name: str
    config: RunConfig
    history: History
    status: str  # a phase or a trainer status: running, paused, done, diverged, early_stopped, stopped...


def summary(records: list[RunRecord]) -> pd.DataFrame:
    """One row per run: its main settings and how it ended."""
    rows = []
    for r in records:
        c, h = r.config, r.history
        losses = h.column("loss") if len(h) else np.array([np.nan])
        val = h.column("val_loss") if len(h) else np.array([np.nan])
        finite_val = val[np.isfinite(val)]
        tail = losses[-min(len(losses), 50):]
        rows.append({
            "run": r.name,
            "status": r.status,
            "cell": c.model.cell,
            "hidden": c.model.hidden,
            "layers": c.model.layers,
            "data": c.data.data,
            # the rate as it went: "0.01 → 0.1 at step 50" when it was changed while training
            "lr": verdict.lr_text(verdict.lr_changes(h.column("step"), h.column("lr"), c.train.lr), c.train.lr),
            "steps": len(h),
            "loss (last 50 steps)": float(np.nanmean(tail)) if len(h) else math.nan,
            "best validation": float(finite_val.min()) if finite_val.size else math.nan,
            "seconds": float(h.column("elapsed")[-1]) if len(h) else 0.0,
        })
    return pd.DataFrame(rows)


def config_diff(a: RunConfig, b: RunConfig) -> pd.DataFrame:
    """The settings that differ between two runs, by their one name."""
    rows = [(f.name, a.get(f.name), b.get(f.name)) for f in FIELDS if a.get(f.name) != b.get(f.name)]
    return pd.DataFrame(rows, columns=["setting", "first", "second"])


def overlay_figure(records: list[RunRecord], log_y: bool = True, max_points: int = 1500) -> charts.Figure:
    """The training loss of several runs on one chart, each in its own colour."""
    data = []
    for i, r in enumerate(records):
        steps, loss = r.history.sample("loss", max_points)
        colour = RUN_COLOURS[i % len(RUN_COLOURS)]
        data.append({"type": "scatter", "mode": "lines", "name": f"{r.name} ({r.config.model.cell})",
                     "x": charts.as_f32(steps), "y": charts.as_f32(loss), "line": {"color": colour, "width": 2}})
    layout = charts.base_layout("Training loss of the selected runs", "step", "loss", uirevision="runs")
    if log_y:
        layout["yaxis"] = charts.log_axis("loss", *(trace["y"] for trace in data))
    return {"data": data, "layout": layout}


def cell_variants(config: RunConfig, cells: tuple[str, ...] = ("rnn", "lstm", "gru")) -> list[RunConfig]:
    """The same run with each cell: everything else equal, as the compare preset trains them."""
    return [config.replace(cell=cell) for cell in cells]
