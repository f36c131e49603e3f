"""Comparing runs: a summary row per run, the settings that differ, overlaid loss curves."""

from __future__ import annotations

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


NOT_YET = "—"  # a loss not measured yet (no step, no validation): a dash, never "None"
DIVERGED = "diverged"  # a loss that became infinite or NaN: said, never "Infinity"


def loss_text(values: np.ndarray, best: bool) -> str:
    """The best (or mean) of a run's losses for a table cell: 4 significant digits, a dash or a word."""
    measured = values[~np.isnan(values)] if best else values
    if not measured.size:
        return NOT_YET
    if best and np.isfinite(measured).any():
        return f"{measured[np.isfinite(measured)].min():.4g}"
    return f"{measured.mean():.4g}" if np.isfinite(measured).all() else DIVERGED


def summary(records: list[RunRecord]) -> pd.DataFrame:
    """One row per run: its main settings and how it ended; losses as text (see loss_text)."""
    rows = []
    for r in records:
        c, h = r.config, r.history
        losses = h.column("loss")
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
            "loss (last 50 steps)": loss_text(tail, best=False),
            "best validation": loss_text(h.column("val_loss"), best=True),
            "seconds": float(h.column("elapsed")[-1]) if len(h) else 0.0,
        })
    return pd.DataFrame(rows)


def config_diff(a: RunConfig, b: RunConfig) -> pd.DataFrame:
    """The settings that differ between two runs, by their one name."""
    rows = [(f.name, a.get(f.name), b.get(f.name)) for f in FIELDS if a.get(f.name) != b.get(f.name)]
    return pd.DataFrame(rows, columns=["setting", "first", "second"])


def overlay_figure(records: list[RunRecord], log_y: bool = True, max_points: int = 1500) -> charts.Figure:
    """The training loss (solid) and validation loss (dashed, same colour) of several runs on one chart,
    each run in its own colour: the cell comparison shows which cell generalises, not only which fits."""
    training, validation = [], []
    for i, r in enumerate(records):
        colour = RUN_COLOURS[i % len(RUN_COLOURS)]
        steps, loss = r.history.sample("loss", max_points)
        # The per-step loss is noisy and often lies on its validation curve: drawn thin and see-through, under
        # every validation curve, so the validation stays readable (solid on solid, it disappeared under it).
        training.append({"type": "scatter", "mode": "lines", "name": f"{r.name} ({r.config.model.cell})",
                         "legendgroup": str(i), "x": charts.as_f32(steps), "y": charts.as_f32(loss),
                         "opacity": 0.55, "line": {"color": colour, "width": 1.5}})
        steps, val = r.history.sample("val_loss", max_points // 3)
        if len(steps):
            validation.append({"type": "scatter", "mode": "lines", "name": f"{r.name} validation",
                               "legendgroup": str(i), "x": charts.as_f32(steps), "y": charts.as_f32(val),
                               "line": {"color": colour, "width": 3, "dash": "dash"}})
    data = training + validation
    layout = charts.base_layout("Training (solid) and validation (dashed) loss of the selected runs", "step",
                                "loss", uirevision="runs")
    if log_y:
        layout["yaxis"] = charts.log_axis("loss", *(trace["y"] for trace in data))
    return {"data": data, "layout": layout}


def cell_variants(config: RunConfig, cells: tuple[str, ...] = ("rnn", "lstm", "gru")) -> list[RunConfig]:
    """The same run with each cell: everything else equal, as the compare preset trains them."""
    return [config.replace(cell=cell) for cell in cells]
