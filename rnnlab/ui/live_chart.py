"""A Plotly chart that stays mounted and updates in place, for charts redrawn on a timer.

Streamlit 1.67's st.plotly_chart hashes the figure into its element id, so every new frame unmounts
the chart and builds a new one (a blank flash, and a browser core burnt on a live run). This is a
custom component (v2): a keyed instance keeps its id, its JavaScript keeps one Plotly graph per
instance and calls Plotly.react on it. plotly.js itself comes once, through Streamlit's static serving
(`static/`): its basic build (committed) for charts of lines, bars and pies, the plotly wheel's full build
for any other chart; each update carries only the figure.

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
PLOTLY_BASIC_JS = "plotly-basic.min.js"  # committed in static/ (see its .gitignore)
FONT_FAMILY = '"Source Sans", sans-serif'  # Streamlit's own
_SENT = "_live_chart_sent"  # session_state: key -> version last sent with its figure

# One module for every instance (Streamlit loads it once); per instance state lives in `charts`,
# keyed by the instance's parentElement, which stays the same while the keyed instance is mounted.
_JS = r"""
const STATIC = new URL('app/static/', document.baseURI).href;
const CONFIG = {
  displaylogo: false,
  modeBarButtonsToRemove: ['select2d', 'lasso2d'],
};
const charts = new WeakMap();

// plotly.js comes in two builds: the basic one (scatter, bar and pie: the Train and Runs charts) starts in
// a seventh of the full one's time on the browser's main thread (0.2 s against 1.2-1.4 s in Chromium here,
// right when a newcomer clicks Train); the full one (heatmaps: Inside) only where a chart needs it.
const BASIC_TYPES = new Set(['scatter', 'bar', 'pie']);
const BUILDS = {basic: 'plotly-basic.min.js', full: 'plotly.min.js'};
const builds = {};  // build -> Promise(its Plotly)
let queue = Promise.resolve();  // one script at a time: each sets window.Plotly as it runs

function needs(figure) {
  return (figure.data || []).every((t) => BASIC_TYPES.has(t.type || 'scatter')) ? 'basic' : 'full';
}

function plotly(build) {
  if (build === 'basic' && builds.full) return builds.full;  // the full build draws these as well
  if (!builds[build]) {
    const src = STATIC + BUILDS[build];
    builds[build] = queue = queue.catch(() => null).then(() => new Promise((resolve, reject) => {
      const script = document.createElement('script');
      script.src = src;
      script.async = true;
      script.onload = () => resolve(window.Plotly);
      script.onerror = () => { delete builds[build]; reject(new Error('plotly.js did not load from ' + src)); };
      document.head.appendChild(script);
    }));
  }
  return builds[build];
}

// --- the fast path -------------------------------------------------------------------------------
// Plotly.react redraws everything (axes, ticks, legend, hover layers): 30-60 ms a frame in a browser
// without a GPU. While a fed chart's lines still fit its axes, a frame only moves the lines: it rewrites
// the SVG path of each line trace with plotly's own axis mapping (a fifth of the cost). While the
// pointer is over the chart, or a trace has markers, frames go through Plotly.animate instead (a third
// of the cost), which also renews the values hover reads. A full draw comes when the lines leave the
// axes or anything but the points changed. Axes the chart manages get headroom (MARGIN) in the
// direction the data grow, so a growing loss curve leaves them rarely. An axis the user zoomed or
// panned stays theirs until a double click gives it back.
const MARGIN = {grow: 0.4, pad: 0.08, logPad: 0.15, ahead: 2.0, cap: 3};
const DTYPES = {f8: Float64Array, f4: Float32Array, i4: Int32Array, u4: Uint32Array, i2: Int16Array,
                u2: Uint16Array, i1: Int8Array, u1: Uint8Array};

