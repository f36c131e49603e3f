"""Figures for looking inside the network: hidden and cell states, gates, and the gradient reaching each step.

Pure functions from probes (rnnlab.analysis.probes) to plotly figure dicts, arrays left as numpy, as in charts.py.
Rows are hidden units (unit 1 at the top), columns are time steps (oldest on the left)."""

from __future__ import annotations

from typing import Any

import numpy as np

from rnnlab.analysis.probes import GATE_INFO, Gates, HiddenStates
from rnnlab.figures.charts import INK, INPUT_RED, PREDICTION_BLUE, VALIDATION_ORANGE, Figure, axis, log_axis

__all__ = ["hidden_heatmap", "gates_figure", "gradient_figure", "CELL_LABELS"]

CELL_LABELS = {"rnn": "RNN", "rnn_relu": "RNN (ReLU)", "lstm": "LSTM", "gru": "GRU"}
CELL_COLOURS = {"rnn": INPUT_RED, "rnn_relu": VALIDATION_ORANGE, "lstm": PREDICTION_BLUE, "gru": "#2ca02c"}
TIME_TITLE = "time step t (0 = oldest)"
# Gates squash with a sigmoid into 0..1; the candidates (g, n) with tanh into -1..1 and get a diverging scale.
CANDIDATES = ("g", "n")

_FONT = {"size": 15, "color": INK}


def _layout(title: str, height: int, **extra: Any) -> dict[str, Any]:
    layout = {
        "title": {"text": title, "x": 0.01, "font": {"size": 17}},
        "height": height,
        "margin": {"l": 70, "r": 24, "t": 56, "b": 56},
        "font": _FONT,
    }
    layout.update(extra)
    return layout


def _rows_height(units: int, per_unit: int, low: int, high: int, extra: int) -> int:
    """Taller for more units, within what a projected screen shows without scrolling."""
    return int(min(high, max(low, extra + per_unit * units)))


def hidden_heatmap(states: HiddenStates, which: str = "h") -> Figure:
    """The last layer's hidden state h (or an LSTM's cell state c) as a units x time heatmap."""
    if which not in ("h", "c"):
        raise ValueError(f"which must be 'h' or 'c' (got {which!r}).")
    z = states.h if which == "h" else states.c  # (units, T)
    if z is None:
        raise ValueError("Only an LSTM has a cell state c.")
    units, steps = z.shape
    # tanh keeps h within -1..1; fix that range so colours mean the same from window to window.
    # The cell state (and a ReLU RNN's h) is unbounded: scale to its largest value, still centred on 0.
    bounded = which == "h" and states.cell != "rnn_relu"
    bound = 1.0 if bounded else float(max(np.abs(z).max(), 1e-6))
    name = "hidden state h" if which == "h" else "cell state c"
    trace = {
        "type": "heatmap",
        "z": z.astype(np.float32),
        "x": np.arange(steps),
        "y": list(states.unit_labels),
        "colorscale": "RdBu",
        "reversescale": True,  # red for positive, blue for negative
        "zmin": -bound, "zmax": bound, "zmid": 0.0,
        "colorbar": {"title": {"text": which}},
        "hovertemplate": f"time step %{{x}}<br>unit %{{y}}<br>{which} = %{{z:.3f}}<extra></extra>",
    }
    title = f"{name[0].upper()}{name[1:]} of layer {states.layer + 1} at every time step"
    layout = _layout(
        title, _rows_height(units, 12, 300, 720, 140),
        xaxis={"title": {"text": TIME_TITLE}},
        yaxis={"title": {"text": "hidden unit"}, "autorange": "reversed", "type": "category"},
    )
    return {"data": [trace], "layout": layout}


