"""A Plotly chart that stays mounted and updates in place, for charts redrawn on a timer.

Streamlit 1.67's st.plotly_chart hashes the figure into its element id, so every new frame unmounts
the chart and builds a new one (a blank flash, and a browser core burnt on a live run). This is a
custom component (v2): a keyed instance keeps its id, its JavaScript keeps one Plotly graph per
instance and calls Plotly.react on it. plotly.js itself comes once, from the plotly wheel, through
Streamlit's static serving (`static/`); each update carries only the figure.

A frame costs what changed: the caller names a version (the run's RunView.version, say); when a
timed rerun finds the version it already sent, the figure is not built and only the version goes
out, which the browser ignores. A full page run always sends the figure (the chart may be new)."""

from __future__ import annotations

import base64
import importlib.util
import shutil
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import Any

import numpy as np
import streamlit as st

from rnnlab.figures.charts import Figure

ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "static"  # Streamlit serves <app dir>/static/ at app/static/ (server.enableStaticServing)
PLOTLY_JS = "plotly.min.js"
FONT_FAMILY = '"Source Sans", sans-serif'  # Streamlit's own
_SENT = "_live_chart_sent"  # session_state: key -> version last sent with its figure

# One module for every instance (Streamlit loads it once); per instance state lives in `charts`,
# keyed by the instance's parentElement, which stays the same while the keyed instance is mounted.
_JS = """
const SRC = new URL('app/static/plotly.min.js', document.baseURI).href;
const CONFIG = {
  displaylogo: false,
  modeBarButtonsToRemove: ['select2d', 'lasso2d'],
};
const charts = new WeakMap();
let loading = null;

function plotly() {
  if (window.Plotly) return Promise.resolve(window.Plotly);
  if (!loading) {
    loading = new Promise((resolve, reject) => {
      const script = document.createElement('script');
      script.src = SRC;
      script.async = true;
      script.onload = () => resolve(window.Plotly);
      script.onerror = () => { loading = null; reject(new Error('plotly.js did not load from ' + SRC)); };
      document.head.appendChild(script);
    });
  }
  return loading;
}

// Draw the newest figure; figures that arrive while one is drawn replace each other (latest wins).
function draw(chart) {
  if (chart.busy || !chart.pending) return;
  const figure = chart.pending;
  chart.pending = null;
  chart.busy = true;
  plotly()
    .then((Plotly) => {
      const config = {...CONFIG, toImageButtonOptions: {format: 'png', filename: chart.name, scale: 2}};
      return Plotly.react(chart.div, figure.data, figure.layout, config);
    })
    .catch((error) => { chart.div.textContent = String(error); })
    .finally(() => { chart.busy = false; chart.draws += 1; chart.div.dataset.draws = chart.draws; draw(chart); });
}

export default function (component) {
  const {parentElement, data} = component;
  let chart = charts.get(parentElement);
  if (!chart) {
    const div = document.createElement('div');
    div.className = 'rnnlab-live-chart';
    parentElement.appendChild(div);
    chart = {div, version: null, pending: null, busy: false, draws: 0, name: 'chart'};
    // Plotly sizes itself once; follow the column's width (tabs, sidebar, window) from here on.
    chart.resize = new ResizeObserver(() => {
      if (window.Plotly && chart.div.data) window.Plotly.Plots.resize(chart.div);
    });
    chart.resize.observe(parentElement);
    charts.set(parentElement, chart);
  }
  if (data && data.figure && data.version !== chart.version) {
    chart.version = data.version;
    chart.name = data.name || 'chart';
    chart.div.dataset.version = data.version;
    const height = data.figure.layout && data.figure.layout.height;
    if (height) chart.div.style.minHeight = height + 'px';  // the place is kept before plotly.js arrives
    chart.pending = data.figure;
    draw(chart);
  }
  // Streamlit also calls this for an update that a newer one overtook: the chart is still on the page then.
  return () => {
    if (parentElement.isConnected) return;
    chart.resize.disconnect();
    if (window.Plotly) window.Plotly.purge(chart.div);
    charts.delete(parentElement);
  };
}
"""