function decode(value) {  // plotly.js typed-array spec -> typed array (1-D; others are left to plotly.js)
  if (!value || typeof value.bdata !== 'string' || value.shape || !DTYPES[value.dtype]) return value;
  const bytes = Uint8Array.from(atob(value.bdata), (c) => c.charCodeAt(0));
  return new DTYPES[value.dtype](bytes.buffer);
}

function withArrays(figure) {
  const data = (figure.data || []).map((t) => ({...t, x: decode(t.x), y: decode(t.y)}));
  return {data, layout: figure.layout || {}, decoded: true};
}

// What forces a full draw: the layout and the traces' look (their points may move freely).
function signature(figure) {
  return JSON.stringify([figure.layout, figure.data.map((t) => ({...t, x: null, y: null}))]);
}

const axisName = (id) => id.charAt(0) + 'axis' + id.slice(1);  // 'x2' -> 'xaxis2'
const lines = (figure) => figure.data.length > 0 && figure.data.every((t) => !t.type || t.type === 'scatter');

// The data's extent on every axis the chart manages: numeric data, no range fixed by the figure.
function extents(figure) {
  const found = {};
  for (const trace of figure.data) {
    for (const letter of ['x', 'y']) {
      const name = axisName(trace[letter + 'axis'] || letter);
      const spec = figure.layout[name] || {};
      if (spec.range || spec.autorange === false) continue;
      const log = spec.type === 'log';
      const values = trace[letter] || [];
      let low = found[name] ? found[name].low : Infinity;
      let high = found[name] ? found[name].high : -Infinity;
      for (let i = 0; i < values.length; i++) {
        let v = values[i];
        if (typeof v !== 'number') return null;  // dates or categories: plotly.js ranges them itself
        if (log) { if (!(v > 0)) continue; v = Math.log10(v); }
        if (v < low) low = v;
        if (v > high) high = v;
      }
      found[name] = {low, high, log, letter};
    }
  }
  return found;
}

function headroom({low, high, log, letter}) {
  if (!(high >= low)) return null;
  const span = high - low || (log ? 1 : Math.abs(high) || 1);
  if (letter === 'x') return [low - MARGIN.pad * span, high + MARGIN.grow * span];  // steps grow rightwards
  const pad = log ? Math.max(MARGIN.logPad, MARGIN.pad * span) : MARGIN.pad * span;
  return [low - pad, high + pad];
}

// Headroom that lasts: the step axis also gets MARGIN.ahead seconds of its growth since the last full draw
// (at most MARGIN.cap spans), so a run's first seconds (steps 1 to 2,000) cost a few full draws instead of
// one per frame (each 60-140 ms of a core without a GPU). Values (a loss) move both ways: padding only.
function lasting(chart, found) {
  const now = performance.now();
  const before = chart.extents;
  chart.extents = {at: now, found};
  const ranges = {};
  for (const [name, e] of Object.entries(found)) {
    let range = headroom(e);
    const last = before && before.found[name];
    const seconds = last ? (now - before.at) / 1000 : 0;
    if (range && seconds > 0 && e.letter === 'x') {
      const growth = Math.max(0, e.high - last.high) * MARGIN.ahead / seconds;
      range = [range[0], Math.max(range[1], e.high + Math.min(growth, MARGIN.cap * (range[1] - range[0])))];
    }
    ranges[name] = range;
  }
  return ranges;
}

function fits(chart, found) {
  const full = chart.div._fullLayout;
  for (const [name, e] of Object.entries(found)) {
    if (chart.user[name] || !(e.high >= e.low)) continue;
    const range = full && full[name] && full[name].range;
    if (!range) return false;
    const [a, b] = range[0] <= range[1] ? range : [range[1], range[0]];
    if (e.low < a || e.high > b) return false;
  }
  return true;
}

