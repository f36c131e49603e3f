"""Runs survive reloads and restarts, in Chromium (issue 11): every server here keeps its runs in a
temporary RNNLAB_HOME; the browser's workspace id lives in its localStorage. (`chromium`: conftest.py.)"""

from __future__ import annotations

import io
import os
import signal
import time
import zipfile
from pathlib import Path

import numpy as np
from browser_support import METRIC_JS, screenshot, streamlit_server, wait_for_app

from rnnlab import cli
from rnnlab.store import RunStore
from rnnlab.ui.workspace_id import STORAGE_KEY

STEP = f"() => parseInt((({METRIC_JS})('Step') || '-1').replace(/,/g, ''))"
LOSS_DRAWN = """() => Array.from(
  document.querySelectorAll('.st-key-loss_chart .js-plotly-plot .scatterlayer path.js-line'))
  .some((p) => (p.getAttribute('d') || '').length > 20)"""


def text_shown(page, text: str, timeout: float = 60_000) -> None:
    page.wait_for_function("(t) => document.body.innerText.includes(t)", arg=text, timeout=timeout)


def step_above(page, n: int, timeout: float = 90_000) -> int:
    page.wait_for_function(f"() => ({STEP})() > {n}", timeout=timeout)
    return page.evaluate(STEP)


def test_a_reload_mid_run_finds_the_run_still_training_and_its_charts(chromium, tmp_path):
    page = chromium.new_context().new_page()
    with streamlit_server({"RNNLAB_HOME": str(tmp_path)}) as url:
        try:
            page.goto(f"{url}/?preset=udacity-sine&steps=1000000")
            wait_for_app(page)
            page.get_by_role("button", name="Train", exact=True).click()
            before = step_above(page, 20)
            page.reload()
            wait_for_app(page)
            # The same run, which kept training while the page reloaded: Step goes on from where it was.
            again = step_above(page, before - 1)
            step_above(page, again + 20)
            page.wait_for_function(LOSS_DRAWN, timeout=30_000)
            page.goto(f"{url}/runs")
            wait_for_app(page)
            page.get_by_role("heading", name="run 1", exact=True).wait_for(timeout=30_000)
        except Exception:
            screenshot(page, "runs-store-reload")
            raise


def test_runs_survive_a_restart_stay_private_and_a_command_line_folder_imports(chromium, tmp_path):
    home = tmp_path / "home"
    context = chromium.new_context()
    page = context.new_page()
    try:
        with streamlit_server({"RNNLAB_HOME": str(home)}) as url:
            page.goto(f"{url}/?preset=udacity-sine")
            wait_for_app(page)
            page.get_by_role("button", name="Train", exact=True).click()
            text_shown(page, "Finished: 75 steps", timeout=90_000)
        port = int(url.rsplit(":", 1)[1])
        with streamlit_server({"RNNLAB_HOME": str(home)}, port=port) as url:  # the same origin: same storage
            page.goto(url)
            wait_for_app(page)
            text_shown(page, "Finished: 75 steps")  # the workspace's latest run, opened again on Train
            page.wait_for_function(f"() => ({STEP})() === 75", timeout=30_000)
            page.goto(f"{url}/runs")
            wait_for_app(page)
            page.get_by_role("heading", name="run 1", exact=True).wait_for(timeout=30_000)

            stranger = chromium.new_context().new_page()
            stranger.goto(f"{url}/runs")  # another browser: its own storage, its own workspace
            wait_for_app(stranger)
            text_shown(stranger, "No runs yet")
            assert "run 1" not in stranger.inner_text("body")

            folder = tmp_path / "cli-run"
            assert cli.train(["--preset", "udacity-sine", "--steps", "30", "--out", str(folder), "--quiet"],
                             out=io.StringIO()) == 0
            page.goto(f"{url}/runs")
            wait_for_app(page)
            archive = tmp_path / "cli-run.zip"
            with zipfile.ZipFile(archive, "w") as z:
                for file in folder.iterdir():
                    z.write(file, f"cli-run/{file.name}")
            page.get_by_text("Import a run", exact=True).click()
            page.locator('.st-key-runs_import_file input[type=file]').set_input_files(str(archive))
            page.get_by_role("button", name="Import run", exact=True).wait_for(timeout=30_000)
            page.wait_for_function("() => Array.from(document.querySelectorAll('button'))"
                                   ".some((b) => b.innerText.trim() === 'Import run' && !b.disabled)", timeout=30_000)
            page.get_by_role("button", name="Import run", exact=True).click()
            text_shown(page, "Imported cli-run.zip as 'cli-run'")
            page.get_by_role("heading", name="cli-run", exact=True).wait_for(timeout=30_000)
    except Exception:
        screenshot(page, "runs-store-restart")
        raise


def server_pid(port: int) -> int:
    """The streamlit process serving `port` (streamlit_server keeps its Popen to itself)."""
    for proc in Path("/proc").iterdir():
        try:
            args = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"streamlit" in b" ".join(args) and str(port).encode() in args:
            return int(proc.name)
    raise AssertionError(f"no streamlit process on port {port}")


def weights_saved(home: Path, page, timeout: float = 60) -> None:
    """Wait until the page's one run has weights in the store (saved every second of training here): a fixed
    sleep raced the save on a loaded machine, and a run killed before its first save cannot resume."""
    workspace = page.evaluate(f"() => localStorage.getItem('{STORAGE_KEY}')")
    deadline = time.monotonic() + timeout
    while not any(info.weights_step for info in RunStore(home).list_runs(workspace)):
        assert time.monotonic() < deadline, "no weights saved"
        time.sleep(0.1)


def test_a_run_cut_short_by_kill_9_is_listed_as_interrupted_and_resumes(chromium, tmp_path):
    home = tmp_path / "home"
    env = {"RNNLAB_HOME": str(home), "RNNLAB_WEIGHTS_EVERY": "1"}
    page = chromium.new_context().new_page()
    try:
        with streamlit_server(env) as url:
            page.goto(f"{url}/?preset=udacity-sine&steps=1000000")
            wait_for_app(page)
            page.get_by_role("button", name="Train", exact=True).click()
            step_above(page, 200)
            weights_saved(home, page)
            os.kill(server_pid(int(url.rsplit(":", 1)[1])), signal.SIGKILL)
            killed_at = page.evaluate(STEP)
        with streamlit_server(env, port=int(url.rsplit(":", 1)[1])) as url:
            page.goto(f"{url}/runs")
            wait_for_app(page)
            text_shown(page, "The server stopped while this run trained")
            store = RunStore(home)
            workspace = page.evaluate(f"() => localStorage.getItem('{STORAGE_KEY}')")
            (info,) = store.list_runs(workspace)
            assert info.status == "interrupted" and info.resumable
            # At most the last moments are lost: the history on disk reaches past the saved weights.
            assert len(store.load_history(workspace, info.id)) >= info.weights_step >= 1
            page.get_by_role("button", name="Resume", exact=True).click()
            text_shown(page, "Resumed 'run 1'")
            page.goto(url)
            wait_for_app(page)
            step_above(page, info.weights_step + 20)
            # It went on from its saved weights' step: one history, each step once, none from 0 again.
            deadline = time.monotonic() + 30
            while len(steps := store.load_history(workspace, info.id).column("step")) < info.weights_step + 20:
                assert time.monotonic() < deadline
                time.sleep(0.2)
            assert np.array_equal(steps, np.arange(1, len(steps) + 1)) and killed_at > 200
    except Exception:
        screenshot(page, "runs-store-kill")
        raise
