"""The run store: round trips, workspaces kept apart, migrations, faults as sentences, quota, crashes."""

from __future__ import annotations

import io
import multiprocessing
import os
import signal
import sqlite3
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rnnlab import cli
from rnnlab.config import RunConfig
from rnnlab.learn.history import COLUMNS
from rnnlab.learn.models import build_model
from rnnlab.store import Quota, RunStore, StoreError, default_home, index, new_workspace_id
from rnnlab.store.folder import RunFolder

CONFIG = RunConfig().replace(steps=30, hidden=8)


@pytest.fixture
def store(tmp_path) -> RunStore:
    return RunStore(tmp_path / "home", Quota(max_runs=100, max_mb=500))


def steps_block(start: int, k: int, seed: int = 0) -> np.ndarray:
    """k steps from `start` in History's column order; validation loss every 7th step."""
    rng = np.random.default_rng(seed + start)
    step = np.arange(start, start + k, dtype=float)
    val = np.where(step % 7 == 0, rng.random(k), np.nan)
    return np.stack([step, step // 10, rng.random(k), val, rng.random(k), np.full(k, 1e-3), step / 100])


def same(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and bool(np.array_equal(a, b, equal_nan=True))


def history_block(history) -> np.ndarray:
    return np.stack([history.column(name) for name in COLUMNS])


def model_state(config: RunConfig = CONFIG) -> dict:
    return build_model(config, 1).state_dict()


# --- round trips ------------------------------------------------------------------------------------

@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sizes=st.lists(st.integers(0, 60), min_size=1, max_size=8), seed=st.integers(0, 1000),
       through_writer=st.booleans())
def test_history_blocks_come_back_exactly_in_order(tmp_path_factory, sizes, seed, through_writer):
    store = RunStore(tmp_path_factory.mktemp("home"), Quota(100, 500))
    ws = new_workspace_id()
    run_id = store.create_run(ws, CONFIG, "r").run_id
    blocks, start = [], 0
    for k in sizes:
        blocks.append(steps_block(start, k, seed))
        start += k
    writer = store.writer(ws, run_id, flush_every=0.0 if seed % 2 else 60.0)
    for block in blocks:
        writer.add(block) if through_writer else store.append_history(ws, run_id, block)
    writer.flush()
    loaded = store.load_run(ws, run_id)
    assert same(history_block(loaded.history), np.concatenate(blocks, axis=1))
    info = store.get(ws, run_id)
    assert info.step == (start - 1 if start else 0)
    val = np.concatenate(blocks, axis=1)[COLUMNS.index("val_loss")]
    assert info.best_val == (pytest.approx(np.nanmin(val)) if np.isfinite(val).any() else None)
    # Through a download and an import into another workspace, the history is the same to the bit.
    other = new_workspace_id()
    copy = store.import_zip(other, store.export_zip(ws, run_id)).run_id
    assert same(history_block(store.load_run(other, copy).history), np.concatenate(blocks, axis=1))


def test_config_weights_and_status_round_trip(store):
    ws = new_workspace_id()
    config = CONFIG.replace(cell="gru", lr=0.02)
    run_id = store.create_run(ws, config, "first").run_id
    state = model_state(config)
    store.append_history(ws, run_id, steps_block(0, 20))
    store.save_weights(ws, run_id, state, step=19)
    store.set_status(ws, run_id, "finished", step=19, message="Done.")
    loaded = store.load_run(ws, run_id)
    assert loaded.config == config
    assert loaded.weights.keys() == state.keys()
    assert all(torch.equal(loaded.weights[k], state[k]) for k in state)
    assert (loaded.info.status, loaded.info.message, loaded.info.weights_step) == ("finished", "Done.", 19)
    assert loaded.series is None


def test_an_upload_run_keeps_its_series(store):
    import pandas as pd

    ws = new_workspace_id()
    series = pd.DataFrame({"a": [1.0, 2.0, 3.5], "b": [0.0, -1.0, 2.0]})
    run_id = store.create_run(ws, CONFIG, "upload", series=series).run_id
    assert store.load_run(ws, run_id).series.equals(series)


def test_rename_notes_pin_and_delete_with_undo(store):
    ws = new_workspace_id()
    run_id = store.create_run(ws, CONFIG, "a").run_id
    store.rename(ws, run_id, "  better name ")
    store.set_notes(ws, run_id, "lr too high")
    store.pin(ws, run_id)
    info = store.get(ws, run_id)
    assert (info.name, info.notes, info.pinned) == ("better name", "lr too high", True)
    with pytest.raises(StoreError, match="empty"):
        store.rename(ws, run_id, "   ")
    store.delete(ws, run_id)
    assert store.list_runs(ws) == []
    assert [r.id for r in store.list_runs(ws, include_deleted=True)] == [run_id]
    store.undo_delete(ws, run_id)
    assert [r.id for r in store.list_runs(ws)] == [run_id]
    store.delete(ws, run_id)
    assert store.purge_deleted(older_than=0.0) == 1
    assert store.list_runs(ws, include_deleted=True) == []
    assert not store.folder(run_id).path.exists()


# --- workspaces -------------------------------------------------------------------------------------

def test_another_workspace_never_sees_or_touches_a_run(store):
    mine, theirs = new_workspace_id(), new_workspace_id()
    run_id = store.create_run(mine, CONFIG, "mine").run_id
    store.append_history(mine, run_id, steps_block(0, 5))
    assert store.list_runs(theirs) == []
    for act in (lambda: store.load_run(theirs, run_id), lambda: store.get(theirs, run_id),
                lambda: store.rename(theirs, run_id, "x"), lambda: store.delete(theirs, run_id),
                lambda: store.pin(theirs, run_id), lambda: store.export_zip(theirs, run_id),
                lambda: store.set_status(theirs, run_id, "stopped"),
                lambda: store.append_history(theirs, run_id, steps_block(5, 5)),
                lambda: store.save_weights(theirs, run_id, {}, 0), lambda: store.writer(theirs, run_id)):
        with pytest.raises(StoreError, match="not in your workspace"):
            act()
    info = store.get(mine, run_id)
    assert (info.name, info.status, info.step, info.deleted) == ("mine", "running", 4, None)
    assert len(store.load_run(mine, run_id).history) == 5


@pytest.mark.parametrize("bad", ["", "short", "x" * 21, "has space in it 0123456789", None, "../../etc/passwd-xxxxxxx"])
def test_a_malformed_workspace_id_is_refused(store, bad):
    with pytest.raises(StoreError, match="workspace id"):
        store.list_runs(bad)


def test_workspace_ids_are_random_and_long():
    ids = {new_workspace_id() for _ in range(200)}
    assert len(ids) == 200 and all(len(i) >= 32 for i in ids)


# --- schema and migrations -----------------------------------------------------------------------------

V1_SCHEMA = """
CREATE TABLE schema_version (version INTEGER NOT NULL);
INSERT INTO schema_version VALUES (1);
CREATE TABLE runs (id TEXT PRIMARY KEY, workspace TEXT NOT NULL, name TEXT NOT NULL, config TEXT NOT NULL,
    status TEXT NOT NULL, message TEXT NOT NULL DEFAULT '', step INTEGER NOT NULL DEFAULT 0, weights_step INTEGER,
    created REAL NOT NULL, updated REAL NOT NULL);
CREATE INDEX runs_by_workspace ON runs (workspace, created);
"""


def test_a_version_1_index_is_migrated_and_keeps_its_runs(tmp_path):
    home, ws = tmp_path / "home", new_workspace_id()
    home.mkdir()
    db = sqlite3.connect(home / "index.sqlite")
    db.executescript(V1_SCHEMA)
    db.execute("INSERT INTO runs VALUES ('abc', ?, 'old run', ?, 'running', '', 12, 10, 1.0, 2.0)",
               (ws, CONFIG.to_json()))
    db.commit()
    db.close()
    RunFolder(home / "runs" / "abc").create(CONFIG).append_history(steps_block(0, 13))
    store = RunStore(home, Quota(100, 500))
    assert index.version(store._db()) == index.VERSION == 2
    [info] = store.list_runs(ws)
    assert (info.id, info.name, info.step, info.weights_step, info.pinned, info.notes) == (
        "abc", "old run", 12, 10, False, "")
    assert store.mark_interrupted_on_startup() == ["abc"]  # no owner was recorded: its server is gone
    assert len(store.load_run(ws, "abc").history) == 13
    store.pin(ws, "abc")  # the new columns work
    assert store.get(ws, "abc").pinned


def test_every_migration_runs_once_from_an_empty_file(tmp_path):
    RunStore(tmp_path, Quota(100, 500))
    store = RunStore(tmp_path, Quota(100, 500))  # reopening finds it current
    assert index.version(store._db()) == index.VERSION
    assert store._db().execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_an_index_from_a_newer_rnnlab_is_refused_with_a_sentence(tmp_path):
    RunStore(tmp_path, Quota(100, 500))
    db = sqlite3.connect(tmp_path / "index.sqlite")
    db.execute("UPDATE schema_version SET version = 99")
    db.commit()
    db.close()
    with pytest.raises(StoreError, match="newer rnnlab"):
        RunStore(tmp_path, Quota(100, 500))


# --- faults -----------------------------------------------------------------------------------------

def test_a_damaged_index_gets_a_sentence(tmp_path):
    (tmp_path / "index.sqlite").write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError, match="damaged"):
        RunStore(tmp_path, Quota(100, 500))


def test_a_locked_index_gets_a_sentence_and_the_store_recovers(tmp_path, monkeypatch):
    store = RunStore(tmp_path, Quota(100, 500))
    ws = new_workspace_id()
    monkeypatch.setattr(index, "BUSY_TIMEOUT_S", 0.05)
    other = RunStore(tmp_path, Quota(100, 500))
    holder = sqlite3.connect(tmp_path / "index.sqlite", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    with pytest.raises(StoreError, match="busy"):
        other.create_run(ws, CONFIG, "blocked")
    holder.execute("ROLLBACK")
    holder.close()
    other.create_run(ws, CONFIG, "fine")
    assert [r.name for r in store.list_runs(ws)] == ["fine"]
    assert len(list((tmp_path / "runs").iterdir())) >= 1


def test_missing_or_damaged_run_files_get_sentences_and_spare_the_others(store):
    ws = new_workspace_id()
    ids = [store.create_run(ws, CONFIG, f"run {i}").run_id for i in range(4)]
    for run_id in ids:
        store.append_history(ws, run_id, steps_block(0, 10))
        store.save_weights(ws, run_id, model_state(), 9)
    import shutil

    shutil.rmtree(store.folder(ids[0]).path)
    (store.folder(ids[1]).path / "config.json").write_text("{ not json")
    (store.folder(ids[2]).path / "weights.pt").write_bytes(b"garbage")
    for run_id, words in zip(ids[:3], ("missing", "config.json", "weights.pt"), strict=True):
        with pytest.raises(StoreError, match=words):
            store.load_run(ws, run_id)
    assert len(store.list_runs(ws)) == 4
    assert len(store.load_run(ws, ids[3]).history) == 10


def test_a_torn_last_row_is_dropped_and_appends_stay_aligned(store):
    ws = new_workspace_id()
    run_id = store.create_run(ws, CONFIG, "torn").run_id
    store.append_history(ws, run_id, steps_block(0, 10))
    with open(store.folder(run_id).path / "history.f64", "ab") as f:
        f.write(b"\x01" * 20)  # a writer killed in the middle of a row
    assert len(store.load_run(ws, run_id).history) == 10
    writer = store.writer(ws, run_id)  # a resumed run
    writer.add(steps_block(10, 5))
    writer.flush()
    assert same(history_block(store.load_run(ws, run_id).history),
                np.concatenate([steps_block(0, 10), steps_block(10, 5)], axis=1))


# --- quota ------------------------------------------------------------------------------------------

def test_the_quota_evicts_the_oldest_unpinned_finished_runs_and_says_which(tmp_path):
    store = RunStore(tmp_path, Quota(max_runs=3, max_mb=500))
    ws, other = new_workspace_id(), new_workspace_id()
    ids = []
    for i in range(3):
        ids.append(store.create_run(ws, CONFIG, f"run {i}", status="finished").run_id)
    store.pin(ws, ids[0])
    store.create_run(other, CONFIG, "theirs", status="finished")  # another workspace's quota is its own
    created = store.create_run(ws, CONFIG, "run 3")
    assert [r.name for r in created.evicted] == ["run 1"]
    assert [r.name for r in store.list_runs(ws)] == ["run 0", "run 2", "run 3"]
    assert not store.folder(ids[1]).path.exists()
    assert [r.name for r in store.list_runs(other)] == ["theirs"]
    # A running run is never evicted, even when that leaves the workspace over its quota.
    store.set_status(ws, ids[2], "running")
    assert store.create_run(ws, CONFIG, "run 4").evicted == []


def test_the_megabyte_quota_counts_history_and_weights(tmp_path):
    store = RunStore(tmp_path, Quota(max_runs=100, max_mb=0.05))  # 50 kB
    ws = new_workspace_id()
    old = store.create_run(ws, CONFIG, "big", status="finished").run_id
    store.append_history(ws, old, steps_block(0, 1000))  # 56 kB of history
    assert store.get(ws, old).bytes > 50_000
    assert [r.id for r in store.enforce_quota(ws)] == [old]
    assert store.list_runs(ws) == []


def test_quota_from_environment(monkeypatch):
    monkeypatch.setenv("RNNLAB_MAX_RUNS", "7")
    monkeypatch.setenv("RNNLAB_MAX_MB", "12.5")
    assert Quota.from_env() == Quota(7, 12.5)
    monkeypatch.setenv("RNNLAB_MAX_RUNS", "lots")
    with pytest.raises(StoreError, match="RNNLAB_MAX_RUNS"):
        Quota.from_env()


def test_default_home_follows_rnnlab_home_then_xdg(monkeypatch, tmp_path):
    monkeypatch.setenv("RNNLAB_HOME", str(tmp_path / "here"))
    assert default_home() == tmp_path / "here"
    monkeypatch.delenv("RNNLAB_HOME")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert default_home() == tmp_path / "xdg" / "rnnlab"
    monkeypatch.delenv("XDG_DATA_HOME")
    assert default_home() == Path.home() / ".local" / "share" / "rnnlab"


# --- export and import --------------------------------------------------------------------------------

def test_a_downloaded_run_imports_into_another_workspace_whole(store):
    ws, friend = new_workspace_id(), new_workspace_id()
    run_id = store.create_run(ws, CONFIG, "shared").run_id
    store.append_history(ws, run_id, steps_block(0, 30))
    store.save_weights(ws, run_id, model_state(), 29)
    store.set_notes(ws, run_id, "look at step 20")
    store.set_status(ws, run_id, "finished", 29, "Done.")
    data = store.export_zip(ws, run_id)
    names = set(zipfile.ZipFile(io.BytesIO(data)).namelist())
    assert {"config.json", "history.csv", "weights.pt", "history.f64", "run.json"} <= names
    copy = store.import_zip(friend, data).run_id
    a, b = store.load_run(ws, run_id), store.load_run(friend, copy)
    assert same(history_block(a.history), history_block(b.history)) and a.config == b.config
    assert all(torch.equal(a.weights[k], b.weights[k]) for k in a.weights)
    assert (b.info.name, b.info.notes, b.info.status, b.info.weights_step) == ("shared", "look at step 20",
                                                                              "finished", 29)


def snapshot_arrays(t: int = 20) -> dict[str, np.ndarray]:
    rows = np.arange(100, 100 + t)
    return {"input_time": rows, "inputs": np.sin(rows / 5), "target_time": rows + 1,
            "targets": np.sin((rows + 1) / 5), "predictions": np.sin((rows + 1) / 5) * 0.9}


def test_a_downloaded_run_keeps_its_last_window(store):
    ws, friend = new_workspace_id(), new_workspace_id()
    run_id = store.create_run(ws, CONFIG, "with window").run_id
    store.append_history(ws, run_id, steps_block(0, 30))
    store.folder(run_id).save_snapshot(snapshot_arrays())
    store.save_weights(ws, run_id, model_state(), 29)
    data = store.export_zip(ws, run_id)
    assert "snapshot.npz" in zipfile.ZipFile(io.BytesIO(data)).namelist()
    created = store.import_zip(friend, data)
    assert created.left_out == ()
    back = store.folder(created.run_id).snapshot()
    assert back is not None and all(np.array_equal(back[k], v) for k, v in snapshot_arrays().items())


def npz_bytes(**arrays) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


@pytest.mark.parametrize("snapshot", [
    b"not an npz at all",
    npz_bytes(x=np.zeros(3)),  # other arrays
    npz_bytes(**{**snapshot_arrays(), "targets": np.zeros(5)}),  # lengths that do not pair up
    npz_bytes(**{**snapshot_arrays(), "inputs": np.array([{"a": 1}] * 20, dtype=object)}),  # a pickle
], ids=["garbage", "other arrays", "lengths", "pickle"])
def test_a_damaged_last_window_is_left_out_with_a_sentence_and_the_run_imports(store, snapshot):
    ws = new_workspace_id()
    created = store.import_zip(ws, zip_of({**GOOD, "snapshot.npz": snapshot}))
    assert len(created.left_out) == 1 and "snapshot.npz" in created.left_out[0]
    assert store.folder(created.run_id).snapshot() is None
    assert list(store.load_run(ws, created.run_id).history.column("loss")) == [1.0, 0.5]


def test_a_command_line_run_folder_imports(store, tmp_path):
    out = tmp_path / "cli-run"
    assert cli.main(["train", "--out", str(out), "--steps", "25", "--hidden", "8", "--quiet"]) == 0
    assert {"config.json", "history.csv", "weights.pt"} <= {p.name for p in out.iterdir()}
    ws = new_workspace_id()
    run_id = store.import_folder(ws, out).run_id
    loaded = store.load_run(ws, run_id)
    assert len(loaded.history) == 25 and loaded.config.train.steps == 25
    assert loaded.info.weights_step == loaded.history.column("step")[-1] and loaded.info.name == "cli-run"
    # Its history.csv alone (as an older rnnlab wrote it) reads the same, and so does the zipped folder.
    for name in ("history.f64", "history.json"):
        (out / name).unlink()
    from_csv = store.load_run(ws, store.import_folder(ws, out).run_id)
    assert same(history_block(from_csv.history), history_block(loaded.history))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        for p in out.iterdir():
            z.write(p, f"cli-run/{p.name}")
    assert len(store.load_run(ws, store.import_zip(ws, buffer.getvalue()).run_id).history) == 25


def zip_of(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        for name, content in files.items():
            z.writestr(name, content)
    return buffer.getvalue()


def weights_file(state) -> bytes:
    buffer = io.BytesIO()
    torch.save(state, buffer)
    return buffer.getvalue()


GOOD = {"config.json": CONFIG.to_json().encode(), "history.csv": b"step,loss\n0,1.0\n1,0.5\n"}


@pytest.mark.parametrize("data, words", [
    (b"plain text, not a zip", "not a zip"),
    (zip_of({"../../evil/config.json": GOOD["config.json"]}), "unsafe path"),
    (zip_of({"/abs/config.json": GOOD["config.json"]}), "unsafe path"),
    (zip_of({"notes.txt": b"hello"}), "no config.json"),
    (zip_of({**GOOD, "config.json": b"{ broken"}), "config.json"),
    (zip_of({**GOOD, "config.json": b'{"model": {"hidden": -3}}'}), "config.json"),
    (zip_of({"config.json": GOOD["config.json"]}), "no history"),
    (zip_of({**GOOD, "history.csv": b"a,b\n1,2\n"}), "no step or loss"),
    (zip_of({**GOOD, "history.csv": b"step,loss\n0,abc\n"}), "non-numeric loss"),
    (zip_of({**GOOD, "weights.pt": b"not torch"}), "weights.pt"),
    (zip_of({**GOOD, "weights.pt": weights_file({"x": torch.zeros(3)})}), "weights.pt"),
    (zip_of({**GOOD, "a/config.json": GOOD["config.json"]}), "two config.json"),
])
def test_an_import_that_is_not_a_run_gets_a_sentence_and_adds_nothing(store, data, words):
    ws = new_workspace_id()
    with pytest.raises(StoreError, match=words):
        store.import_zip(ws, data)
    assert store.list_runs(ws, include_deleted=True) == []
    assert list((store.home / "runs").iterdir()) == []


def test_imports_over_the_size_cap_are_refused_before_unpacking(store, monkeypatch):
    bomb = zip_of({**GOOD, "history.csv": b"step,loss\n" + b"0,1.0\n" * 200_000})  # 1.2 MB that zips small
    monkeypatch.setenv("RNNLAB_MAX_IMPORT_MB", "0.5")
    assert len(bomb) < 500_000
    with pytest.raises(StoreError, match="import limit"):
        store.import_zip(new_workspace_id(), bomb)


def test_a_good_minimal_zip_imports(store):
    ws = new_workspace_id()
    run = store.load_run(ws, store.import_zip(ws, zip_of({**GOOD, "weights.pt": weights_file(model_state())})).run_id)
    assert list(run.history.column("loss")) == [1.0, 0.5] and run.info.weights_step == 1


# --- processes ----------------------------------------------------------------------------------------

# Forked, not spawned: the children need nothing but the store, and a fresh interpreter importing torch
# would cost seconds per process on a busy machine.
FORK = multiprocessing.get_context("fork")


def counting_block(start: int, k: int) -> np.ndarray:
    step = np.arange(start, start + k, dtype=float)
    return np.stack([step, step, np.sin(step), np.full(k, np.nan), step, np.full(k, 0.1), step])


def write_until_killed(home: Path, ws: str, report) -> None:
    store = RunStore(home, Quota(100, 500))
    run_id = store.create_run(ws, CONFIG, "crashing").run_id
    store.save_weights(ws, run_id, {"w": torch.ones(3)}, 0)
    writer, step = store.writer(ws, run_id, flush_every=0.1), 0
    while True:
        writer.add(counting_block(step, 10))
        step += 10
        if not writer.unflushed:  # just flushed: every step before `step` is on disk
            report.send(step)
        time.sleep(0.005)


def test_a_killed_writer_loses_at_most_its_last_unflushed_block(tmp_path):
    ws = new_workspace_id()
    ours, theirs = FORK.Pipe()
    process = FORK.Process(target=write_until_killed, args=(tmp_path, ws, theirs), daemon=True)
    process.start()
    flushed = 0
    try:
        while flushed < 300:
            assert ours.poll(60), "the writer stopped reporting before it was killed"
            flushed = ours.recv()
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.join()
    while ours.poll(0.1):  # reports sent between our last read and the kill
        flushed = ours.recv()
    store = RunStore(tmp_path, Quota(100, 500))
    [info] = store.list_runs(ws)
    assert info.status == "running"
    assert store.mark_interrupted_on_startup() == [info.id]
    info = store.get(ws, info.id)
    assert info.status == "interrupted" and info.resumable and info.weights_step == 0
    loaded = store.load_run(ws, info.id)
    steps = loaded.history.column("step")
    assert len(steps) >= flushed  # nothing flushed is lost
    assert len(steps) < flushed + 100  # and what is lost is a fraction of a second (0.1 s of 10-step blocks)
    assert np.array_equal(steps, np.arange(len(steps)))  # intact: no gap, no torn row
    assert np.allclose(loaded.history.column("loss"), np.sin(steps))
    assert torch.equal(loaded.weights["w"], torch.ones(3))


def test_a_live_run_of_this_process_is_not_marked_interrupted(store):
    ws = new_workspace_id()
    run_id = store.create_run(ws, CONFIG, "live").run_id
    assert store.mark_interrupted_on_startup() == []
    assert store.get(ws, run_id).status == "running"


def write_runs(home: Path, ws: str, label: str, start) -> None:
    store = RunStore(home, Quota(1000, 5000))
    start.wait()  # both processes write at the same time
    for i in range(6):
        run_id = store.create_run(ws, CONFIG, f"{label} {i}").run_id
        for b in range(10):
            store.append_history(ws, run_id, counting_block(10 * b, 10))
        store.set_status(ws, run_id, "finished", 99)


def test_two_processes_write_one_store_at_once(tmp_path):
    ws = new_workspace_id()
    RunStore(tmp_path, Quota(100, 500))
    start = FORK.Barrier(2)
    processes = [FORK.Process(target=write_runs, args=(tmp_path, ws, label, start)) for label in ("first", "second")]
    for p in processes:
        p.start()
    for p in processes:
        p.join(120)
        assert p.exitcode == 0
    store = RunStore(tmp_path, Quota(100, 500))
    runs = store.list_runs(ws)
    assert sorted(r.name for r in runs) == sorted(f"{m} {i}" for m in ("first", "second") for i in range(6))
    for r in runs:
        assert r.status == "finished" and r.step == 99
        assert np.array_equal(store.load_run(ws, r.id).history.column("step"), np.arange(100))


def test_a_run_name_never_becomes_a_path(store):
    ws = new_workspace_id()
    store.create_run(ws, CONFIG, "../../escape")
    assert {p.name for p in store.home.iterdir()} <= {"index.sqlite", "index.sqlite-wal", "index.sqlite-shm", "runs"}
    [folder] = (store.home / "runs").iterdir()
    assert folder.name == store.list_runs(ws)[0].id and (folder / "config.json").exists()
