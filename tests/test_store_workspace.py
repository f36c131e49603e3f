"""The browser's workspace id (rnnlab.ui.workspace_id): headless through AppTest, then in Chromium."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from rnnlab.store import is_workspace_id, new_workspace_id
from rnnlab.ui.workspace_id import COOKIE, ID_KEY, STORAGE_KEY

APP = Path(__file__).resolve().parent / "workspace_id_app.py"


def shown_id(at: AppTest) -> str:
    return at.markdown[0].value.split("`")[1]


def test_without_a_browser_a_session_gets_one_stable_id():
    at = AppTest.from_file(str(APP)).run()
    assert not at.exception
    first = shown_id(at)
    assert is_workspace_id(first)
    at.button(key="rerun").click().run()
    assert shown_id(at) == first
    other = AppTest.from_file(str(APP)).run()
    assert shown_id(other) != first  # another session, another workspace


def test_a_test_can_choose_the_id():
    chosen = new_workspace_id()
    at = AppTest.from_file(str(APP))
    at.session_state[ID_KEY] = chosen
    assert shown_id(at.run()) == chosen


def test_a_forged_id_in_session_state_is_replaced():
    at = AppTest.from_file(str(APP))
    at.session_state[ID_KEY] = "guess"
    assert is_workspace_id(shown_id(at.run())) and shown_id(at) != "guess"


def wait_for_id(page) -> str:
    page.wait_for_function("() => /workspace: [A-Za-z0-9_-]{22,}/.test(document.body.innerText)", timeout=30_000)
    return page.evaluate("() => document.body.innerText.match(/workspace: ([A-Za-z0-9_-]+)/)[1]")


def test_the_browser_keeps_its_id_across_reloads_and_restarts_and_others_get_their_own(chromium):
    from browser_support import streamlit_server

    browser = chromium
    context = browser.new_context()
    page = context.new_page()
    with streamlit_server(script="tests/workspace_id_app.py") as url:
        page.goto(url)
        first = wait_for_id(page)
        assert is_workspace_id(first) and len(first) == 32
        # the browser keeps the id the server offered: in localStorage and in the cookie the next visit sends
        page.wait_for_function(f"(id) => localStorage.getItem('{STORAGE_KEY}') === id", arg=first)
        assert {c["name"]: c["value"] for c in context.cookies()}.get(COOKIE) == first
        assert first not in page.url
        page.reload()
        assert wait_for_id(page) == first  # the first run of the visit knew it (the cookie)
        stranger = browser.new_context().new_page()
        stranger.goto(url)
        assert wait_for_id(stranger) != first
        context.clear_cookies()  # cookie gone, localStorage kept: the stored id wins a moment later
        page.reload()
        page.wait_for_function("(id) => document.body.innerText.includes('workspace: ' + id)", arg=first,
                               timeout=30_000)
        assert {c["name"]: c["value"] for c in context.cookies()}.get(COOKIE) == first
    port = int(url.rsplit(":", 1)[1])
    with streamlit_server(script="tests/workspace_id_app.py", port=port) as url:  # restarted: same origin
        page.goto(url)
        assert wait_for_id(page) == first
