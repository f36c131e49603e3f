"""The Sweep page headless (AppTest): choose, start, watch the study fill, open the best in Train."""

import json
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from rnnlab.jobs.runner import live_jobs

ENTRY = Path(__file__).resolve().parent / "app_entry.py"
# A small, quick run as the fixed settings (the sidebar's), so that trials last a fraction of a second.
SMALL = {"data": "sine", "length": "300", "seq_len": "10", "batch": "8", "hidden": "8", "eval_every": "10",
         "steps": "60"}
pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def no_sweep_left_behind():
    yield
    from rnnlab.ui.sweep import SESSIONS

    for session in list(SESSIONS):
        session.stop()
        session.sweep = None
    assert live_jobs() == 0


def sweep_page() -> AppTest:
    at = AppTest.from_file(str(ENTRY), default_timeout=60)
    for key, value in SMALL.items():
        at.query_params[key] = value
    at.run()
    at.switch_page("../pages/sweep.py").run()
    assert not at.exception, at.exception
    return at


def button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


def test_the_page_offers_the_settings_table_and_refuses_a_bad_range():
    at = sweep_page()
    assert at.multiselect(key="sweep_names").value == ["lr", "hidden", "cell"]
    assert "horizon" not in at.multiselect(key="sweep_names").options  # it cannot be swept
    at.number_input(key="sweep_hidden_lo").set_value(64).run()
    at.number_input(key="sweep_hidden_hi").set_value(16).run()
    assert any("inverted" in w.value for w in at.warning)
    assert button(at, "Start sweep").disabled


def test_a_start_that_comes_with_a_changed_trial_count_runs_that_count():
    # One script run carries both the new count and the click (a click that interrupts the run the count
    # started): the sweep gets what the page shows. A browser test once got the 20 trials of the run before.
    from rnnlab.ui.sweep import SESSIONS

    at = sweep_page()
    at.number_input(key="sweep_trials").set_value(2)
    at.number_input(key="sweep_workers").set_value(1)
    button(at, "Start sweep").click().run()
    assert not at.exception, at.exception
    (session,) = [s for s in SESSIONS if s.sweep is not None]
    assert session.sweep.spec.trials == 2 and session.sweep.workers == 1
    session.stop()


def test_a_sweep_fills_the_table_and_opens_its_best_in_train():
    at = sweep_page()
    at.number_input(key="sweep_trials").set_value(3).run()
    at.multiselect(key="sweep_cell").set_value(["rnn", "gru"]).run()
    button(at, "Start sweep").click().run()
    assert not at.exception, at.exception
    deadline = time.monotonic() + 120
    while True:
        at.run()
        assert not at.exception, at.exception
        table = at.dataframe[0].value if len(at.dataframe) else None
        if table is not None and table["state"].isin(["complete", "pruned", "failed"]).sum() == 3 \
                and button(at, "Stop sweep").disabled:
            break
        assert time.monotonic() < deadline, "the sweep did not finish"
        time.sleep(0.5)
    assert list(table["number"]) == [0, 1, 2] and "complete" in set(table["state"])
    assert set(table["cell"]) <= {"rnn", "gru"}
    best = table[table["state"] == "complete"].sort_values("value").iloc[0]
    # best so far, curves, parallel coordinates, scatter: live charts that update in place, each with its figure
    charts = {data["name"]: data for data in (json.loads(e.proto.json) for e in at.main.get("bidi_component"))
              if data.get("kind") != "metrics"}
    assert {"sweep_best", "sweep_curves", "sweep_parallel", "sweep_scatter"} <= set(charts)
    assert charts["sweep_parallel"]["figure"]["data"][0]["type"] == "parcoords"
    assert not at.get("plotly_chart")  # none rebuilt (and flashing) on the page's clock
    button(at, "Open the best in Train").click().run()
    assert not at.exception, at.exception
    config = at.session_state["config"]
    assert (config.model.cell, config.model.hidden) == (best["cell"], best["hidden"])
    assert config.train.lr == pytest.approx(best["lr"])
