import os
import sys
import tempfile
from pathlib import Path

import pytest
import torch

# The browser helpers live beside the tests.
sys.path.insert(0, str(Path(__file__).resolve().parent))

# Runs the tests make (AppTests, servers they start, the command line) go to a folder of their own, never
# to the user's run store; set before any test imports the app. A test that needs a store of its own
# passes RNNLAB_HOME to its server, or builds RunStore(tmp_path).
_HOME = tempfile.TemporaryDirectory(prefix="rnnlab-tests-")
os.environ["RNNLAB_HOME"] = _HOME.name


@pytest.fixture(scope="session", autouse=True)
def one_thread():
    """The app and the exported scripts train on one PyTorch thread; so do the tests (and the
    suite shares two cores with the servers and browsers it starts)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def chromium():
    """Debian's Chromium through Playwright, closed afterwards (skips where there is none, unless CI requires it)."""
    from browser_support import launch_chromium, require_browser

    require_browser()
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            yield browser
        finally:
            browser.close()
