"""Browser instruments shared by the browser benchmarks: what one page saw, timed in the page.

`install(page)` adds a MutationObserver to the page that looks, at the animation frame after each change,
and records with performance.now() timestamps:
- every change of the Step metric's value (steps/s, gaps between updates, pause latency);
- every change of the loss chart's and the window chart's drawn trace (a rendered redraw,
  whatever the framework does underneath: remount or in-place update);
- clicks on the Train / Pause / Resume buttons (capture-phase listener, so the click's own time).
- the live feed's frames (server-sent events): time and bytes of each;
`watch_socket(page)` counts websocket frames and bytes, and the frames that carry a loss-chart
spec (those containing the loss figure's `uirevision`), from Python.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field

INSTRUMENT = r"""
() => {
  if (window.__rb) return;
  const rb = window.__rb = {steps: [], loss: [], window: [], clicks: [], feed: [], errors: 0, firstLossAt: null};
  // Cheap on every animation frame (its own cost shows in the browser's CPU): the watched nodes are looked
  // up again only when they left the page, and each line's path is compared as it is, not joined.
  const found = {};
  const nodes = (name, selector) => {
    const known = found[name];
    if (known && known.length && known.every((n) => n.isConnected)) return known;
    return (found[name] = Array.from(document.querySelectorAll(selector)));
  };
  const stepText = () => {
    const [live] = nodes('step', '.rnnlab-metric[data-label="Step"] .rnnlab-metric-value');
    return live ? live.textContent.trim() : (METRIC)('Step');
  };
  const lastPaths = {loss: [], window: []};
  const redrawn = (name, sel) => {
    // The drawn lines of a chart: any redraw with new data changes them; an empty chart is no chart.
    const paths = nodes(name, sel + ' .js-plotly-plot .scatterlayer path.js-line');
    const now = paths.map((p) => p.getAttribute('d') || '');
    if (!now.some((d) => d.length)) return false;
    const before = lastPaths[name];
    lastPaths[name] = now;
    return now.length !== before.length || now.some((d, i) => d !== before[i]);
  };
  let lastStep = null;
  const look = () => {
    const now = performance.now();
    const s = stepText();
    if (s !== null && s !== lastStep) {
      lastStep = s;
      rb.steps.push([now, parseInt(s.replace(/[^0-9]/g, ''), 10) || 0]);
    }
    if (redrawn('loss', '.st-key-loss_chart')) {
      if (rb.firstLossAt === null) rb.firstLossAt = now;
      rb.loss.push(now);
    }
    if (redrawn('window', '.st-key-window_chart')) rb.window.push(now);
  };
  // A look at the next animation frame after any change of the page (not on every frame: an idle page
  // costs the instrument nothing, and the browser's CPU is what is measured). A change shows in the
  // frame painted right after that look.
  let queued = false;
  new MutationObserver(() => {
    if (queued) return;
    queued = true;
    requestAnimationFrame(() => { queued = false; look(); });
  }).observe(document.body, {subtree: true, childList: true, characterData: true, attributes: true,
                             attributeFilter: ['d', 'disabled', 'class']});
  look();
  rb.feed = window.__rbFeed || [];  // watch_feed(page), before the page loaded
  document.addEventListener('click', (e) => {
    const b = e.target.closest('[class*="st-key-btn_"]');
    if (b) {
      const key = Array.from(b.classList).find(c => c.startsWith('st-key-btn_')).slice(11);
      rb.clicks.push([performance.now(), key]);
    }
  }, true);
}
"""

ERRORS = r"""
() => {
  const exceptions = document.querySelectorAll('[data-testid="stException"]').length;
  let errors = 0;
  for (const a of document.querySelectorAll('[data-testid="stAlert"]')) {
    if (a.querySelector('[data-testid="stAlertContentError"]')) errors++;
  }
  const status = document.querySelector('[data-testid="stStatusWidget"]');
  const text = status ? status.innerText : '';
  return {exceptions, errors, disconnected: /connect|offline|error/i.test(text) && !/running/i.test(text)};
}
"""

LOSS_SPEC = re.compile(rb'uirevision\\?"\s*:\s*\\?"loss')


@dataclass
class Socket:
    """Websocket traffic one page received."""

    frames: list[tuple[float, int, bool]] = field(default_factory=list)  # (monotonic, bytes, carries loss chart)
    closed: int = 0

    def window(self, start: float, end: float) -> tuple[int, int, int, int]:
        """(frames, bytes, loss-chart frames, loss-chart bytes) between two monotonic times."""
        inside = [f for f in self.frames if start <= f[0] <= end]
        charts = [f for f in inside if f[2]]
        return len(inside), sum(f[1] for f in inside), len(charts), sum(f[1] for f in charts)


def watch_socket(page) -> Socket:
    socket = Socket()

    def on_frame(payload) -> None:
        data = payload if isinstance(payload, bytes) else payload.encode()
        socket.frames.append((time.monotonic(), len(data), bool(LOSS_SPEC.search(data))))

    def on_socket(ws) -> None:
        ws.on("framereceived", on_frame)
        ws.on("close", lambda _ws: setattr(socket, "closed", socket.closed + 1))

    page.on("websocket", on_socket)
    return socket


# The live feed's frames (rnnlab/ui/feed.py: server-sent events), time and size of each: the page opens its
# feed as it loads, so this goes in before any page script (page.add_init_script).
FEED_SPY = r"""
(() => {
  const frames = window.__rbFeed = [];
  const Source = window.EventSource;
  window.EventSource = function (url, options) {
    const source = new Source(url, options);
    source.addEventListener('message', (e) => frames.push([performance.now(), e.data.length]));
    return source;
  };
  window.EventSource.prototype = Source.prototype;
  Object.assign(window.EventSource, {CONNECTING: 0, OPEN: 1, CLOSED: 2});
})()
"""


def watch_feed(page) -> None:
    """Count the live feed's frames in `page` from its next load on (call before page.goto)."""
    page.add_init_script(FEED_SPY)


