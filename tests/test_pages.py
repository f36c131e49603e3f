"""Every page, headless through Streamlit's AppTest: controls, links, the run cycle, uploads."""

import json
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from rnnlab.jobs.runner import live_jobs
from rnnlab.learn.history import lr_changes

ROOT = Path(__file__).resolve().parent.parent
ENTRY = Path(__file__).resolve().parent / "app_entry.py"

BUTTONS = ["Train", "Pause", "Resume", "Step", "Reset"]


def app(query: dict | None = None, page: str | None = None) -> AppTest:
    at = AppTest.from_file(str(ENTRY), default_timeout=60)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    at.run()
    if page:
        at.switch_page(f"../{page}").run()
    assert not at.exception, at.exception
    return at


def metric(at: AppTest, label: str) -> str:
    """An st.metric's value, or one of the Train page's live metrics (live_metric)."""
    return next((m.value for m in at.metric if m.label == label), None) or live_metric(at, label)["value"]


def live_metric(at: AppTest, label: str) -> dict:
    """One of the Train page's live metrics (rnnlab.ui.live_chart.live_metrics) as the page sent it:
    label, value, and its help and note (the grey line under it) where it has them."""
    for element in at.get("bidi_component"):
        data = json.loads(element.proto.json)
        if data.get("kind") == "metrics":
            return next(row for row in data["metrics"] if row["label"] == label)
    raise AssertionError("no live metrics on the page")


def share_link(at: AppTest) -> str | None:
    """The sidebar's "Share these settings" link (rnnlab.ui.copy_link), or None when the sidebar has none."""
    for element in at.sidebar.get("bidi_component"):
        data = json.loads(element.proto.json)
        if "link" in data:
            return data["link"]
    return None


def step_count(at: AppTest) -> int:
    return int(metric(at, "Step").replace(",", ""))


def wait_until(at: AppTest, predicate, timeout=20.0):
    deadline = time.monotonic() + timeout
    while True:
        at.run()
        assert not at.exception, at.exception
        if predicate(at):
            return
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


@pytest.fixture(autouse=True)
def no_job_left_behind():
    before = live_jobs()
    yield
    from rnnlab.jobs import runner

    for run in list(runner._live):
        run.stop()
    assert live_jobs() <= before
    # AppTest gives every test the same session id, so the session's workspace would carry over.
    from rnnlab.ui.session import WORKSPACES

    for ws in list(WORKSPACES):
        ws.close()


def test_train_page_has_exactly_the_five_buttons():
    at = app()
    assert [b.label for b in at.button] == BUTTONS
    assert at.header[0].value.startswith("Train")


def test_sidebar_has_a_control_for_every_setting_that_matters():
    at = app()
    keys = {w.key for w in [*at.selectbox, *at.slider, *at.select_slider, *at.number_input, *at.toggle]}
    for name in ("data", "noise", "seed", "cell", "hidden", "layers", "bidirectional", "dropout", "head",
                 "horizon", "regime", "seq_len", "batch", "optimizer", "lr", "clip", "loss", "steps"):
        assert f"cfg_{name}" in keys


def test_a_link_sets_the_sidebar_and_keeps_the_preset():
    at = app({"preset": "udacity-sine", "steps": "1000000"})
    assert at.session_state["cfg_cell"] == "rnn"
    assert at.session_state["cfg_regime"] == "streaming"
    assert at.session_state["cfg_steps"] == 1_000_000
    assert at.query_params["preset"] == ["udacity-sine"] or at.query_params["preset"] == "udacity-sine"


def test_a_bad_link_warns_and_falls_back():
    at = app({"hidden": "100000", "cell": "banana"})
    warnings = " ".join(w.value for w in at.warning)
    assert "hidden must be between 1 and 512" in warnings and "cell must be one of" in warnings
    assert at.session_state["cfg_hidden"] == 32 and at.session_state["cfg_cell"] == "lstm"


def test_moving_a_slider_writes_the_url():
    at = app()
    at.select_slider(key="cfg_hidden").set_value(64).run()
    assert str(at.query_params["hidden"]).strip("[]'\"") == "64"


def test_choosing_a_preset_loads_its_settings():
    at = app()
    at.selectbox(key="preset_choice").set_value("lstm-load").run()
    assert at.session_state["cfg_data"] == "load" and at.session_state["cfg_head"] == "last"