_component = st.components.v2.component("rnnlab_live_chart", js=_JS, isolate_styles=False)


def ensure_plotly_js() -> Path:
    """Copy plotly.js from the installed plotly wheel into static/ (same version as the Python package).

    A copy at start-up rather than a committed 4.8 MB file: a fresh clone gets the plotly.js that
    matches its pinned plotly, and an upgrade of plotly replaces it (the size differs). A copy, not a
    symlink: Streamlit's static serving refuses paths that resolve outside static/."""
    spec = importlib.util.find_spec("plotly")  # no import of plotly itself: that costs a second
    source = Path(next(iter(spec.submodule_search_locations))) / "package_data" / PLOTLY_JS
    target = STATIC / PLOTLY_JS
    if not target.exists() or target.stat().st_size != source.stat().st_size:
        STATIC.mkdir(exist_ok=True)
        partial = target.with_suffix(".partial")
        shutil.copyfile(source, partial)
        partial.replace(target)  # atomic: a browser never gets half a file
    return target


_DTYPES = {"float64": "f8", "float32": "f4", "int32": "i4", "uint32": "u4", "int16": "i2", "uint16": "u2",
           "int8": "i1", "uint8": "u1"}


def encode(value: Any) -> Any:
    """The figure as JSON-ready data: numpy arrays become plotly.js typed arrays (base64), a third of the
    bytes of a list of decimals and no float formatting on the hot path."""
    if isinstance(value, np.ndarray):
        array = value
        if array.dtype.name not in _DTYPES:
            array = array.astype(np.float64 if array.dtype.kind in "fiub" else object)
            if array.dtype == object:
                return array.tolist()
        array = np.ascontiguousarray(array)
        spec = {"dtype": _DTYPES[array.dtype.name], "bdata": base64.b64encode(array.tobytes()).decode("ascii")}
        if array.ndim > 1:
            spec["shape"] = ",".join(map(str, array.shape))
        return spec
    if isinstance(value, dict):
        return {k: encode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [encode(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def payload(figure: Figure | None, key: str, version: str) -> dict[str, Any]:
    """What the browser receives: the figure (or None: keep what is drawn) and its version."""
    if figure is None:
        return {"name": key, "version": version, "figure": None}
    # A constant uirevision: Plotly.react keeps the user's zoom, pan and legend clicks across updates.
    layout = {"uirevision": key, "paper_bgcolor": "rgba(0,0,0,0)", "plot_bgcolor": "rgba(0,0,0,0)",
              **figure.get("layout", {})}
    # The app's font, as st.plotly_chart's theme sets it for the other charts.
    layout["font"] = {"family": FONT_FAMILY, **layout.get("font", {})}
    return {"name": key, "version": version, "figure": encode({**figure, "layout": layout})}


def _timed_rerun() -> bool:
    """True in a fragment's own rerun (its clock): the page around it, this chart included, stays mounted."""
    from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

    ctx = get_script_run_ctx()
    return bool(ctx is not None and ctx.fragment_ids_this_run)


def live_chart(figure: Figure | Callable[[], Figure], *, key: str, version: Hashable = None) -> None:
    """Draw `figure` (a dict, or a function that builds it) in a chart that updates in place.

    version: anything that changes when the figure would; None means always send. Within a
    fragment's timed rerun an unchanged version sends no figure and skips building it."""
    token = repr(version) if version is not None else None
    sent = st.session_state.setdefault(_SENT, {})
    if token is not None and sent.get(key) == token and _timed_rerun():
        data = payload(None, key, token)
    else:
        built = figure() if callable(figure) else figure
        if token is None:
            token = str(sent.get(key + "#n", 0) + 1)
            sent[key + "#n"] = int(token)
        data = payload(built, key, token)
        sent[key] = token
    _component(key=key, data=data)