// A full draw: the figure with managed axes given their headroom, user-set axes as the user left them.
function full(chart, figure, found) {
  const layout = {...figure.layout};
  const room = found ? lasting(chart, found) : {};
  for (const name of Object.keys(room)) {
    const now = chart.div._fullLayout && chart.div._fullLayout[name];
    const range = chart.user[name] && now ? now.range.slice() : room[name];
    if (range) layout[name] = {...(layout[name] || {}), range, autorange: false};
  }
  const config = {...CONFIG, toImageButtonOptions: {format: 'png', filename: chart.name, scale: 2}};
  return chart.P.react(chart.div, figure.data, layout, config);
}

// The SVG path of one line trace, as plotly draws it (gaps where a value cannot be drawn: connectgaps off).
function linePath(trace, xa, ya) {
  const parts = [];
  let pen = 'M';
  for (let i = 0; i < trace.x.length; i++) {
    const px = xa.c2p(trace.x[i]);
    const py = ya.c2p(trace.y[i]);
    if (!Number.isFinite(px) || !Number.isFinite(py)) { pen = 'M'; continue; }
    parts.push(pen + px.toFixed(2) + ',' + py.toFixed(2));
    pen = 'L';
  }
  return parts.join('');
}

// Move the lines in place; false when the drawn chart does not have the expected paths (draw it in full).
function moveLines(chart, figure) {
  const full = chart.div._fullLayout;
  const traces = chart.div.querySelectorAll('.scatterlayer .trace');
  if (traces.length !== figure.data.length) return false;
  const paths = [];
  for (let i = 0; i < figure.data.length; i++) {
    const trace = figure.data[i];
    const path = traces[i].querySelector('path.js-line');
    const xa = full[axisName(trace.xaxis || 'x')];
    const ya = full[axisName(trace.yaxis || 'y')];
    if (!path || !xa || !ya || !xa.c2p || !ya.c2p) return false;
    paths.push([path, linePath(trace, xa, ya)]);
  }
  for (const [path, d] of paths) path.setAttribute('d', d);
  return true;
}

function render(chart, figure) {
  // Headroom only while a feed grows the chart; a still chart (paused, finished) fits its data.
  const found = chart.grow && chart.live && lines(figure) ? extents(figure) : null;
  const sig = signature(figure);
  chart.last = figure;
  if (found && chart.signature === sig && chart.div._fullLayout && fits(chart, found)) {
    const onlyLines = figure.data.every((t) => (t.mode || 'lines') === 'lines');
    if (onlyLines && !chart.pointer && moveLines(chart, figure)) {
      chart.stale = true;  // hover would read the last Plotly-drawn values
      chart.fast += 1;
      chart.div.dataset.fast = chart.fast;
      return null;
    }
    if (!onlyLines || chart.pointer) {
      chart.stale = false;
      chart.fast += 1;
      chart.div.dataset.fast = chart.fast;
      const frame = {data: figure.data.map((t) => ({x: t.x, y: t.y})), traces: figure.data.map((_, i) => i)};
      return chart.P.animate(chart.div, frame, {transition: {duration: 0}, frame: {duration: 0, redraw: false}});
    }
  }
  chart.signature = found ? sig : null;
  chart.stale = false;
  return full(chart, figure, found);
}

// Track the user's zoom and pan per axis (plotly's relayout events name 'xaxis.range[0]', 'xaxis.autorange').
function trackZoom(chart) {
  chart.div.on('plotly_relayout', (event) => {
    for (const key of Object.keys(event || {})) {
      const match = /^([xy]axis\d*)\.(range|autorange)/.exec(key);
      if (match) chart.user[match[1]] = match[2] === 'range';
    }
    chart.div.dataset.userAxes = Object.keys(chart.user).filter((name) => chart.user[name]).join(' ');
  });
}

// A chart's first lines wait for the browser's next paint, so the frame's metrics (a run's first Step)
// show before that full draw (60-140 ms of the main thread held them back by as much). Later draws go at
// once: one paint per frame, not two.
function afterPaint(chart) {
  if (chart.last && chart.last.data.some((t) => t.y && t.y.length)) return Promise.resolve();
  return new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
}