def test_train_pause_step_reset_cycle():
    at = app({"preset": "udacity-sine", "steps": "1000000"})
    at.button(key="btn_train").click().run()
    wait_until(at, lambda a: step_count(a) > 10)
    # the live metrics, loss curve and prediction vs target (rnnlab.ui.live_chart)
    assert len(at.main.get("bidi_component")) == 3

    at.button(key="btn_pause").click().run()
    paused_at = step_count(at)
    time.sleep(0.3)
    at.run()
    assert step_count(at) == paused_at
    assert at.button(key="btn_resume").disabled is False and at.button(key="btn_pause").disabled is True

    at.button(key="btn_step").click().run()
    assert step_count(at) == paused_at + 1

    at.button(key="btn_resume").click().run()
    wait_until(at, lambda a: step_count(a) > paused_at + 5)

    at.button(key="btn_reset").click().run()
    wait_until(at, lambda a: step_count(a) == 0 and not a.button(key="btn_resume").disabled)


def current_run():
    from rnnlab.ui.session import WORKSPACES

    return next(ws.current for ws in WORKSPACES if ws.current is not None)


@pytest.mark.parametrize("button", ["btn_train", "btn_step", "btn_reset"])
def test_a_click_that_comes_with_a_changed_slider_runs_the_changed_value(button):
    # One script run carries both the slider's new value and the click, as when the click interrupts the run
    # the slider started: the callback runs before any script has seen 64.
    at = app({"preset": "udacity-sine", "steps": "1000000"})
    assert at.session_state["cfg_hidden"] != 64
    at.select_slider(key="cfg_hidden").set_value(64)
    at.button(key=button).click().run()
    assert not at.exception, at.exception
    assert current_run().config.model.hidden == 64
    assert str(at.query_params["hidden"]).strip("[]'\"") == "64"


def test_a_click_that_comes_with_settings_that_cannot_run_starts_nothing_and_says_why():
    at = app({"regime": "windowed", "hidden": "512"})
    at.button(key="btn_train").click().run()
    first = current_run()
    at.select_slider(key="cfg_batch").set_value(1024)  # 512 x 1024 x 20 activations per step: refused
    at.button(key="btn_train").click().run()
    assert not at.exception, at.exception
    assert current_run() is first
    assert at.button(key="btn_train").disabled
    assert any("cannot run" in e.value for e in at.error)


def test_a_finished_run_says_so():
    at = app({"preset": "udacity-sine"})
    at.button(key="btn_train").click().run()
    wait_until(at, lambda a: any("Finished: 75 steps" in s.value for s in a.success))


def test_a_diverging_run_says_so():
    at = app({"cell": "rnn_relu", "optimizer": "sgd", "lr": "10", "momentum": "0.99", "steps": "2000"})
    at.button(key="btn_train").click().run()
    wait_until(at, lambda a: any("Diverged" in e.value for e in a.error))


def test_the_learning_rate_changes_during_a_run_without_a_reset():
    at = app({"steps": "1000000"})
    at.button(key="btn_train").click().run()
    wait_until(at, lambda a: step_count(a) > 5)
    at.select_slider(key="cfg_lr").set_value(0.001).run()
    from rnnlab.jobs import runner
    from rnnlab.ui.session import Workspace  # noqa: F401  (the session's run is reachable through the runner)

    run = next(iter(runner._live))
    wait_until(at, lambda a: run.view().lr == pytest.approx(0.001))
    assert run.history.column("step")[0] == 1
    # The run's config stays as it started; the change is in its history, at the step it took effect.
    assert run.config.train.lr == 0.01
    # a rate changed live is not a difference (the verdict's advice may say "a different learning rate")
    assert not any("settings differ" in note.value for note in at.info), [n.value for n in at.info]
    (changed_at, rate), = lr_changes(run.history_frame(), run.config.train.lr)
    assert rate == 0.001 and changed_at > 5


def trace_of(at: AppTest):
    """The Shapes page's trace table, its tensor names as a column."""
    return at.table[0].value.reset_index()


def test_shapes_page_shows_states_and_reshapes():
    at = app({"cell": "lstm", "layers": "2"}, page="pages/shapes.py")
    table = trace_of(at)
    names = list(table["tensor"])
    for name in ("batch", "x", "h_0", "c_0", "layer 1 output", "layer 2 output", "h_n", "c_n", "out (flat)", "y"):
        assert name in names
    shapes = dict(zip(table["tensor"], table["shape"], strict=True))
    assert shapes["h_0"] == "(2, 16, 32)" and shapes["x"] == "(16, 20, 1)"


def test_shapes_page_follows_batch_first_and_the_cell():
    at = app({"cell": "gru", "bidirectional": "1", "head": "last"}, page="pages/shapes.py")
    assert "c_0" not in list(trace_of(at)["tensor"])
    at.toggle(key="shapes_batch_first").set_value(False).run()
    shapes = dict(zip(trace_of(at)["tensor"], trace_of(at)["shape"], strict=True))
    assert shapes["x (time first)"] == "(20, 16, 1)" and shapes["out"] == "(20, 16, 64)"


