"""Start `streamlit run app.py` headless on a free port and drive it with Debian's Chromium."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-dev-shm-usage",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]


def require_browser() -> None:
    """Skip where no Chromium is installed, unless CI says the browser tests must run."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("RNNLAB_REQUIRE_BROWSER"):
            pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium)")
        pytest.skip(f"{CHROMIUM} is not installed")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def streamlit_server(extra_env: dict[str, str] | None = None, timeout: float = 60.0, script: str = "app.py",
                     port: int | None = None):
    """Yields the base URL of a fresh server running `script` (from the repository root) on `port` (a free one
    by default; the same port again restarts "the same" server for the browser); stops it afterwards."""
    port = port or free_port()
    log = (ARTIFACTS / f"server-{port}.log")
    ARTIFACTS.mkdir(exist_ok=True)
    env = {**os.environ, **(extra_env or {})}
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", script, "--server.port", str(port),
             "--server.address", "127.0.0.1", "--server.headless", "true"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + timeout
            while True:
                try:
                    with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as response:
                        if response.read().decode().strip() == "ok":
                            break
                except OSError:
                    pass
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"streamlit did not start; see {log}")
                time.sleep(0.1)
            yield url
        finally:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()


def launch_chromium(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)


def wait_for_app(page, timeout: float = 30_000) -> None:
    """The app has drawn its main block and is no longer running its script."""
    page.wait_for_selector('[data-testid="stMainBlockContainer"]', timeout=timeout)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
        " || !document.querySelector('[data-testid=\"stStatusWidget\"]').innerText.includes('Running')",
        timeout=timeout,
    )


# A metric's shown value by its label: the Train page's live metrics (rnnlab.ui.live_chart.live_metrics) or an
# st.metric. textContent, not innerText: no layout forced (the bench reads it on every animation frame).
METRIC_JS = """(label) => {
  const live = document.querySelector(`.rnnlab-metric[data-label="${label}"] .rnnlab-metric-value`);
  if (live) return live.textContent.trim();
  for (const m of document.querySelectorAll('[data-testid="stMetric"]')) {
    const l = m.querySelector('[data-testid="stMetricLabel"]');
    if (l && l.textContent.trim() === label) return m.querySelector('[data-testid="stMetricValue"]').textContent.trim();
  }
  return null;
}"""


def metric_value(page, label: str) -> str:
    """The text of the metric whose label is exactly `label` (METRIC_JS)."""
    return page.evaluate(METRIC_JS, label)


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@contextmanager
def explained_failure(page, url: str, name: str):
    """On a failure inside the block: a full-page screenshot, what the page and its sidebar say, and the end of
    the server's log, so a failure in CI says what the user would have seen."""
    try:
        yield
    except Exception:
        screenshot(page, f"{name}-failed")
        for part in ("stMain", "stSidebar"):
            area = page.locator(f'[data-testid="{part}"]')
            print(f"--- {part}:", area.inner_text()[:3000] if area.count() else "(none)")
        print("--- server log:", server_log(url)[-3000:])
        raise


def watch_script_runs(page) -> list[bool]:
    """From the page's next websocket on, one entry per script run the server finishes for it: True for a run of
    the whole page, False for a fragment's (decoded from Streamlit's ForwardMsg). Call before page.goto."""
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    runs: list[bool] = []

    def on_frame(payload) -> None:
        if isinstance(payload, (bytes, bytearray)):
            msg = ForwardMsg()
            msg.ParseFromString(bytes(payload))
            if msg.WhichOneof("type") == "script_finished":
                runs.append(msg.script_finished == ForwardMsg.FINISHED_SUCCESSFULLY)

    page.on("websocket", lambda socket: socket.on("framereceived", on_frame))
    return runs


def server_log(url: str) -> str:
    """What the server started by streamlit_server(url) has printed so far."""
    port = url.rsplit(":", 1)[-1]
    return (ARTIFACTS / f"server-{port}.log").read_text(errors="replace")


def wait_for_warm_up(url: str, timeout: float = 60.0) -> None:
    """Wait until the server's start-up warm-up (rnnlab.ui.boot) is done: a warm server's figures must not
    include its one-time imports."""
    from rnnlab.ui.boot import WARM_UP_DONE

    end = time.monotonic() + timeout
    while WARM_UP_DONE not in server_log(url):
        if time.monotonic() > end:
            raise TimeoutError(f"the server did not finish its warm-up in {timeout:.0f} s")
        time.sleep(0.1)


# --- live charts (rnnlab/ui/live_chart.py): shared with bench/browser.py -------------------------------
MARK = """(keys) => keys.forEach((k) => {
  const node = document.querySelector(`.st-key-${k} .js-plotly-plot`);
  if (node) node.__rbMark = k;
})"""

MARKED = """(keys) => keys.every((k) => document.querySelector(`.st-key-${k} .js-plotly-plot`)?.__rbMark === k)"""

BLANK = """async ([keys, samples, ms]) => {
  let blank = 0;
  for (let i = 0; i < samples; i++) {
    const drawn = keys.every((k) => Array.from(
      document.querySelectorAll(`.st-key-${k} .js-plotly-plot .scatterlayer path.js-line`))
      .some((p) => (p.getAttribute('d') || '').length > 0));
    if (!drawn) blank++;
    await new Promise((resolve) => setTimeout(resolve, ms));
  }
  return blank;
}"""


def mark_charts(page, keys) -> None:
    """Tag each chart's Plotly node, to find out later whether it is still the same node."""
    page.evaluate(MARK, list(keys))


def charts_marked(page, keys) -> bool:
    return page.evaluate(MARKED, list(keys))


def blank_samples(page, keys, samples: int = 100, ms: int = 50) -> int:
    """Of `samples` looks `ms` apart, how many found a chart without a drawn line (a remount shows none)."""
    return page.evaluate(BLANK, [list(keys), samples, ms])