// Draw the newest figure; figures that arrive while one is drawn replace each other (latest wins).
function draw(chart) {
  if (chart.busy || !chart.pending) return;
  chart.busy = true;
  let figure = null;
  const build = needs(chart.pending);
  Promise.all([afterPaint(chart), plotly(build)])
    .then(([, P]) => {
      if (build === 'basic' && needs(chart.pending) === 'full') return;  // a newer figure needs more: again
      figure = chart.pending;  // the newest by now
      chart.pending = null;
      if (chart.P && chart.P !== P) { chart.P.purge(chart.div); chart.signature = null; }  // another build's
      chart.P = P;
      const first = !chart.div._fullLayout;
      return Promise.resolve(render(chart, figure.decoded ? figure : withArrays(figure)))
        .then(() => { if (first) trackZoom(chart); });
    })
    .catch((error) => { chart.div.textContent = String(error); })
    .finally(() => {
      chart.busy = false;
      if (figure) { chart.draws += 1; chart.div.dataset.draws = chart.draws; }
      draw(chart);
    });
}

// --- the live feed (rnnlab/ui/feed.py): one EventSource per view, shared by its charts and metrics ---
const feeds = new Map();  // url -> {source, listeners: Map(parentElement -> function(frame | TURNED | null))}
const TURNED = {turned: true};

function subscribe(url, owner, listener) {
  let feed = feeds.get(url);
  if (!feed) {
    const source = new EventSource(new URL(url, document.baseURI).href);
    feed = {source, listeners: new Map()};
    const tell = (frame) => { for (const listen of Array.from(feed.listeners.values())) listen(frame); };
    source.onmessage = (event) => {
      let frame = null;
      try { frame = JSON.parse(event.data); } catch (error) { return; }  // a malformed frame: wait for the next
      tell(frame);
    };
    // 'turned': the run started or stopped computing; the stream stays open for the session's next run.
    source.addEventListener('turned', () => tell(TURNED));
    // 'end' (or a refused stream: the view is gone): null tells the listeners the feed is closed.
    const gone = () => { close(url, feed); tell(null); };
    source.addEventListener('end', gone);
    source.onerror = () => { if (source.readyState === EventSource.CLOSED) gone(); };
    feeds.set(url, feed);
  }
  feed.listeners.set(owner, listener);
}

function close(url, feed) {
  feed.source.close();
  if (feeds.get(url) === feed) feeds.delete(url);
}

function unsubscribe(url, owner) {
  const feed = url && feeds.get(url);
  if (!feed) return;
  feed.listeners.delete(owner);
  if (!feed.listeners.size) close(url, feed);
}

// Follow `state.feed` to the address the page gave (null: none).
function follow(state, owner, url, listener) {
  if (state.feed === url) return;
  unsubscribe(state.feed, owner);
  state.feed = url;
  if (url) subscribe(url, owner, listener);
}

// --- metrics: the run's numbers in one row, updated in place from the page or the feed --------------------
const boards = new WeakMap();

// Rows stamped [run, step] older than the shown ones of the same run are stale (see live_metrics).
function newer(board, stamp) {
  const shown = board.stamp;
  if (Array.isArray(stamp) && Array.isArray(shown) && stamp[0] === shown[0] && stamp[1] < shown[1]) return false;
  board.stamp = Array.isArray(stamp) ? stamp : null;
  return true;
}

function showMetrics(board, rows) {
  if (!Array.isArray(rows)) return;
  const labels = rows.map((r) => r.label).join('|');
  if (board.labels !== labels) {  // new labels: build the row once
    board.labels = labels;
    board.div.replaceChildren(...rows.map((row) => {
      const box = document.createElement('div');
      box.className = 'rnnlab-metric';
      box.dataset.label = row.label;
      box.innerHTML = '<div class="rnnlab-metric-label"></div><div class="rnnlab-metric-value"></div>'
        + '<div class="rnnlab-metric-note"></div>';
      return box;
    }));
  }
  rows.forEach((row, i) => {  // then only their texts change
    const [label, value, note] = board.div.children[i].children;
    if (label.textContent !== row.label) label.textContent = row.label;
    label.title = row.help || '';
    label.classList.toggle('rnnlab-has-help', !!row.help);
    if (value.textContent !== row.value) value.textContent = row.value;
    if (note.textContent !== (row.note || '')) note.textContent = row.note || '';
    note.style.display = row.note ? '' : 'none';  // as st.metric's delta: no empty line under the value
  });
}

