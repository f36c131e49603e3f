"""A teacher's link in Chromium (issue 12): hidden controls are gone, locked ones disabled; the projector view
fits the Train page into 1280x720 with the sidebar collapsed."""

import pytest
from browser_support import launch_chromium, require_browser, screenshot, streamlit_server, wait_for_app

pytestmark = pytest.mark.browser
PROJECTOR = {"width": 1280, "height": 720}
LOAD = 120_000  # ms: a first page view on a busy two-core machine


@pytest.fixture(scope="module")
def browser():
    require_browser()
    from playwright.sync_api import sync_playwright

    with streamlit_server() as url, sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        chromium.base = url
        yield chromium
        chromium.close()


def open_page(browser, path: str):
    page = browser.new_context(viewport=PROJECTOR).new_page()
    page.goto(browser.base + path)
    wait_for_app(page)
    page.get_by_role("button", name="Train").wait_for(timeout=LOAD)
    page.get_by_text("Preset").or_(page.get_by_text("Step", exact=True)).first.wait_for(timeout=LOAD)
    return page


def sidebar_controls(page) -> dict[str, bool]:
    """{label: disabled} of the sidebar's inputs and sliders."""
    page.locator('[data-testid="stSidebar"] [aria-label="Series"]').first.wait_for(timeout=LOAD)
    pairs = page.evaluate("""() => [...document.querySelectorAll(
        '[data-testid=stSidebar] [role=slider], [data-testid=stSidebar] input')]
        .map(e => [e.getAttribute('aria-label'), e.disabled || e.getAttribute('aria-disabled') === 'true'])""")
    return {label: disabled for label, disabled in pairs if label}


def test_a_class_link_hides_and_locks_controls(browser):
    page = open_page(browser, "/?preset=udacity-sine&hide=optimizer,model,pages&lock=lr,steps")
    controls = sidebar_controls(page)
    for hidden in ("Optimiser", "Cell", "Hidden size", "Head", "Bidirectional"):
        assert hidden not in controls, hidden
    assert controls["Learning rate"] is True and controls["Steps"] is True
    assert controls["Series"] is False and controls["Sequence length"] is False
    assert not page.locator('[data-testid="stSidebarNav"]').is_visible()  # hide=pages
    screenshot(page, "class-link-1280x720")
    page.context.close()


def trained(browser, path: str):
    """A page at `path` whose 75-step run has finished."""
    page = open_page(browser, path)
    page.get_by_role("button", name="Train").click()
    page.get_by_text("Finished").wait_for(timeout=LOAD)
    page.wait_for_timeout(500)  # the finished page's one redraw
    return page


def metric_font(page) -> float:
    value = page.locator(".rnnlab-metric-value").first  # the Train page's live metrics
    return value.evaluate("e => parseFloat(getComputedStyle(e).fontSize)")


def test_the_projector_view_fits_the_train_page_in_1280x720(browser):
    plain = trained(browser, "/")
    plain_font, plain_scroll = metric_font(plain), plain.evaluate(
        "() => document.querySelector('[data-testid=stMain]').scrollHeight")
    assert plain.locator('[data-testid="stSidebar"]').get_attribute("data-collapsed") == "false"
    plain.context.close()
    page = trained(browser, "/?view=present")
    assert page.locator('[data-testid="stSidebar"]').get_attribute("data-collapsed") == "true"
    scroll, height = page.evaluate("""() => {
        const main = document.querySelector('[data-testid=stMain]');
        return [main.scrollHeight, main.clientHeight]; }""")
    assert scroll <= height < plain_scroll, (scroll, height, plain_scroll)  # the plain page does scroll
    assert metric_font(page) > 1.2 * plain_font
    screenshot(page, "present-1280x720")
    page.context.close()
