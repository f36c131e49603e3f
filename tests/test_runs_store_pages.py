"""The run store wired into the app (issue 11, phase 2), headless through AppTest: runs are written as they
train, a reload (a new session with the same workspace id) finds the live run, the Runs page lists every
run of the workspace and acts on them, past runs open in Train, Inside and Forecast and resume."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest
from test_pages import metric
from test_pages import wait_until as wait_for_pages

from rnnlab.config import RunConfig
from rnnlab.learn.history import COLUMNS
from rnnlab.learn.trainer import Trainer
from rnnlab.store import Quota, RunStore, new_workspace_id
from rnnlab.ui.workspace_id import ID_KEY

ENTRY = Path(__file__).resolve().parent / "app_entry.py"
# A million steps: a resumed run still trains when the test pauses it, however slowly the machine runs the test.
CONFIG = RunConfig.from_flat({"preset": "udacity-sine", "steps": 1_000_000})


def wait_until(at: AppTest, predicate, timeout=60.0):
    """The pages' wait loop, with room for a store round trip on a loaded machine."""
    wait_for_pages(at, predicate, timeout)


@pytest.fixture
def store() -> RunStore:
    return RunStore()  # RNNLAB_HOME: the suite's own folder (conftest.py), the one the app opens


@pytest.fixture(autouse=True)
def no_workspace_left_behind():
    yield
    from rnnlab.ui.session import WORKSPACES

    for ws in list(WORKSPACES):
        ws.close()


def app(workspace: str, page: str | None = None, query: dict | None = None) -> AppTest:
    at = AppTest.from_file(str(ENTRY), default_timeout=60)
    at.session_state[ID_KEY] = workspace
    for key, value in (query or {}).items():
        at.query_params[key] = value
    at.run()
    if page:
        at.switch_page(f"../pages/{page}.py").run()
    assert not at.exception, at.exception
    return at


def step_count(at: AppTest) -> int:
    return int(metric(at, "Step").replace(",", ""))


def seed_run(store: RunStore, ws: str, name: str, steps: int, status: str = "finished",
             weights_at: int | None = None) -> str:
    """A run of `steps` real steps in the store; weights saved at weights_at (the last step by default)."""
    trainer = Trainer(CONFIG)
    done, weights = [], None
    for _ in range(steps):
        done.append(next(trainer))
        if trainer.step == (weights_at or steps):
            weights = {k: v.clone() for k, v in trainer.model.state_dict().items()}
    run_id, _ = store.create_run(ws, CONFIG, name, status="running")
    store.append_history(ws, run_id, np.array([[getattr(p, c) if c != "val_loss" or p.validated else np.nan
                                                 for p in done] for c in COLUMNS], dtype=float))
    store.save_weights(ws, run_id, weights, weights_at or steps)
    store.set_status(ws, run_id, status, steps, "" if status == "finished" else "The server stopped.")
    return run_id


def rows(at: AppTest) -> list[str]:
    return list(at.dataframe[0].value["run"])


def test_a_trained_run_is_written_as_it_trains_and_a_reload_finds_it_live(store):
    ws = new_workspace_id()
    at = app(ws, query={"preset": "udacity-sine", "steps": "1000000"})
    at.button(key="btn_train").click().run()
    wait_until(at, lambda a: step_count(a) > 30)
    # Written as it trains: the store's history is at most a moment behind the page.
    deadline = time.monotonic() + 30
    while len(store.load_history(ws, store.list_runs(ws)[0].id)) < 30:
        assert time.monotonic() < deadline
        time.sleep(0.2)
    # A reload is a new session with the same workspace id: the same run, still training.
    before = step_count(at)
    again = app(ws)
    assert step_count(again) >= before
    wait_until(again, lambda a: step_count(a) > before + 10)
    again.switch_page("../pages/runs.py").run()
    assert rows(again) == ["run 1"]
    # Another browser's workspace sees none of it.
    stranger = app(new_workspace_id(), page="runs")
    assert not stranger.dataframe and "No runs yet" in stranger.info[0].value


