"""Pages that watch runs from a timed fragment (Runs here; Sweep in test_sweep_browser) rerun the whole page
once when the work has stopped, asked by the browser on the live feed's `turned` (rnnlab/ui/page_turn.py),
and then stay still: no fragment keeps running on its clock for a page where nothing moves."""

from __future__ import annotations

import pytest
from browser_support import explained_failure, streamlit_server, wait_for_app, watch_script_runs

pytestmark = pytest.mark.browser
QUIET_MS = 2500  # five of the Runs fragment's ticks (0.5 s)


def test_the_runs_page_reruns_once_when_its_runs_finish_and_then_stays_still(chromium, tmp_path):
    page = chromium.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    runs = watch_script_runs(page)
    with streamlit_server({"RNNLAB_HOME": str(tmp_path)}) as url, explained_failure(page, url, "runs-turn"):
        page.goto(f"{url}/runs?preset=udacity-sine&steps=400")
        wait_for_app(page)
        page.get_by_role("button", name="Compare RNN, LSTM and GRU").click()
        # while the three runs train, the fragment redraws them on its clock
        page.wait_for_function("() => true")  # let the websocket events through
        for _ in range(60):
            page.wait_for_timeout(500)
            if runs.count(False) >= 2:
                break
        assert runs.count(False) >= 2, runs
        # then, within a minute, a stretch with no script run at all: the clock has stopped
        for _ in range(60):
            seen = len(runs)
            page.wait_for_timeout(QUIET_MS)
            if len(runs) == seen:
                break
        else:
            raise AssertionError(f"the page kept running after its runs ended: {runs[-20:]}")
        assert runs[-1] is True, runs[-20:]  # ...and the page's last run was the whole page, after the work ended
        assert page.locator('[data-testid="stException"]').count() == 0
