"""Figure builders: pure functions from data to a plotly figure dict.

Dicts, not plotly.graph_objects: building a validated Figure costs milliseconds
that a chart redrawn ten times a second cannot spare. Arrays stay numpy so that
plotly encodes them as compact binary, not as long lists of decimals."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

Figure = dict[str, Any]

# Colours chosen to survive a washed-out projector and common colour blindness.
INPUT_RED = "#d62728"
PREDICTION_BLUE = "#1f5fbf"
TARGET_GREY = "#555555"
VALIDATION_ORANGE = "#e07b00"
SPLIT_COLOURS = {"train": "rgba(31,95,191,0.13)", "val": "rgba(224,123,0,0.18)", "test": "rgba(85,85,85,0.18)"}

# Streamlit's chart theme draws ticks and legends at 12px in light grey; a projector needs more.
INK = "#222222"
_FONT = {"size": 15, "color": INK}
_TICKS = {"size": 14, "color": INK}


def axis(title: str, **extra: Any) -> dict[str, Any]:
    """An axis readable from the back of a lecture hall."""
    return {"title": {"text": title, "font": {"size": 15, "color": INK}}, "tickfont": _TICKS, "zeroline": False,
            **extra}


MAX_LOG_LABELS = 6  # more labels than this on a chart 380 px high pile on top of each other
EMPTY_LOG_RANGE = (1e-3, 1.0)  # a log axis with nothing on it yet: where most losses of scaled series start


def log_axis(title: str, *values: Any) -> dict[str, Any]:
    """A log axis labelled with whole values, never plotly's bare minor digits ("5", "2" read as losses):
    powers of ten when the values span two or more (every k-th over a wide range, so they never pile up),
    else 1-2-5 steps or a few rounded values. Without positive values: EMPTY_LOG_RANGE."""
    finite = [np.asarray(v, dtype=float).ravel() for v in values]
    finite = np.concatenate([v[np.isfinite(v) & (v > 0)] for v in finite]) if finite else np.array([])
    if not finite.size:
        low, high = EMPTY_LOG_RANGE
        ticks = log_ticks(low, high)
        return axis(title, type="log", range=[math.log10(low), math.log10(high)], autorange=False,
                    tickmode="array", tickvals=ticks, ticktext=[tick_text(t, ticks) for t in ticks])
    ticks = log_ticks(float(finite.min()), float(finite.max()))
    return axis(title, type="log", autorange=True, tickmode="array", tickvals=ticks,
                ticktext=[tick_text(t, ticks) for t in ticks])


def log_ticks(low: float, high: float) -> list[float]:
    """Tick values for a log axis over [low, high] (both > 0): the first of these with two ticks inside
    (plotly's autorange pads a little, so a tick at the very edge still shows):
    powers of ten, thinned to MAX_LOG_LABELS at multiples of k decades; 1-2-5 steps; 1-9 steps; the ends."""
    first, last = math.floor(math.log10(low)), math.ceil(math.log10(high))
    inside = lambda v: low / 1.05 <= v <= high * 1.05  # noqa: E731
    exponents = [e for e in range(first, last + 1) if inside(10.0 ** e)]
    if len(exponents) >= 2:
        k = math.ceil(len(exponents) / MAX_LOG_LABELS)
        return [10.0 ** e for e in exponents if e % k == 0] if k > 1 else [10.0 ** e for e in exponents]
    for mantissas in ((1, 2, 5), range(1, 10)):
        ticks = [m * 10.0 ** e for e in range(first, last + 1) for m in mantissas if inside(m * 10.0 ** e)]
        if len(ticks) >= 2:
            return ticks[:: math.ceil(len(ticks) / MAX_LOG_LABELS)]
    return sorted({float(f"{v:.2g}") for v in (low, high)})


def tick_text(value: float, ticks: Sequence[float]) -> str:
    """0.01 ... 1000 as decimals; beyond, 10 to a power (with a mantissa when not a power of ten)."""
    if all(1e-3 <= t < 1e4 for t in ticks):
        return f"{value:g}"
    exponent = math.floor(math.log10(value) + 1e-9)
    mantissa = round(value / 10.0 ** exponent, 2)
    if exponent == 0:
        return f"{value:g}"
    power = f"10<sup>{exponent}</sup>".replace("-", "\u2212")
    return power if mantissa == 1 else f"{mantissa:g}×{power}"


def base_layout(title: str, x_title: str, y_title: str, height: int = 380, **extra: Any) -> dict[str, Any]:
    layout = {
        "title": {"text": title, "x": 0.01, "font": {"size": 18, "color": INK}},
        "height": height,
        "margin": {"l": 64, "r": 16, "t": 44, "b": 40},
        "font": _FONT,
        "xaxis": axis(x_title),
        "yaxis": axis(y_title),
        "legend": {"orientation": "h", "y": -0.24, "x": 0.5, "xanchor": "center", "yanchor": "top",
                   "font": {"size": 14, "color": INK}},
        "hovermode": "x",
    }
    layout.update(extra)
    return layout


def as_f32(values: Any) -> np.ndarray:
    return np.asarray(values, dtype=np.float32)


_WAITING = {"text": "appears when training starts", "showarrow": False, "xref": "paper", "yref": "paper",
            "x": 0.5, "y": 0.5, "font": {"size": 15, "color": "#777777"}}


def loss_figure(
    train: tuple[np.ndarray, np.ndarray],
    validation: tuple[np.ndarray, np.ndarray] | None = None,
    log_y: bool = True,
    title: str = "Loss",
    lr_changes: Sequence[Any] = (),
) -> Figure:
    """Training loss per step and validation loss where it was measured; a dashed line where the learning
    rate changed (lr_changes: verdict.LrChange-like, with .step, .old and .new)."""
    steps, loss = train
    data = [{
        "type": "scattergl" if len(steps) > 5000 else "scatter",
        "mode": "lines", "name": "train", "x": as_f32(steps), "y": as_f32(loss),
        "line": {"color": PREDICTION_BLUE, "width": 2},
    }]
    if validation is not None and len(validation[0]):
        data.append({
            # Each marker is an SVG element the browser redraws ten times a second: lines once there are many.
            "type": "scatter", "mode": "lines+markers" if len(validation[0]) <= 60 else "lines", "name": "validation",
            "x": as_f32(validation[0]), "y": as_f32(validation[1]),
            "line": {"color": VALIDATION_ORANGE, "width": 2}, "marker": {"size": 6},
        })
    layout = base_layout(title, "step", "loss", uirevision="loss", **lr_marks(lr_changes))
    if log_y:
        layout["yaxis"] = log_axis("loss", loss, *(validation[1:] if validation is not None else ()))
    if not len(steps):  # a run reset to step 0: the empty chart's words, not a 0..6 x 1e-1..1e4 grid
        layout["annotations"] = [*layout["annotations"], _WAITING]
        layout["xaxis"]["range"] = [0, 10]
        if not log_y:
            layout["yaxis"]["range"] = [0, 1]
    return {"data": data, "layout": layout}


def empty_figure(title: str, x_title: str, y_title: str) -> Figure:
    """Axes with nothing on them yet: the chart's place on the page before the first step."""
    layout = base_layout(title, x_title, y_title)
    layout["annotations"] = [_WAITING]
    return {"data": [{"type": "scatter", "x": [], "y": [], "showlegend": False}], "layout": layout}


def window_figure(snapshot: Any, title: str = "Prediction vs target, current window",
                  index: pd.Index | None = None) -> Figure:
    """The classic notebook's plot: input points (red), true next values and the prediction (blue).
    With the series' DatetimeIndex (`index`), the x axis shows the rows' dates instead of row numbers."""
    dated = isinstance(index, pd.DatetimeIndex)

    def x_of(rows: np.ndarray) -> Any:
        return axis_values(index[np.asarray(rows, dtype=int)]) if dated else as_f32(rows)

    data = [
        {"type": "scatter", "mode": "lines+markers", "name": "target", "x": x_of(snapshot.target_time),
         "y": as_f32(snapshot.targets), "line": {"color": "rgba(85,85,85,0.35)", "width": 7},
         "marker": {"color": "rgba(85,85,85,0.35)", "size": 14}},
        {"type": "scatter", "mode": "lines+markers", "name": "prediction", "x": x_of(snapshot.target_time),
         "y": as_f32(snapshot.predictions), "line": {"color": PREDICTION_BLUE, "width": 1.5},
         "marker": {"color": PREDICTION_BLUE, "size": 7}},
        # Drawn last, as rings: the inputs sit where the previous step's target is, under the prediction.
        {"type": "scatter", "mode": "markers", "name": "input", "x": x_of(snapshot.input_time),
         "y": as_f32(snapshot.inputs), "marker": {"color": INPUT_RED, "size": 11, "symbol": "circle-open",
                                                   "line": {"width": 2.5}}},
    ]
    x_title = str(index.name or "time") if dated else "time step"
    return {"data": data, "layout": base_layout(title, x_title, "value", uirevision="window")}


def series_figure(
    frame: pd.DataFrame,
    bounds: dict[str, tuple[int, int]] | None = None,
    columns: Sequence[str] | None = None,
    max_points: int = 4000,
    title: str = "Series",
) -> Figure:
    """The series (target first, covariates hidden until clicked) with the chronological split shaded."""
    step = max(1, len(frame) // max_points)
    shown = frame.iloc[::step]
    x = axis_values(shown.index)
    names = list(columns or frame.columns)
    data = []
    for i, name in enumerate(names):
        data.append({
            "type": "scatter", "mode": "lines", "name": name, "x": x, "y": as_f32(shown[name]),
            "line": {"width": 2 if i == 0 else 1},
            "visible": True if i == 0 else "legendonly",
        })
    shapes, annotations = [], []
    for part, (start, end) in (bounds or {}).items():
        if end <= start:
            continue
        x0, x1 = _axis_point(frame.index, start), _axis_point(frame.index, end - 1)
        shapes.append({"type": "rect", "xref": "x", "yref": "paper", "x0": x0, "x1": x1, "y0": 0, "y1": 1,
                       "fillcolor": SPLIT_COLOURS.get(part, "rgba(0,0,0,0.05)"), "line": {"width": 0},
                       "layer": "below"})
        annotations.append({"xref": "x", "yref": "paper", "x": x0, "y": 1.0, "xanchor": "left",
                            "yanchor": "bottom", "text": f"<b>{part}</b>", "showarrow": False})
    layout = base_layout(title, str(frame.index.name or "time"), names[0] if names else "value",
                     shapes=shapes, annotations=annotations, uirevision="series")
    return {"data": data, "layout": layout}


def date_format(index: pd.DatetimeIndex) -> str:
    """Dates alone when every time is midnight (daily or coarser data), else dates and times."""
    return "%Y-%m-%d" if (index == index.normalize()).all() else "%Y-%m-%d %H:%M"


def axis_values(index: pd.Index, fmt: str | None = None) -> Any:
    """x values for plotly: dates as text in `fmt` (default: date_format of the index), numbers as float32."""
    if isinstance(index, pd.DatetimeIndex):
        return index.strftime(fmt or date_format(index)).tolist()
    return as_f32(index.to_numpy())


def readable_index(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame for a table: a DatetimeIndex written as dates ("2023-01-01", not "2023-01-01 00:00:00")."""
    if not isinstance(frame.index, pd.DatetimeIndex):
        return frame
    shown = frame.copy()
    shown.index = pd.Index(axis_values(frame.index), name=frame.index.name)
    return shown


def _axis_point(index: pd.Index, i: int) -> Any:
    value = index[i]
    return value.strftime(date_format(index)) if isinstance(index, pd.DatetimeIndex) else float(value)


def lr_marks(changes: Sequence[Any]) -> dict[str, list[dict[str, Any]]]:
    """Vertical lines where the learning rate changed, labelled with the new rate, for a loss chart's layout:
    `layout.update(lr_marks(verdict.lr_changes(steps, lrs, initial)))` (each change has .step, .old and .new)."""
    shapes, annotations = [], []
    for change in changes:
        shapes.append({"type": "line", "xref": "x", "yref": "paper", "x0": change.step, "x1": change.step,
                       "y0": 0, "y1": 1, "line": {"color": TARGET_GREY, "width": 1.5, "dash": "dash"}})
        annotations.append({"text": f"lr {change.old:g} → {change.new:g}", "xref": "x", "yref": "paper",
                            "x": change.step, "y": 1, "xanchor": "left", "yanchor": "top", "showarrow": False,
                            "font": {"size": 13, "color": INK}, "bgcolor": "rgba(255,255,255,0.8)"})
    return {"shapes": shapes, "annotations": annotations}