def test_runs_page_renames_notes_pins_deletes_and_undoes(store):
    ws = new_workspace_id()
    first = seed_run(store, ws, "alpha", 20)
    seed_run(store, ws, "beta", 25)
    at = app(ws, page="runs")
    assert rows(at) == ["alpha", "beta"]
    chart = next(c.proto.json for c in at.get("bidi_component") if "runs_chart" in c.proto.id)
    assert "alpha validation" in chart and "beta validation" in chart  # both losses of both runs overlaid
    # The actions act on the last run (no selection): beta.
    beta = store.list_runs(ws)[1]
    at.text_input(key=f"runs_name_{beta.id}").set_value("gamma")
    at.text_area(key=f"runs_notes_{beta.id}").set_value("lr too high?")
    at.button(key="runs_save").click().run()
    info = store.get(ws, beta.id)
    assert (info.name, info.notes) == ("gamma", "lr too high?") and rows(at) == ["alpha", "gamma"]

    at.button(key="runs_pin").click().run()
    assert store.get(ws, beta.id).pinned and at.button(key="runs_pin").label == "Unpin"

    at.button(key="runs_delete").click().run()
    assert [r.name for r in store.list_runs(ws)] == ["alpha"] and rows(at) == ["alpha"]
    assert "Deleted 'gamma'" in at.info[0].value
    at.button(key="runs_undo").click().run()
    assert rows(at) == ["alpha", "gamma"] and "Restored" in at.success[0].value
    assert store.get(ws, first).name == "alpha"  # the other run untouched


def test_a_past_run_opens_in_train_inside_and_forecast(store):
    ws = new_workspace_id()
    seed_run(store, ws, "past", 40)
    at = app(ws, page="runs")
    at.button(key="runs_open").click().run()
    assert "Opened 'past'" in at.success[0].value
    at.switch_page("../pages/train.py").run()
    assert step_count(at) == 40 and not at.exception
    at.switch_page("../pages/inside.py").run()
    assert not at.exception and any("at step 40 (past" in c.value for c in at.caption)
    at.switch_page("../pages/forecast.py").run()
    assert not at.exception and any("at step 40 (past" in c.value for c in at.caption)


def test_a_restarted_server_shows_the_last_run_again(store):
    """A workspace opened afresh (new server, or back after the grace period) shows its latest run."""
    ws = new_workspace_id()
    seed_run(store, ws, "before the restart", 30)
    at = app(ws)
    assert step_count(at) == 30


def test_an_interrupted_run_resumes_from_its_saved_weights_without_repeating_steps(store):
    ws = new_workspace_id()
    run_id = seed_run(store, ws, "cut short", 30, status="interrupted", weights_at=20)
    at = app(ws, page="runs")
    assert "interrupted" in list(at.dataframe[0].value["status"])
    at.button(key="runs_resume").click().run()
    assert not at.error, at.error
    at.switch_page("../pages/train.py").run()
    wait_until(at, lambda a: step_count(a) > 40)
    at.button(key="btn_pause").click().run()
    deadline = time.monotonic() + 30
    while store.get(ws, run_id).status != "paused":
        assert time.monotonic() < deadline
        time.sleep(0.2)
    steps = store.load_history(ws, run_id).column("step")
    assert np.array_equal(steps, np.arange(1, len(steps) + 1)) and len(steps) > 40  # 21 follows 20, once
    assert store.get(ws, run_id).weights_step >= 40


def test_resume_on_the_runs_page_goes_on_with_a_run_paused_in_this_session(store):
    ws = new_workspace_id()
    at = app(ws, query={"preset": "udacity-sine", "steps": "1000000"})
    at.button(key="btn_train").click().run()
    wait_until(at, lambda a: step_count(a) > 20)
    at.button(key="btn_pause").click().run()
    paused = step_count(at)
    at.switch_page("../pages/runs.py").run()
    assert at.button(key="runs_resume").disabled is False
    at.button(key="runs_resume").click().run()
    assert not at.exception and "Resumed 'run 1'" in at.success[0].value
    assert list(at.dataframe[0].value["status"]) == ["running"]  # listed as training at once, not "paused"
    at.switch_page("../pages/train.py").run()
    wait_until(at, lambda a: step_count(a) > paused + 20)
    assert len(store.list_runs(ws)) == 1  # the same run went on, not a copy from its saved weights
    at.switch_page("../pages/runs.py").run()
    assert at.button(key="runs_resume").disabled is True  # training: nothing to resume


def test_imports_a_run_zip_and_refuses_a_file_that_is_not_one(store):
    ws, other = new_workspace_id(), new_workspace_id()
    data = store.export_zip(other, seed_run(store, other, "from elsewhere", 15))
    at = app(ws, page="runs")
    at.file_uploader(key="runs_import_file").set_value(("elsewhere.zip", data, "application/zip")).run()
    at.button(key="runs_import").click().run()
    assert "Imported elsewhere.zip" in at.success[0].value and rows(at) == ["from elsewhere"]
    at.file_uploader(key="runs_import_file").set_value(("notes.zip", b"not a zip", "application/zip")).run()
    at.button(key="runs_import").click().run()
    assert at.error and "zip" in at.error[0].value.lower()
    assert rows(at) == ["from elsewhere"]