def test_shapes_page_counts_parameters():
    at = app({"cell": "lstm", "hidden": "32"}, page="pages/shapes.py")
    params = at.dataframe[0].value
    assert 4 * 32 * (1 + 32) + 8 * 32 in list(params["parameters"])


def test_data_page_plots_the_series_and_its_split():
    at = app(page="pages/data.py")
    assert len(at.get("plotly_chart")) == 1
    assert {m.label for m in at.metric} >= {"Rows", "Train", "Validation", "Test"}


def test_a_bad_csv_shows_a_sentence_and_the_app_keeps_working():
    at = app(page="pages/data.py")
    at.file_uploader(key="csv_upload").set_value(("bad.csv", b"\x00\x01\x02garbage\xff\xfe", "text/csv")).run()
    assert not at.exception
    assert at.error and "bad.csv" in at.error[0].value
    at.switch_page("../pages/train.py").run()
    at.button(key="btn_train").click().run()
    wait_until(at, lambda a: step_count(a) > 0)


def test_an_uploaded_csv_becomes_the_series():
    rows = "\n".join(f"2024-01-{d:02d},{10 + d % 7}.5,{d}" for d in range(1, 29))
    csv = f"date,sales,promo\n{rows}\n".encode()
    at = app({"seq_len": "5", "val": "0.2", "test": "0.2"}, page="pages/data.py")
    at.file_uploader(key="csv_upload").set_value(("sales.csv", csv, "text/csv")).run()
    assert at.selectbox(key="csv_time").value == "date"
    at.button(key="csv_use").click().run()
    assert at.session_state["cfg_data"] == "upload"
    assert not at.error
    # The Data page now shows the uploaded 28 rows (the default series has 1,000), split 16/6/6 by the fractions.
    shown = {m.label: m.value for m in at.metric}
    assert {name: shown.get(name) for name in ("Rows", "Train", "Validation", "Test")} == {
        "Rows": "28", "Train": "16", "Validation": "6", "Test": "6"}


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_inside_page_draws_states_gates_and_gradients(cell):
    at = app({"cell": cell, "seq_len": "30"}, page="pages/inside.py")
    charts = at.main.get("bidi_component")  # live charts (rnnlab.ui.live_chart)
    # h heatmap (+ c for LSTM), gates (none for a plain RNN), gradient through time
    assert len(charts) == {"rnn": 2, "lstm": 4, "gru": 3}[cell]
    if cell == "rnn":
        assert "no gates" in at.info[0].value
    at.toggle(key="inside_compare").set_value(True).run()
    assert not at.exception
    figure = json.loads(at.main.get("bidi_component")[-1].proto.json)["figure"]
    # the three fresh cells by their names, the run's own model beside them
    assert [trace["name"] for trace in figure["data"]] == ["RNN (fresh)", "LSTM (fresh)", "GRU (fresh)",
                                                           {"rnn": "RNN", "lstm": "LSTM", "gru": "GRU"}[cell]]


def test_inside_page_follows_the_current_run():
    at = app({"preset": "udacity-sine", "steps": "1000000"})
    at.button(key="btn_train").click().run()
    wait_until(at, lambda a: step_count(a) > 20)
    at.button(key="btn_pause").click().run()
    at.switch_page("../pages/inside.py").run()
    assert not at.exception
    assert any("the current run at step" in c.value for c in at.caption)


def test_forecast_page_scores_the_model_against_the_baselines():
    at = app({"preset": "udacity-sine", "steps": "300"})
    at.button(key="btn_train").click().run()
    wait_until(at, lambda a: any("Finished" in s.value for s in a.success))
    at.switch_page("../pages/forecast.py").run()
    assert not at.exception
    table = at.dataframe[0].value
    assert list(table.index) == ["model (one-step)", "model (free-running)", "last value", "seasonal naive"]
    assert table.loc["model (one-step)", "RMSE"] < table.loc["last value", "RMSE"]
    assert len(at.get("plotly_chart")) == 2


def test_forecast_page_explains_a_part_too_short():
    at = app({"data": "nile", "seq_len": "40"}, page="pages/forecast.py")
    assert not at.exception
    assert at.error and "rows" in at.error[0].value


def test_runs_page_compares_three_cells_and_diffs_two():
    at = app({"preset": "udacity-sine"}, page="pages/runs.py")
    at.button(key="runs_compare").click().run()
    wait_until(at, lambda a: a.dataframe and set(a.dataframe[0].value["status"]) == {"finished"})
    table = at.dataframe[0].value
    assert list(table["cell"]) == ["rnn", "lstm", "gru"]
    assert "compare lstm (lstm)" in at.main.get("bidi_component")[0].proto.json
    assert [b.label for b in at.get("download_button")] == [
        "Download run", "Download history", "Download config", "Download weights", "Export PyTorch script",
        "Export notebook"]