def install(page) -> None:
    from browser_support import METRIC_JS

    page.evaluate(INSTRUMENT.replace("(METRIC)", f"({METRIC_JS})"))


def now(page) -> float:
    """The page's performance.now(), in ms."""
    return page.evaluate("performance.now()")


def record(page) -> dict:
    return page.evaluate("JSON.parse(JSON.stringify(window.__rb))")


def errors(page) -> dict:
    return page.evaluate(ERRORS)


def click(page, key: str) -> None:
    """Click a keyed button from inside the page: no actionability waits, so several pages can click at once."""
    page.evaluate(f"document.querySelector('.st-key-{key} button').click()")


def step_rate(steps: list[list[float]], start: float, end: float) -> tuple[float, float, int]:
    """(steps/s, largest gap in s between Step updates, updates) over [start, end] page ms.

    The rate is what the page showed: the value displayed at `end` minus the value displayed at
    `start`, over the window, so a metric that updates rarely but in big jumps is not flattered."""
    shown_at = lambda t: next((s[1] for s in reversed(steps) if s[0] <= t), None)  # noqa: E731
    inside = [s for s in steps if start <= s[0] <= end]
    first, last = shown_at(start), shown_at(end)
    if first is None and inside:
        first, start = inside[0][1], inside[0][0]  # nothing shown yet when the window opened
    if first is None or last is None or end <= start:
        return float("nan"), float("nan"), len(inside)
    times = [start] + [s[0] for s in inside] + [end]
    gap = max(b - a for a, b in zip(times, times[1:], strict=False)) / 1000
    return (last - first) / ((end - start) / 1000), gap, len(inside)


def count_in(times: list[float], start: float, end: float) -> int:
    return sum(1 for t in times if start <= t <= end)


def last_change_after(steps: list[list[float]], clicked: float, settle_ms: float) -> tuple[float, int]:
    """Pause latency: ms from a click to the Step metric's last change within settle_ms after it, and
    the steps taken in that time (0, 0 when the metric did not change after the click)."""
    before = [s for s in steps if s[0] <= clicked]
    after = [s for s in steps if clicked < s[0] <= clicked + settle_ms]
    if not after:
        return 0.0, 0
    return after[-1][0] - clicked, after[-1][1] - (before[-1][1] if before else 0)
