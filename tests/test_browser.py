"""The main paths in a real browser: Debian's Chromium driven by Playwright against `streamlit run`."""

import time

import pytest
from browser_support import (
    blank_samples,
    charts_marked,
    launch_chromium,
    mark_charts,
    metric_value,
    require_browser,
    screenshot,
    server_log,
    streamlit_server,
    wait_for_app,
)

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server():
    require_browser()
    with streamlit_server() as url:
        yield url


@pytest.fixture(scope="module")
def browser(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    yield page
    context.close()


def steps(page) -> int:
    value = metric_value(page, "Step")
    return int(value.replace(",", "")) if value else -1


def wait_for(predicate, timeout=20.0, interval=0.1):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(interval)


def no_exception(page) -> None:
    assert page.locator('[data-testid="stException"]').count() == 0


def test_every_page_loads_without_an_exception(server, page):
    pages = (("/", "Train a recurrent network"), ("/shapes", "Tensor shapes"), ("/data", "Data"),
             ("/inside", "Inside the network"), ("/forecast", "Forecasts that tell the truth"), ("/runs", "Runs"))
    for path, heading in pages:
        page.goto(server + path)
        wait_for_app(page)
        page.get_by_role("heading", name=heading).first.wait_for(timeout=20_000)
        if path in ("/data", "/inside", "/forecast"):
            page.locator(".js-plotly-plot").first.wait_for(timeout=20_000)
        if path == "/shapes":
            page.locator('[data-testid="stGraphVizChart"] svg').first.wait_for(timeout=20_000)
        time.sleep(0.5)
        no_exception(page)
        screenshot(page, f"page{path.replace('/', '-') or '-train'}")


def test_train_shows_live_progress_and_pause_stops_it(server, page):
    page.goto(server + "/?preset=udacity-sine&steps=1000000")
    wait_for_app(page)
    page.get_by_role("button", name="Train", exact=True).click()
    wait_for(lambda: steps(page) > 50)
    first = steps(page)
    wait_for(lambda: steps(page) > first + 50)  # it keeps rising while we watch
    page.locator(".js-plotly-plot").nth(1).wait_for(timeout=10_000)  # loss curve and prediction plot
    wait_for(lambda: page.locator(".js-plotly-plot .scatterlayer .trace").count() >= 3, timeout=10)
    screenshot(page, "train-running")

    page.get_by_role("button", name="Pause", exact=True).click()
    wait_for(lambda: page.get_by_role("button", name="Resume", exact=True).is_enabled())
    paused = steps(page)
    time.sleep(1.0)
    assert steps(page) == paused
    no_exception(page)
    screenshot(page, "train-paused")


def test_a_shared_link_applies_its_settings(server, page):
    page.goto(server + "/shapes?preset=lstm-load&hidden=48&layers=1")
    wait_for_app(page)
    page.locator('[data-testid="stGraphVizChart"] svg').first.wait_for(timeout=20_000)
    diagram = page.locator('[data-testid="stGraphVizChart"]').first.inner_text()
    assert "(1, 32, 48)" in diagram  # h_0: (D*L, B, H) with the link's hidden size and the preset's batch
    assert "(32, 24, 7)" in diagram  # the preset's batch of 24 hours of 7 features
    assert "hidden=48" in page.url and "preset=lstm-load" in page.url
    no_exception(page)


def test_the_share_link_copies_the_settings(server, page):
    page.goto(server + "/?preset=udacity-sine&hidden=48")
    wait_for_app(page)
    page.get_by_text("Share these settings").click()
    box = page.locator(".rnnlab-copy-link")
    box.wait_for(state="visible", timeout=10_000)
    link = box.locator("code").inner_text()
    assert link.startswith(server) and "hidden=48" in link and "preset=udacity-sine" in link
    page.evaluate("""() => { window.__copied = null; navigator.clipboard.writeText = async (t) => {
        window.__copied = t; }; }""")  # headless Chromium may refuse the real clipboard: catch what is written
    box.locator("button").click()
    page.wait_for_function("() => window.__copied !== null", timeout=5_000)
    assert page.evaluate("window.__copied") == link
    assert box.locator("button").inner_text() == "Copied"
    no_exception(page)


def test_a_bad_link_gives_a_warning_not_a_traceback(server, page):
    page.goto(server + "/?hidden=99999&cell=banana")
    wait_for_app(page)
    page.get_by_text("hidden must be between 1 and 512").first.wait_for(timeout=10_000)
    no_exception(page)


def test_a_fresh_server_serves_a_deep_link_first(browser):
    """The first request of a new server may name any page; it must still run under dashboard.py."""
    with streamlit_server() as url:
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        page.goto(url + "/runs?preset=udacity-sine")
        wait_for_app(page)
        page.get_by_role("heading", name="Runs").first.wait_for(timeout=20_000)
        page.get_by_role("button", name="Compare RNN, LSTM and GRU").wait_for(timeout=20_000)
        assert page.get_by_role("link", name="Train").count() >= 1  # dashboard.py's navigation, not a pages/ list
        no_exception(page)
        context.close()


def test_two_sessions_never_see_each_others_runs(server, browser):
    a_context = browser.new_context(viewport={"width": 1400, "height": 1000})
    b_context = browser.new_context(viewport={"width": 1400, "height": 1000})
    a, b = a_context.new_page(), b_context.new_page()
    try:
        a.goto(server + "/?preset=udacity-sine&steps=1000000")
        b.goto(server + "/?cell=gru&hidden=8&steps=1000000")
        wait_for_app(a)
        wait_for_app(b)
        a.get_by_role("button", name="Train", exact=True).click()
        wait_for(lambda: steps(a) > 50)
        assert steps(b) == -1  # B has no run: no metrics at all
        b.get_by_text("press Train to watch the network learn").first.wait_for(timeout=5_000)

        a.get_by_role("button", name="Pause", exact=True).click()
        wait_for(lambda: a.get_by_role("button", name="Resume", exact=True).is_enabled())
        paused = steps(a)
        b.get_by_role("button", name="Train", exact=True).click()
        wait_for(lambda: steps(b) > 50)
        assert steps(a) == paused  # B's run neither resumed nor moved A's

        b.get_by_role("link", name="Runs").click()  # in-app navigation keeps the session
        wait_for_app(b)
        b.get_by_role("heading", name="Runs").first.wait_for()
        b.locator('[data-testid="stDataFrame"]').first.wait_for(timeout=10_000)
        b.get_by_text("Export run 1").wait_for(timeout=10_000)  # B's first run, not A's
        no_exception(a)
        no_exception(b)
    finally:
        a_context.close()
        b_context.close()


def test_closing_the_tab_stops_its_job(browser):
    # A closed tab's run goes on for the grace period (a reload may come back to it), then stops, saved.
    with streamlit_server({"RNNLAB_GRACE_SECONDS": "1"}) as url:
        context = browser.new_context()
        page = context.new_page()
        page.goto(url + "/?steps=1000000")
        wait_for_app(page)
        page.get_by_role("button", name="Train", exact=True).click()
        wait_for(lambda: steps(page) > 20)
        assert "job started" in server_log(url)
        context.close()
        wait_for(lambda: "job ended" in server_log(url), timeout=30)
        assert "stopped" in server_log(url).split("job ended")[-1]


def test_a_bad_upload_is_a_sentence_and_training_still_works(server, page):
    page.goto(server + "/data")
    wait_for_app(page)
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(
        files=[{"name": "broken.csv", "mimeType": "text/csv", "buffer": b"date;value\n"}])
    page.get_by_text("broken.csv:").first.wait_for(timeout=15_000)
    no_exception(page)
    screenshot(page, "data-bad-upload")
    page.get_by_role("link", name="Train").click()
    wait_for_app(page)
    page.get_by_role("button", name="Train", exact=True).click()
    wait_for(lambda: steps(page) > 10)
    no_exception(page)


# --- the live charts (rnnlab/ui/live_chart.py): one Plotly graph per chart, updated in place -------------
def draws(page, key: str) -> int:
    """How many figures the chart's JavaScript has drawn (it counts each Plotly.react it completes)."""
    return page.evaluate("(k) => +(document.querySelector(`.st-key-${k} .rnnlab-live-chart`)?.dataset.draws || 0)",
                         key)


def start_training(page, url: str) -> None:
    page.goto(url + "/?preset=udacity-sine&steps=1000000")
    wait_for_app(page)
    page.get_by_role("button", name="Train", exact=True).click()
    wait_for(lambda: steps(page) > 20, timeout=60)
    # The run's first lines are drawn (the Step metric may show them a moment before the charts do).
    wait_for(lambda: blank_samples(page, ["loss_chart", "window_chart"], samples=1) == 0, timeout=30)


def pause(page) -> None:
    page.get_by_role("button", name="Pause", exact=True).click()
    wait_for(lambda: page.get_by_role("button", name="Resume", exact=True).is_enabled())
    wait_for_app(page)


def test_live_charts_keep_their_node_and_never_show_a_blank_frame(server, page):
    start_training(page, server)
    # The status says "Starting..." only until the job runs (it is re-read every 5 s once the run computes).
    wait_for(lambda: page.get_by_text("Starting the training process").count() == 0, timeout=3)
    keys = ["loss_chart", "window_chart"]
    mark_charts(page, keys)
    before = draws(page, "loss_chart")
    blank = blank_samples(page, keys)  # 100 samples 50 ms apart, in the page: each shows both charts' lines
    wait_for(lambda: draws(page, "loss_chart") >= before + 20, timeout=60)
    assert blank == 0
    assert charts_marked(page, keys)  # the very nodes marked before 20 updates: updated in place, never remounted
    assert page.locator(".st-key-loss_chart .js-plotly-plot").count() == 1
    no_exception(page)
    screenshot(page, "live-train")
    pause(page)


def test_train_loads_the_basic_plotly_build_and_inside_adds_the_full_one_for_its_heatmap(server, page):
    page.goto(server + "/")
    wait_for_app(page)
    page.locator(".rnnlab-live-chart .main-svg").first.wait_for(timeout=20_000)
    loaded = "() => [...document.scripts].map(s => s.src.split('/').pop()).filter(s => s.startsWith('plotly'))"
    assert page.evaluate(loaded) == ["plotly-basic.min.js"]
    page.get_by_role("link", name="Inside").first.click()  # the same page context: the basic build stays loaded
    page.locator(".rnnlab-live-chart .heatmaplayer image").first.wait_for(timeout=20_000)
    assert page.evaluate(loaded) == ["plotly-basic.min.js", "plotly.min.js"]
    no_exception(page)


def test_a_zoom_survives_updates_and_hover_shows_values(server, page):
    start_training(page, server)
    plot = page.locator(".st-key-loss_chart .nsewdrag").first
    box = plot.bounding_box()
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + box["width"] * 0.3, y)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.6, y, steps=8)
    page.mouse.up()
    x_range = "() => document.querySelector('.st-key-loss_chart .js-plotly-plot')._fullLayout.xaxis.range"
    # the chart has taken the x axis as the user's (it stops giving it headroom as the curve grows)
    wait_for(lambda: "xaxis" in page.evaluate(
        "() => document.querySelector('.st-key-loss_chart .rnnlab-live-chart').dataset.userAxes || ''"), timeout=10)
    zoomed = page.evaluate(x_range)
    before = draws(page, "loss_chart")
    wait_for(lambda: draws(page, "loss_chart") >= before + 10, timeout=60)
    assert page.evaluate(x_range) == zoomed  # the data moved on, the user's zoom stayed

    pause(page)
    page.mouse.move(box["x"] + box["width"] * 0.45, y)
    hover = page.locator(".st-key-loss_chart .hoverlayer .hovertext").first
    hover.wait_for(timeout=10_000)
    assert any(ch.isdigit() for ch in hover.text_content())
    no_exception(page)


def test_a_paused_run_draws_no_frames(server, page):
    start_training(page, server)
    pause(page)
    counts = {k: draws(page, k) for k in ("loss_chart", "window_chart")}
    paused_at = steps(page)
    time.sleep(2.0)
    assert {k: draws(page, k) for k in counts} == counts
    assert steps(page) == paused_at