def test_an_import_says_what_it_left_out(store):
    import io
    import zipfile

    other = new_workspace_id()
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(store.export_zip(other, seed_run(store, other, "damaged window", 15)))) as src, \
            zipfile.ZipFile(buffer, "w") as out:
        for name in src.namelist():
            out.writestr(name, src.read(name))
        out.writestr("snapshot.npz", b"torn")
    at = app(new_workspace_id(), page="runs")
    at.file_uploader(key="runs_import_file").set_value(("w.zip", buffer.getvalue(), "application/zip")).run()
    at.button(key="runs_import").click().run()
    assert "Imported w.zip" in at.success[0].value and rows(at) == ["damaged window"]
    assert any("snapshot.npz" in i.value and "left out" in i.value for i in at.info)


def test_the_quota_removes_the_oldest_unpinned_run_and_says_so(store, monkeypatch):
    from rnnlab.ui.runstore import run_store

    monkeypatch.setattr(run_store(), "quota", Quota(max_runs=2, max_mb=500))
    ws = new_workspace_id()
    seed_run(store, ws, "oldest", 10)
    seed_run(store, ws, "newer", 10)
    data = store.export_zip(ws, store.list_runs(ws)[1].id)
    at = app(ws, page="runs")
    at.file_uploader(key="runs_import_file").set_value(("copy.zip", data, "application/zip")).run()
    at.button(key="runs_import").click().run()
    assert any("'oldest'" in i.value and "removed" in i.value for i in at.info)
    assert rows(at) == ["newer", "newer"]


def test_a_workspace_left_alone_past_its_grace_period_is_paused_and_saved(store, monkeypatch):
    from rnnlab.ui import session

    monkeypatch.setenv("RNNLAB_GRACE_SECONDS", "0.5")
    ws = session.for_id(new_workspace_id())
    old_tab, reloaded = session._Attachment(), session._Attachment()  # two sessions of one browser
    old_tab.hold(ws)
    run = ws.start(CONFIG)
    reloaded.hold(ws)
    assert run.wait_until(lambda v: v.step > 20, timeout=60)
    old_tab.release()  # the reloaded tab is still there: the run goes on
    time.sleep(1.5)
    assert run.alive and session.for_id(ws.id) is ws
    reloaded.release()
    run.join(timeout=60)
    info = store.get(ws.id, run.run_id)
    assert info.status == "paused" and info.resumable and "tab stayed closed" in info.message
    assert info.weights_step == info.step >= 20
    deadline = time.monotonic() + 30
    while ws.id in session._REGISTRY:  # it leaves memory (just after its run ended); a visit reopens it
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert session.for_id(ws.id).current.run_id == run.run_id  # reopened from the store, its last run shown


def test_a_run_whose_folder_is_gone_is_listed_and_says_why_when_opened(store):
    import shutil

    ws = new_workspace_id()
    gone = seed_run(store, ws, "gone", 12)
    seed_run(store, ws, "kept", 12)
    shutil.rmtree(store.folder(gone).path)
    at = app(ws, page="runs")
    assert rows(at) == ["gone", "kept"] and not at.exception
    at.switch_page("../pages/train.py").run()  # the latest run, kept, is the current one
    assert step_count(at) == 12 and not at.error
    from rnnlab.ui.session import for_id

    for_id(ws).open(gone)  # as the Open button does
    at.run()
    assert at.error and "folder of run 'gone' is missing" in at.error[0].value
    at.switch_page("../pages/inside.py").run()
    assert not at.exception  # an untrained model instead, no traceback


def test_a_resumed_run_stopped_at_once_keeps_its_past(store):
    ws = new_workspace_id()
    run_id = seed_run(store, ws, "cut short", 30, status="interrupted", weights_at=20)
    at = app(ws, page="runs", query={"steps": "1000000"})
    at.button(key="runs_resume").click().run()
    at.switch_page("../pages/train.py").run()
    at.button(key="btn_train").click().run()  # replaces it, perhaps before it took a step
    wait_until(at, lambda a: step_count(a) > 0)
    info = store.get(ws, run_id)
    assert info.deleted is None and info.status in ("stopped", "paused") and info.step >= 20
    assert len(store.load_history(ws, run_id)) >= 20
