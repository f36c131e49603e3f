"""Sweep figures as plain plotly dicts: best so far, parallel coordinates, each setting against the result,
the trials' intermediate losses, and parameter importance. Inputs are the study's trials table."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from rnnlab.figures.charts import (
    PREDICTION_BLUE,
    TARGET_GREY,
    VALIDATION_ORANGE,
    Figure,
    axis,
    base_layout,
    empty_figure,
    log_axis,
    log_ticks,
)
from rnnlab.sweep.space import Param
from rnnlab.sweep.study import Curve

STATE_COLOURS = {"complete": VALIDATION_ORANGE, "pruned": "#b0b0b0", "failed": "#d0d0d0",
                 "running": PREDICTION_BLUE}


def _value_axis(title: str, values: Sequence[float]) -> dict:
    finite = np.asarray([v for v in values if v is not None and np.isfinite(v)], dtype=float)
    return log_axis(title, finite) if finite.size and (finite > 0).all() else axis(title)


def best_so_far_figure(table: pd.DataFrame, label: str) -> Figure:
    """Each complete trial's value against its number, and the best so far as a step line."""
    done = table[table["state"] == "complete"].sort_values("number")
    if done.empty:
        return empty_figure("Best so far", "trial", label)
    best = done["value"].cummin()
    layout = base_layout("Best so far", "trial", label, hovermode="closest")
    # Trial numbers are whole: never a tick at 0.5 (at most about 8 ticks).
    layout["xaxis"].update(tick0=0, dtick=max(1, math.ceil(int(done["number"].max()) / 8)))
    layout["yaxis"] = _value_axis(label, done["value"])
    return {"data": [
        {"type": "scatter", "mode": "markers", "x": done["number"].tolist(), "y": done["value"].tolist(),
         "name": "trial", "marker": {"color": TARGET_GREY, "size": 8}},
        {"type": "scatter", "mode": "lines", "x": done["number"].tolist(), "y": best.tolist(),
         "name": "best so far", "line": {"color": VALIDATION_ORANGE, "width": 3, "shape": "hv"}},
    ], "layout": layout}


def _dimension(param: Param, values: pd.Series) -> dict:
    if param.choices:
        codes = {c: i for i, c in enumerate(param.choices)}
        return {"label": param.name, "values": [codes.get(v, None) for v in values],
                "tickvals": list(codes.values()), "ticktext": [str(c) for c in param.choices],
                "range": [0, max(1, len(codes) - 1)]}
    if param.log:  # parcoords has no log axis: plot the exponent, labelled with the values themselves
        ticks = log_ticks(float(param.low), float(param.high))
        return {"label": f"{param.name} (log)", "values": np.log10(values.astype(float)).tolist(),
                "range": [float(np.log10(param.low)), float(np.log10(param.high))],
                "tickvals": [math.log10(t) for t in ticks], "ticktext": [f"{t:g}" for t in ticks]}  # no HTML here
    return {"label": param.name, "values": values.astype(float).tolist(),
            "range": [float(param.low), float(param.high)]}


def parallel_figure(table: pd.DataFrame, params: Sequence[Param], label: str) -> Figure:
    """One line per complete trial through every swept setting to its result; darker is better."""
    done = table[table["state"] == "complete"]
    if done.empty:
        return empty_figure("Parallel coordinates", "", "")
    dims = [_dimension(p, done[p.name]) for p in params]
    dims.append({"label": label, "values": done["value"].astype(float).tolist()})
    return {"data": [{"type": "parcoords", "dimensions": dims,
                      "line": {"color": done["value"].astype(float).tolist(), "colorscale": "Viridis",
                               "reversescale": True, "showscale": True}}],
            "layout": {"title": {"text": "Parallel coordinates (darker is better)", "x": 0.01},
                       "height": 380, "margin": {"l": 60, "r": 40, "t": 80, "b": 30}}}


def scatter_figure(table: pd.DataFrame, params: Sequence[Param], label: str) -> Figure:
    """Each setting against the result, side by side with a shared value axis; pruned trials in grey."""
    judged = table[table["state"].isin(("complete", "pruned")) & table["value"].notna()]
    if judged.empty:
        return empty_figure("Each setting against the result", "setting", label)
    n = len(params)
    gap = 0.04
    width = (1 - gap * (n - 1)) / n
    layout = base_layout("Each setting against the result", "", label, hovermode="closest", showlegend=False)
    layout["yaxis"] = _value_axis(label, judged["value"])
    data = []
    for i, p in enumerate(params):
        suffix = "" if i == 0 else str(i + 1)
        x_axis = _setting_axis(p)
        x_axis.update(domain=[i * (width + gap), i * (width + gap) + width], anchor="y")
        layout[f"xaxis{suffix}"] = x_axis
        for state, rows in judged.groupby("state"):
            values = rows[p.name].astype(str) if p.choices else rows[p.name]
            data.append({"type": "scatter", "mode": "markers", "xaxis": f"x{suffix}", "yaxis": "y",
                         "x": values.tolist(), "y": rows["value"].tolist(), "name": state,
                         "text": [f"trial {k}" for k in rows["number"]],
                         "marker": {"color": STATE_COLOURS[state], "size": 8}})
    return {"data": data, "layout": layout}


def _setting_axis(p: Param) -> dict:
    """The whole swept range of a setting (every choice, both ends), whichever trials have run so far."""
    if p.choices:
        return axis(p.name, type="category", categoryorder="array", categoryarray=[str(c) for c in p.choices],
                    range=[-0.5, len(p.choices) - 0.5], autorange=False)
    if p.log:
        low, high = math.log10(p.low), math.log10(p.high)
        pad = (high - low) * 0.05
        return log_axis(p.name, p.low, p.high) | {"range": [low - pad, high + pad], "autorange": False}
    pad = (p.high - p.low) * 0.05
    return axis(p.name, range=[p.low - pad, p.high + pad], autorange=False)


def curves_figure(curves: Sequence[Curve], label: str, best: int | None = None) -> Figure:
    """The loss each trial reported as it trained: pruned ones in grey, the best one thick."""
    if not curves:
        return empty_figure("Trials as they train", "step", label)
    data = []
    for curve in sorted(curves, key=lambda c: (c.number == best, c.state == "complete")):
        is_best = curve.number == best
        data.append({"type": "scatter", "mode": "lines", "x": curve.steps, "y": curve.values,
                     "name": f"trial {curve.number} ({curve.state})", "showlegend": False,
                     "line": {"color": STATE_COLOURS[curve.state], "width": 4 if is_best else 1.5}})
    layout = base_layout("Trials as they train", "step", label, hovermode="closest")
    layout["yaxis"] = _value_axis(label, np.concatenate([c.values for c in curves]))
    return {"data": data, "layout": layout}


def importance_figure(importances: dict[str, float]) -> Figure:
    """How much each setting explains the result, largest at the top."""
    names = sorted(importances, key=importances.get)
    layout = base_layout("Which settings matter", "importance (share of the result explained)", "",
                         height=max(200, 60 + 40 * len(names)), hovermode="closest")
    return {"data": [{"type": "bar", "orientation": "h", "y": names, "x": [importances[n] for n in names],
                      "marker": {"color": PREDICTION_BLUE}}], "layout": layout}