def test_runs_diff_names_the_settings_that_differ():
    from rnnlab.analysis.compare import config_diff
    from rnnlab.config import RunConfig

    a = RunConfig.from_flat({"preset": "udacity-sine"})
    diff = config_diff(a, a.replace(cell="gru", hidden=64))
    assert list(diff["setting"]) == ["cell", "hidden"]
    assert list(diff["second"]) == ["gru", 64]


def test_imported_weights_become_a_paused_run_and_a_mismatch_is_a_sentence():
    from rnnlab.config import RunConfig
    from rnnlab.export import script as export
    from rnnlab.learn.trainer import Trainer

    config = RunConfig.from_flat({"preset": "udacity-sine"})
    trainer = Trainer(config)
    for _ in range(10):
        next(trainer)
    weights = export.weights_bytes(trainer.model)
    at = app(page="pages/runs.py")
    at.file_uploader(key="import_config").set_value(("c.json", config.to_json().encode(), "application/json"))
    at.file_uploader(key="import_weights").set_value(("w.pt", weights, "application/octet-stream")).run()
    assert at.success and "fits" in at.success[0].value
    at.button(key="import_load").click().run()
    at.switch_page("../pages/train.py").run()
    wait_until(at, lambda a: not a.button(key="btn_resume").disabled)

    wrong = config.replace(hidden=16).to_json().encode()
    at.switch_page("../pages/runs.py").run()
    at.file_uploader(key="import_config").set_value(("c.json", wrong, "application/json"))
    at.file_uploader(key="import_weights").set_value(("w.pt", weights, "application/octet-stream")).run()
    assert at.error and "hidden" in at.error[0].value.lower()


def live_runs() -> int:
    return live_jobs()


def test_double_clicking_train_leaves_one_job():
    at = app({"steps": "1000000"})
    at.button(key="btn_train").click().run()
    at.button(key="btn_train").click().run()
    wait_until(at, lambda a: step_count(a) > 0)
    assert live_runs() == 1


def test_train_during_a_run_replaces_it_and_keeps_the_old_one():
    at = app({"steps": "1000000"})
    at.button(key="btn_train").click().run()
    wait_until(at, lambda a: step_count(a) > 5)
    at.button(key="btn_train").click().run()
    wait_until(at, lambda a: step_count(a) > 0)
    assert live_runs() == 1
    at.switch_page("../pages/runs.py").run()
    assert len(at.dataframe[0].value) == 2


def test_reset_during_a_run_leaves_one_paused_job_at_step_zero():
    at = app({"steps": "1000000"})
    at.button(key="btn_train").click().run()
    wait_until(at, lambda a: step_count(a) > 5)
    at.button(key="btn_reset").click().run()
    wait_until(at, lambda a: step_count(a) == 0 and not a.button(key="btn_resume").disabled)
    assert live_runs() == 1


def test_switching_pages_mid_run_does_not_stop_it():
    at = app({"steps": "1000000"})
    at.button(key="btn_train").click().run()
    wait_until(at, lambda a: step_count(a) > 5)
    for page in ("shapes", "data", "inside", "forecast", "runs"):
        at.switch_page(f"../pages/{page}.py").run()
        assert not at.exception, page
    at.switch_page("../pages/train.py").run()
    before = step_count(at)
    wait_until(at, lambda a: step_count(a) > before)
    assert live_runs() == 1


def test_closing_the_session_stops_its_jobs():
    from rnnlab.ui.session import WORKSPACES

    at = app({"steps": "1000000"})
    at.button(key="btn_train").click().run()
    wait_until(at, lambda a: step_count(a) > 5)
    assert live_runs() == 1
    for ws in list(WORKSPACES):
        ws.close()  # what Streamlit's release hook calls when the tab closes
    assert live_runs() == 0


def test_an_oversized_model_is_refused_with_the_reason():
    at = app({"regime": "windowed"})  # a bare visit opens the streaming notebook, where batch does not count
    at.select_slider(key="cfg_hidden").set_value(512)
    at.slider(key="cfg_layers").set_value(4)
    at.select_slider(key="cfg_seq_len").set_value(1000)
    at.select_slider(key="cfg_batch").set_value(1024).run()
    assert not at.exception
    assert "activations per step" in at.sidebar.error[0].value


def test_the_sidebar_offers_a_link_that_carries_the_settings():
    at = app({"preset": "udacity-sine", "hidden": "48"})
    link = share_link(at)
    assert "preset=udacity-sine" in link and "hidden=48" in link
