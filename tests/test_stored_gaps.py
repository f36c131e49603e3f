"""Stored runs opened in the pages as fully as live ones (issue 11, follow-ups): weights to download only when
saved, the exports of an upload run carry its own series, the last window is kept and drawn, Train's Resume
resumes a stored run, and new runs are numbered past every name the workspace holds."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rnnlab.config import RunConfig
from rnnlab.export.script import export_script
from rnnlab.learn.history import COLUMNS
from rnnlab.store import RunStore, new_workspace_id
from tests.test_runs_store_pages import CONFIG, app, seed_run, step_count, wait_until


@pytest.fixture
def store() -> RunStore:
    return RunStore()


@pytest.fixture(autouse=True)
def no_workspace_left_behind():
    yield
    from rnnlab.ui.session import WORKSPACES

    for ws in list(WORKSPACES):
        ws.close()


def history_block(steps: int) -> np.ndarray:
    block = np.full((len(COLUMNS), steps), np.nan)
    block[COLUMNS.index("step")] = np.arange(1, steps + 1)
    block[COLUMNS.index("loss")] = np.linspace(1.0, 0.5, steps)
    block[COLUMNS.index("lr")] = CONFIG.train.lr
    return block


def weights_button(at):
    return next(b for b in at.get("download_button") if b.proto.label == "Download weights")


def window_chart(at) -> str:
    return next(c.proto.json for c in at.get("bidi_component") if "window_chart" in c.proto.id)


def test_weights_download_is_off_with_a_sentence_when_the_stored_run_has_none(store):
    ws = new_workspace_id()
    with_weights = seed_run(store, ws, "saved", 10)
    bare, _ = store.create_run(ws, CONFIG, "never saved", status="running")
    store.append_history(ws, bare, history_block(8))
    store.set_status(ws, bare, "interrupted", 8, "The server stopped.")
    at = app(ws)  # Train, on the latest run: the one without weights
    assert step_count(at) == 8
    assert weights_button(at).proto.disabled
    assert any("no saved weights" in c.value for c in at.caption)
    assert at.button(key="btn_resume").disabled  # nothing to resume from either
    from rnnlab.ui.session import for_id

    for_id(ws).open(with_weights)
    at.run()
    assert not weights_button(at).proto.disabled and not any("no saved weights" in c.value for c in at.caption)


def series(seed: int) -> pd.DataFrame:
    t = np.arange(200)
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"level": np.sin(t / (6 + seed)) + 0.1 * rng.standard_normal(200)})


def test_exports_of_a_stored_upload_run_use_its_own_series_not_todays_upload(store):
    from rnnlab.ui import exports
    from rnnlab.ui.session import for_id

    config = RunConfig.from_flat({"data": "upload", "steps": 20, "seq_len": 12, "eval_every": 10})
    ws = new_workspace_id()
    own, today = series(1), series(2)
    run_id, _ = store.create_run(ws, config, "on an upload", status="running", series=own)
    store.append_history(ws, run_id, history_block(5))
    store.set_status(ws, run_id, "stopped", 5)
    workspace = for_id(ws)
    workspace.upload = today  # another CSV loaded since
    at = app(ws)
    assert step_count(at) == 5 and not at.exception
    run = workspace.current
    assert run.run_id == run_id
    chosen = exports._series(run)
    assert np.allclose(chosen["level"], own["level"])
    assert export_script(config, chosen) == export_script(config, own) != export_script(config, today)
    script = next(b for b in at.get("download_button") if b.proto.label == "Export PyTorch script")
    assert not script.proto.disabled
    # A folder whose series is gone: the script and notebook are off, with the reason, not a traceback on click.
    (store.folder(run_id).path / "series.csv").unlink()
    workspace.open(run_id)
    at.run()
    assert not at.exception
    off = [b.proto.disabled for b in at.get("download_button") if b.proto.label.startswith("Export")]
    assert off == [True, True] and any("uploaded CSV that was not kept" in c.value for c in at.caption)


def test_the_last_window_is_saved_with_the_weights_and_drawn_for_the_stored_run(store):
    from rnnlab.ui.session import for_id

    ws = new_workspace_id()
    workspace = for_id(ws)
    run = workspace.start(CONFIG.replace(steps=40))
    run.join(timeout=120)
    assert run.view().phase == "finished"
    snapshot = run.view().snapshot
    saved = store.folder(run.run_id).snapshot()
    assert saved is not None and np.allclose(saved["predictions"], snapshot.predictions)
    workspace.close()  # a restart: the run comes back from the store only
    at = app(ws)
    assert step_count(at) == 40
    chart = window_chart(at)
    assert "prediction" in chart and "target" in chart
    # A folder written before snapshots were kept opens as before, with the empty window.
    (store.folder(run.run_id).path / "snapshot.npz").unlink()
    for_id(ws).close()
    at = app(ws)
    assert step_count(at) == 40 and not at.exception and "prediction" not in window_chart(at)


def test_a_damaged_snapshot_is_skipped(store, tmp_path):
    from rnnlab.store.folder import RunFolder

    folder = RunFolder(tmp_path / "run").create(CONFIG)
    assert folder.snapshot() is None
    folder.save_snapshot({"predictions": np.arange(3.0)})
    assert np.array_equal(folder.snapshot()["predictions"], np.arange(3.0))
    (folder.path / "snapshot.npz").write_bytes(b"PK\x03\x04 not really")
    assert folder.snapshot() is None


def test_resume_on_train_resumes_the_stored_run_from_its_weights(store):
    ws = new_workspace_id()
    run_id = seed_run(store, ws, "cut short", 30, status="interrupted", weights_at=20)
    at = app(ws, query={"steps": "1000000"})
    assert step_count(at) == 30
    assert any("**Resume** goes on from step 20" in c.value for c in at.caption)
    assert not at.button(key="btn_resume").disabled
    at.button(key="btn_resume").click().run()
    assert not at.exception
    wait_until(at, lambda a: step_count(a) > 40)
    assert store.get(ws, run_id).status == "running"
    from rnnlab.ui.session import for_id

    live = for_id(ws).current
    live.stop(timeout=30)
    live.join(timeout=30)  # its recorder has written the last block
    kept = store.load_history(ws, run_id).column("step")
    assert len(kept) > 40 and np.array_equal(kept, np.arange(1, len(kept) + 1))  # 21 follows 20, once
    assert [r.id for r in store.list_runs(ws)] == [run_id]  # the same run, not a new one


def test_new_runs_are_numbered_past_the_highest_name_after_deletes(store):
    ws = new_workspace_id()
    first = seed_run(store, ws, "run 1", 5)
    seed_run(store, ws, "run 2", 5)
    store.discard(ws, first)  # purged for good: one run left, named "run 2"
    at = app(ws, query={"preset": "udacity-sine", "steps": "5"})
    at.button(key="btn_train").click().run()
    names = [r.name for r in store.list_runs(ws)]
    assert names == ["run 2", "run 3"]
    seed_run(store, ws, "run 7 compare lstm", 5)
    store.delete(ws, store.list_runs(ws)[-1].id)  # deleted, still undoable: its number stays taken
    at.button(key="btn_train").click().run()
    assert store.list_runs(ws)[-1].name == "run 8"