function metrics(component) {
  const {parentElement, data, setTriggerValue} = component;
  let board = boards.get(parentElement);
  if (!board) {
    const div = document.createElement('div');
    div.className = 'rnnlab-metrics';
    parentElement.appendChild(div);
    board = {div, labels: null, feed: null, version: null};
    boards.set(parentElement, board);
  }
  board.trigger = setTriggerValue;
  if (data.version !== board.version) {
    board.version = data.version;
    if (newer(board, data.stamp)) showMetrics(board, data.metrics);
  }
  follow(board, parentElement, data.feed || null, (frame) => {
    if (frame === null) { board.feed = null; return; }
    if (frame === TURNED) {  // the run started or stopped: the page reruns once (buttons, status, verdict)
      if (board.trigger) board.trigger('turned', Date.now());
      return;
    }
    if (frame.metrics && newer(board, frame.stamp)) showMetrics(board, frame.metrics);
  });
  return () => {
    if (parentElement.isConnected) return;
    unsubscribe(board.feed, parentElement);
    boards.delete(parentElement);
  };
}

function offer(chart, name, version, figure) {  // a figure from the page or the feed; the newest version wins
  if (!figure || version === chart.version) return;
  chart.version = version;
  chart.name = name || 'chart';
  chart.div.dataset.version = version;
  const height = figure.layout && figure.layout.height;
  if (height) {  // the place is kept before plotly.js arrives
    chart.div.style.height = height + 'px';
    chart.div.classList.add('rnnlab-sized');
  }
  chart.pending = figure;
  draw(chart);
}

export default function (component) {
  const {parentElement, data} = component;
  if (data && data.kind === 'metrics') return metrics(component);
  let chart = charts.get(parentElement);
  if (!chart) {
    const div = document.createElement('div');
    div.className = 'rnnlab-live-chart';
    parentElement.appendChild(div);
    chart = {div, version: null, pending: null, busy: false, draws: 0, fast: 0, name: 'chart', user: {},
             signature: null, feed: null, pointer: false, stale: false, live: false};
    // Hover reads plotly's own copy of the values: over the chart, the next frame renews it (and any
    // frame that comes while the pointer stays); the lines alone are moved only while no one looks closely.
    div.addEventListener('pointerenter', () => {
      chart.pointer = true;
      if (chart.stale && chart.last && !chart.pending) { chart.pending = chart.last; draw(chart); }
    });
    div.addEventListener('pointerleave', () => { chart.pointer = false; });
    // Plotly sizes itself once; follow the column's width (tabs, sidebar, window) from here on.
    chart.resize = new ResizeObserver(() => {
      if (chart.P && chart.div.data) chart.P.Plots.resize(chart.div);
    });
    chart.resize.observe(parentElement);
    charts.set(parentElement, chart);
  }
  if (data) {
    offer(chart, data.name, data.version, data.figure);
    chart.grow = !!data.grow;
    if (data.figure && data.version !== chart.version) chart.live = !!data.live;
    follow(chart, parentElement, data.feed || null, (frame) => {
      if (frame === null) { chart.feed = null; return; }
      if (frame === TURNED) return;
      const wasLive = chart.live;
      chart.live = !!frame.active;
      const mine = frame.charts && frame.charts[chart.name];
      if (mine && mine.version !== chart.version) offer(chart, chart.name, mine.version, mine.figure);
      else if (wasLive && !chart.live && chart.grow && chart.last && !chart.pending) {
        chart.pending = chart.last;  // the run stopped: its last figure again, fitted to its data (no headroom)
        draw(chart);
      }
    });
  }
  // Streamlit also calls this for an update that a newer one overtook: the chart is still on the page then.
  return () => {
    if (parentElement.isConnected) return;
    unsubscribe(chart.feed, parentElement);
    chart.resize.disconnect();
    if (chart.P) chart.P.purge(chart.div);
    charts.delete(parentElement);
  };
}
"""

# The metrics look like st.metric (its sizes and the grey pill of a delta shown without colour).
_CSS = """
/* A chart of known height lays itself out alone (size containment): the forced layouts of a full Plotly draw
   (tick labels measured) then cost a third less than with the page's layout in the way (measured in Chromium). */
