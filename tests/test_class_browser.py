"""A class on one server in Chromium: several students press Train at once, and every tab keeps both live
charts on screen, redrawing.

With the status slot rerunning the page from its timed fragment (st.rerun() when the run left "starting"),
Streamlit 1.67's browser side drew the status over the charts' place in some tabs as a class's runs started
together on a loaded server: their charts vanished while the metrics went on (1 to 5 of 8 tabs, every try).
The feed asks for that rerun now (rnnlab.ui.live._source)."""

from __future__ import annotations

import time

import pytest
from browser_support import screenshot, streamlit_server, wait_for_app

pytestmark = pytest.mark.browser
TABS = 6
CHARTS = ("loss_chart", "window_chart")
DRAWS = "(key) => Number(document.querySelector(`.st-key-${key} .rnnlab-live-chart`)?.dataset.draws || -1)"


def test_tabs_training_at_once_keep_their_charts_and_redraw_them(chromium):
    pages = [chromium.new_context(viewport={"width": 1400, "height": 1000}).new_page() for _ in range(TABS)]
    with streamlit_server() as url:
        for page in pages:
            page.goto(f"{url}/?preset=udacity-sine&steps=1000000")
        for page in pages:
            wait_for_app(page, timeout=60_000)
            page.wait_for_selector(".st-key-btn_train button:not([disabled])", timeout=60_000)
        for page in pages:  # within a few milliseconds of each other, as a class told "press Train now"
            page.evaluate("() => document.querySelector('.st-key-btn_train button').click()")
        for page in pages:
            page.get_by_role("button", name="Pause", exact=True).wait_for(timeout=60_000)
        time.sleep(6.0)  # the runs' first steps, the pages' reruns and a few of the status's own redraws
        before = [{key: page.evaluate(DRAWS, key) for key in CHARTS} for page in pages]
        time.sleep(3.0)
        after = [{key: page.evaluate(DRAWS, key) for key in CHARTS} for page in pages]
        for i, (page, was, now) in enumerate(zip(pages, before, after, strict=True)):
            if not all(now[key] > was[key] >= 0 for key in CHARTS):
                screenshot(page, f"class-tab-{i}")
            assert now["loss_chart"] > was["loss_chart"] >= 0, (i, was, now)  # on screen and redrawing
            assert now["window_chart"] >= was["window_chart"] >= 0, (i, was, now)  # on screen (1 redraw/s)