def gates_figure(gates: Gates) -> Figure:
    """One heatmap per gate (units x time) side by side, each titled with what its values mean."""
    where = f"layer {gates.layer + 1}" + (", backward direction" if gates.direction == 1 else "")
    names = gates.names
    if not names:
        activation = "relu" if gates.cell == "rnn_relu" else "tanh"
        layout = _layout(f"Gates of {where}", 220, xaxis={"visible": False}, yaxis={"visible": False})
        layout["annotations"] = [{
            "text": f"A plain RNN has no gates: h<sub>t</sub> = {activation}(W<sub>ih</sub> x<sub>t</sub> + "
                    "W<sub>hh</sub> h<sub>t-1</sub> + b)",
            "xref": "paper", "yref": "paper", "x": 0.5, "y": 0.5, "showarrow": False, "font": {"size": 17},
        }]
        return {"data": [], "layout": layout}
    units, steps = gates.values[names[0]].shape  # (H, T)
    gap = 0.03
    width = (1.0 - gap * (len(names) - 1)) / len(names)
    data: list[dict[str, Any]] = []
    layout = _layout(
        f"Gates of {where} at every time step", _rows_height(units, 8, 380, 640, 220),
        margin={"l": 70, "r": 150, "t": 150, "b": 56},
    )
    annotations = []
    for k, name in enumerate(names):
        suffix = "" if k == 0 else str(k + 1)  # plotly names the axes xaxis, xaxis2, xaxis3, ...
        left = k * (width + gap)
        candidate = name in CANDIDATES
        title, meaning = GATE_INFO[name]
        data.append({
            "type": "heatmap",
            "z": gates.values[name].astype(np.float32),  # (H, T)
            "x": np.arange(steps),
            "y": np.arange(1, units + 1),
            "coloraxis": "coloraxis2" if candidate else "coloraxis",
            "xaxis": f"x{suffix}", "yaxis": f"y{suffix}",
            "hovertemplate": f"{title}<br>time step %{{x}}<br>unit %{{y}}<br>value %{{z:.3f}}<extra></extra>",
        })
        layout[f"xaxis{suffix}"] = {"domain": [left, left + width], "anchor": f"y{suffix}",
                                    "title": {"text": "time step t"}}
        layout[f"yaxis{suffix}"] = {"anchor": f"x{suffix}", "autorange": "reversed"}
        if k == 0:
            layout["yaxis"]["title"] = {"text": "hidden unit"}
        else:
            layout[f"yaxis{suffix}"].update({"matches": "y", "showticklabels": False})
        annotations.append({
            # the meaning on two lines (split at its comma) so four panels fit a narrow page
            "text": f"<b>{title}</b><br><span style='font-size:13px'>{meaning.replace(', ', ',<br>')}</span>",
            "xref": "paper", "yref": "paper", "x": left + width / 2, "y": 1.0,
            "xanchor": "center", "yanchor": "bottom", "showarrow": False,
        })
    layout["annotations"] = annotations
    layout["coloraxis"] = {"colorscale": "Viridis", "cmin": 0.0, "cmax": 1.0,
                           "colorbar": {"title": {"text": "gate"}, "x": 1.02, "len": 0.9}}
    if any(name in CANDIDATES for name in names):
        layout["coloraxis2"] = {"colorscale": "RdBu", "reversescale": True, "cmin": -1.0, "cmax": 1.0, "cmid": 0.0,
                                "colorbar": {"title": {"text": "candidate"}, "x": 1.12, "len": 0.9}}
    return {"data": data, "layout": layout}


def gradient_figure(norms: dict[str, np.ndarray] | np.ndarray, log_y: bool = True) -> Figure:
    """||dL/dh_t|| against the time step: one line, or one per cell when given {cell: norms}."""
    series = norms if isinstance(norms, dict) else {"": norms}
    data = []
    truncated = False
    beside_fresh = any(" (" in key for key in series)
    for key, values in series.items():
        # keys are cells ("lstm"), perhaps with a note ("lstm (fresh)"): the colour and label follow the cell
        cell, _, note = key.partition(" (")
        y = np.asarray(values, dtype=np.float32)  # (T,)
        if log_y:
            # a log axis cannot show 0 (no gradient reaches that step, e.g. before a truncation cut): leave a gap
            truncated = truncated or bool((y == 0).any())
            y = np.where(y > 0, y, np.nan).astype(np.float32)
        data.append({
            "type": "scatter", "mode": "lines+markers",
            "name": (CELL_LABELS.get(cell, cell) + (f" ({note}" if note else "")) or "||dL/dh_t||",
            "x": np.arange(len(y)), "y": y,
            # the run's own model beside fresh ones of the same cell: same colour, dashed
            "line": {"color": CELL_COLOURS.get(cell, PREDICTION_BLUE), "width": 2,
                     "dash": "dash" if beside_fresh and not note else "solid"},
            "marker": {"size": 5},
            "hovertemplate": "time step %{x}<br>||dL/dh_t|| = %{y:.3g}<extra>%{fullData.name}</extra>",
        })
    layout = _layout(
        "How much of the loss's gradient reaches each time step", 380,
        xaxis=axis(TIME_TITLE),
        yaxis=(log_axis("gradient size ||dL/dh_t||", *(t["y"] for t in data)) if log_y
               else axis("gradient size ||dL/dh_t||")),
        showlegend=isinstance(norms, dict),
        legend={"orientation": "h", "y": 1.02, "x": 1, "xanchor": "right", "yanchor": "bottom"},
        hovermode="x",
    )
    if truncated:
        layout["annotations"] = [{
            "text": "no line: no gradient reaches these steps", "xref": "paper", "yref": "paper",
            "x": 0.0, "y": 0.02, "xanchor": "left", "showarrow": False, "font": {"size": 13},
        }]
    return {"data": data, "layout": layout}
