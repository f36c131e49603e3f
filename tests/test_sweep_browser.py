"""The Sweep page in Chromium (issue 13): a small sweep started from the page fills the trials table and
the parallel coordinates as its trials finish. The server keeps its runs in a temporary RNNLAB_HOME."""

from __future__ import annotations

import pytest
from browser_support import explained_failure, screenshot, streamlit_server, wait_for_app

pytestmark = pytest.mark.slow
# The sidebar's (fixed) settings: a tiny network on a short sine, so that each trial lasts a moment.
SMALL = "data=sine&length=300&seq_len=10&batch=8&hidden=8&eval_every=10&steps=60"
# Trial numbers and states as the trials table holds them (the grid's accessible cells).
TABLE = """() => {
  const rows = Array.from(document.querySelectorAll('[data-testid="stDataFrame"] table[role="grid"] tbody tr'));
  return rows.map((r) => Array.from(r.querySelectorAll('td')).map((c) => c.textContent.trim()));
}"""
# The parallel coordinates' lines: one per complete trial, as Plotly holds them.
PARALLEL = """() => {
  const plot = document.querySelector('.st-key-sweep_parallel .js-plotly-plot');
  const trace = plot && plot.data && plot.data[0];
  return trace && trace.type === 'parcoords' ? trace.dimensions[0].values.length : 0;
}"""
TRIALS = 3
FINAL = '["complete", "pruned", "failed"]'  # a trial's states once it is over, as the table shows them


def test_a_small_sweep_fills_the_table_and_the_parallel_coordinates(chromium, tmp_path):
    page = chromium.new_context(viewport={"width": 1280, "height": 720}).new_page()
    with streamlit_server({"RNNLAB_HOME": str(tmp_path)}) as url, explained_failure(page, url, "sweep-page"):
        try:
            page.goto(f"{url}/sweep?{SMALL}")
            wait_for_app(page)
            trials = page.get_by_label("Trials", exact=True)
            trials.fill(str(TRIALS))
            trials.press("Enter")
            wait_for_app(page)
            page.get_by_role("button", name="Start sweep").click()
            page.wait_for_function(
                "(n) => document.body.innerText.includes(`${n} of ${n} trials done`)"
                " && document.body.innerText.includes('the sweep has ended')", arg=TRIALS, timeout=180_000)
            wait_for_app(page)
            # The grid and the live charts follow the page's last run a moment after its caption: wait until
            # every trial shows a final state and the parallel coordinates have a line per complete one.
            page.wait_for_function(f"""() => {{
              const rows = ({TABLE})();
              const final = rows.filter((r) => r.some((c) => {FINAL}.includes(c)));
              const complete = rows.filter((r) => r.includes('complete')).length;
              return final.length === {TRIALS} && complete > 0 && ({PARALLEL})() === complete;
            }}""", timeout=60_000)
            rows = page.evaluate(TABLE)
            complete = page.evaluate(PARALLEL)
            page.set_viewport_size({"width": 1280, "height": 2600})  # the page scrolls inside: show all of it
            page.wait_for_timeout(1000)
            screenshot(page, "sweep-page")
            assert len(rows) == TRIALS, rows
            assert [row[0] for row in rows] == ["0", "1", "2"]
            states = [cell for row in rows for cell in row if cell in ("complete", "pruned", "failed")]
            assert len(states) == TRIALS and states.count("complete") == complete >= 1
            assert page.get_by_role("button", name="Open the best in Train").is_visible()
            assert page.get_by_role("button", name="Start sweep").is_enabled()
        except Exception:  # explained_failure takes the screenshot and prints the page and the log
            page.set_viewport_size({"width": 1280, "height": 2600})  # the table and charts too
            print("trials table:", page.evaluate(TABLE))
            raise
