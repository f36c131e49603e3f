"""The sine lesson in Chromium (issue 12): Set this up, predict, Train, and the challenge shows as achieved."""

import pytest
from browser_support import (
    explained_failure,
    launch_chromium,
    require_browser,
    screenshot,
    streamlit_server,
    wait_for_app,
)

pytestmark = pytest.mark.browser
LOAD = 120_000  # ms: a first page view, or a 300-step run, on a busy two-core machine


def test_the_sine_lesson_runs_until_its_challenge_is_achieved():
    require_browser()
    from playwright.sync_api import sync_playwright

    with streamlit_server() as url, sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        try:
            page = chromium.new_context(viewport={"width": 1280, "height": 900}).new_page()
            with explained_failure(page, url, "lesson-sine"):
                page.goto(url + "/?lesson=sine")
                wait_for_app(page)
                page.get_by_text("The classic sine notebook").first.wait_for(timeout=LOAD)
                page.get_by_role("button", name="Set this up").click()
                page.get_by_text("Set up for the lesson step").wait_for(timeout=LOAD)
                next_button = page.get_by_role("button", name="Next")
                next_button.click()
                page.get_by_text("Streaming: the state is carried").first.wait_for(timeout=LOAD)
                next_button.click()
                page.get_by_text("Choose your answer, then press Train.").wait_for(timeout=LOAD)
                page.get_by_text("At least 100 times lower").click()  # the radio's option
                page.get_by_text("the answer shows when the run ends").wait_for(timeout=LOAD)
                page.get_by_role("button", name="Train").click()
                page.get_by_text("Finished: 300 steps").wait_for(timeout=LOAD)
                page.get_by_text("Right: At least 100 times lower").wait_for(timeout=LOAD)
                next_button.click()
                achieved = page.locator('[data-testid="stAlert"]', has_text="Achieved at step")
                achieved.wait_for(timeout=LOAD)
                assert "val_loss < 1e-3 within 300 steps" in achieved.inner_text()
                screenshot(page, "lesson-sine-achieved")
        finally:
            chromium.close()