.rnnlab-live-chart {contain: content;}
.rnnlab-live-chart.rnnlab-sized {contain: strict;}
.rnnlab-metrics {contain: content; display: flex; flex-wrap: wrap; gap: 1rem; font-family: "Source Sans", sans-serif;}
.rnnlab-metric {width: 175px;}
.rnnlab-metric-label {font-size: 0.875rem; line-height: 1.6; min-height: 1.4rem;}
.rnnlab-metric-label.rnnlab-has-help {text-decoration: underline dotted rgba(49, 51, 63, 0.4); cursor: help;}
.rnnlab-metric-value {font-size: 2.25rem; line-height: 1.2; white-space: nowrap; padding-bottom: 0.25rem;}
.rnnlab-metric-note {display: inline-block; font-size: 0.875rem; padding: 0 0.4rem; border-radius: 0.5rem;
                     background: rgba(128, 128, 128, 0.1); color: rgba(49, 51, 63, 0.6);}
"""

_component = st.components.v2.component("rnnlab_live_chart", js=_JS, css=_CSS, isolate_styles=False)


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


def live_chart(figure: Figure | Callable[[], Figure], *, key: str, version: Hashable = None,
               feed: str | None = None, grow: bool = False, live: bool = False) -> None:
    """Draw `figure` (a dict, or a function that builds it) in a chart that updates in place.

    version: anything that changes when the figure would; None means always send. Within a
    fragment's timed rerun an unchanged version sends no figure and skips building it.
    feed: a live feed's address (rnnlab.ui.feed.url): the chart draws that feed's frames for `key`
    (chart_frame) until the feed ends.
    grow: the figure's lines grow to the right while its run computes (a loss curve): the chart gives
    its axes headroom and redraws only the lines while they fit, a fifth of the cost of a full redraw.
    live: the run computes now (the feed's frames say so themselves)."""
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
    _component(key=key, data={**data, "feed": feed, "grow": grow, "live": live})


def chart_frame(figure: Figure | Callable[[], Figure], key: str, version: Hashable, sent: dict) -> dict | None:
    """For a feed frame: the chart's payload, or None when this stream has sent `version` already (then
    the figure is not built). The version token is live_chart's, so a chart never draws a figure twice."""
    token = repr(version)
    if sent.get(key) == token:
        return None
    sent[key] = token
    return payload(figure() if callable(figure) else figure, key, token)


def live_metrics(rows: list[dict[str, str]], *, key: str, feed: str | None = None,
                 on_turned: Callable[[], None] | None = None, stamp: tuple[str, int] | None = None) -> None:
    """A row of metrics (label, value, and optional help and note: st.metric's help and grey delta) that
    update in place, from the page or from a live feed's frames ("metrics"). When the feed says `turned`
    (its run started or stopped computing) the browser reruns the page, so its buttons and verdict follow.

    stamp: (run, step) of the rows. Rows of the same run at an earlier step than those shown are not shown:
    a page rerun for a Train click arrives after the feed's first steps and would set Step back to 0."""
    _component(key=key, data={"kind": "metrics", "version": repr(rows), "metrics": rows, "feed": feed,
                              "stamp": stamp}, on_turned_change=on_turned or (lambda: None))
