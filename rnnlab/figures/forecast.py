"""Figure builders for forecast evaluation: pure functions from a ForecastReport to a plotly figure dict."""

from __future__ import annotations

from typing import Any

import numpy as np

from rnnlab.analysis.forecast import LAST_VALUE, SEASONAL_NAIVE, ForecastReport
from rnnlab.figures.charts import (
    PREDICTION_BLUE,
    TARGET_GREY,
    VALIDATION_ORANGE,
    Figure,
    as_f32,
    axis_values,
    base_layout,
)

__all__ = ["forecast_figure", "horizon_figure", "BASELINE_COLOURS"]

# Thin and dotted: the baselines are references, not the subject.
BASELINE_COLOURS = {LAST_VALUE: "#8c564b", SEASONAL_NAIVE: "#2ca02c"}


def forecast_figure(report: ForecastReport, title: str | None = None) -> Figure:
    """Truth (grey), one-step (blue), free-running (orange, dashed); the baselines thin and dotted (shown, so
    their legend entries do not look switched off; a click on an entry hides a line)."""
    x = axis_values(report.times)
    traces = [
        _line(x, report.truth, "truth", {"color": TARGET_GREY, "width": 2}),
        _line(x, report.one_step, "one-step (true past)", {"color": PREDICTION_BLUE, "width": 2}),
        _line(x, report.free_running, "free-running (own predictions fed back)",
              {"color": VALIDATION_ORANGE, "width": 2, "dash": "dash"}),
    ]
    for name, values in report.baselines.items():
        traces.append(_line(x, values, _baseline_label(report, name),
                            {"color": BASELINE_COLOURS.get(name), "width": 1.5, "dash": "dot"}))
    title = title or f"Forecast on the {report.part} part"
    layout = base_layout(title, str(report.times.name or "time"), report.target_name, height=420,
                     uirevision=f"forecast-{report.part}")
    return {"data": traces, "layout": layout}


def horizon_figure(report: ForecastReport, title: str = "Error versus forecast horizon") -> Figure:
    """Free-running RMSE k steps ahead, with the baselines' RMSE k steps ahead over the same forecast starts.

    Where the network's curve lies above a baseline's, its forecast that far ahead is worse than that trivial
    answer: the last known value, or the value one season before the forecast time.
    """
    traces = [{
        "type": "scatter", "mode": "lines+markers", "name": "free-running forecast",
        "x": as_f32(report.horizons), "y": as_f32(report.horizon_rmse),
        "line": {"color": VALIDATION_ORANGE, "width": 2}, "marker": {"size": 5},
    }]
    for name, curve in report.horizon_baselines.items():
        known = np.isfinite(curve)
        if not known.any():
            continue  # not defined for this part (e.g. a season longer than the past before every start)
        traces.append({
            "type": "scatter", "mode": "lines", "name": _horizon_label(report, name),
            "x": as_f32(report.horizons[known]), "y": as_f32(curve[known]),
            "line": {"color": BASELINE_COLOURS.get(name), "width": 1.5, "dash": "dot"}, "hoverinfo": "name+x+y",
        })
    layout = base_layout(title, "steps ahead", f"RMSE ({report.target_name})", height=360,
                     uirevision=f"horizon-{report.part}")
    layout["yaxis"]["rangemode"] = "tozero"
    return {"data": traces, "layout": layout}


def _line(x: Any, y: np.ndarray, name: str, line: dict[str, Any]) -> dict[str, Any]:
    """A line trace without the rows where the method has no prediction (NaN)."""
    known = np.isfinite(y)
    # dates come as a list of strings, numbers as a float32 array
    x_known = np.asarray(x, dtype=object)[known].tolist() if isinstance(x, list) else x[known]
    return {"type": "scattergl" if len(y) > 5000 else "scatter", "mode": "lines", "name": name,
            "x": x_known, "y": as_f32(y[known]), "line": line}


def _horizon_label(report: ForecastReport, name: str) -> str:
    if name == SEASONAL_NAIVE:
        return f"{name} (same moment of the last known season of {report.period} steps)"
    return f"{name} (the last known point)"


def _baseline_label(report: ForecastReport, name: str) -> str:
    return f"{name} ({report.period} steps back)" if name == SEASONAL_NAIVE else f"{name} (previous point)"
