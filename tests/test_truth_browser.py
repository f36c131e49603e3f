"""Issue 14 in Chromium at a lecturer's and a student's screen sizes, and at 125% zoom: no button or toggle
label cut short, a finished run's verdict, log axes labelled with powers of ten, and screenshots of Train,
Forecast, Shapes and Inside saved under test-artifacts/ (truth-*.png) to look at."""

from __future__ import annotations

import re
import time

import pytest
from browser_support import (
    launch_chromium,
    metric_value,
    require_browser,
    screenshot,
    streamlit_server,
    wait_for_app,
)

pytestmark = pytest.mark.browser

# (width, height, zoom): browser zoom 125% on a 1280x720 screen is a 1024x576 CSS viewport at 1.25 pixels each
SIZES = [(1280, 720, 1.0), (1440, 900, 1.0), (1024, 576, 1.25)]
LOAD = 90_000

# Labels whose text is cut (an ellipsis, or wider than the box that shows it).
CUT_LABELS = """() => Array.from(document.querySelectorAll(
    '[data-testid="stMain"] [data-testid="stButton"] *, [data-testid="stMain"] [data-testid="stCheckbox"] *'))
  .filter((el) => (el.innerText || "").trim() && el.scrollWidth > el.clientWidth + 1)
  .map((el) => el.innerText.trim())"""

Y_TICKS = """(key) => Array.from(document.querySelectorAll(`.st-key-${key} .js-plotly-plot .ytick text`))
  .map((t) => t.textContent.trim())"""

POWER_OF_TEN = re.compile(r"^(0\.0*1|10*|10[−-]\d+)$")


@pytest.fixture
def server():
    """A server per size: nothing one size's session did can show on the next one's screenshots."""
    require_browser()
    with streamlit_server() as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        yield browser
        browser.close()


def _settle(page) -> None:
    wait_for_app(page, timeout=LOAD)
    time.sleep(1.0)
    wait_for_app(page, timeout=LOAD)


def _open(page, name: str) -> None:
    """Another page of the same session (a new URL would start a new session without the run)."""
    page.locator('[data-testid="stSidebarNav"]').get_by_text(name, exact=True).click()
    page.get_by_role("heading").first.wait_for(timeout=LOAD)
    _settle(page)


@pytest.mark.parametrize(("width", "height", "zoom"), SIZES)
def test_train_forecast_shapes_inside_read_whole_at_lecture_sizes(server, browser, width, height, zoom):
    size = f"{width * zoom:.0f}x{height * zoom:.0f}" + ("-zoom125" if zoom != 1 else "")
    # each size in its own browser context: a session of its own
    context = browser.new_context(viewport={"width": width, "height": height}, device_scale_factor=zoom)
    page = context.new_page()
    page.goto(server + "/?preset=udacity-sine")
    page.get_by_role("button", name="Train").wait_for(timeout=LOAD)
    _settle(page)
    assert page.evaluate(CUT_LABELS) == []
    page.get_by_role("button", name="Train").click()
    page.get_by_text("Finished: 75 steps").wait_for(timeout=LOAD)
    _settle(page)
    assert page.evaluate(CUT_LABELS) == []
    # the notebook's run learns: green, with the evidence
    assert "Learned" in page.locator('[data-testid="stAlertContentSuccess"]').inner_text()
    assert metric_value(page, "Steps/s") == "–"  # finished: no steps per second, not the run's average
    ticks = page.evaluate(Y_TICKS, "loss_chart")
    assert len(ticks) >= 2 and all(POWER_OF_TEN.match(t) for t in ticks), ticks
    screenshot(page, f"truth-train-{size}")
    for name in ("Forecast", "Shapes", "Inside"):
        _open(page, name)
        assert page.locator('[data-testid="stException"]').count() == 0
        screenshot(page, f"truth-{name.lower()}-{size}")
    context.close()
