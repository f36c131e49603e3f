"""The Train page tells the truth about the run (issue 14): green only for a run that learned, with the evidence;
the learning rate's changes said and marked; Steps/s is the current rate (a dash when no step is taken);
long runs say the time left."""

from __future__ import annotations

import json
import math
from dataclasses import replace

import pytest

from rnnlab.jobs.runner import RunView
from rnnlab.ui import run_status
from tests.test_pages import (  # noqa: F401 (fixture)
    app,
    live_metric,
    metric,
    no_job_left_behind,
    step_count,
    wait_until,
)


def _ended(at) -> bool:
    boxes = [*at.success, *at.info, *at.warning, *at.error]
    return any("Finished: " in box.value for box in boxes)


def _boxes(at) -> str:
    return " ".join(box.value for box in [*at.success, *at.info, *at.warning, *at.error])


@pytest.mark.parametrize("seed", [0, 2])
def test_a_run_at_a_learning_rate_that_fails_ends_without_a_success_message(seed):
    # Adam at learning rate 1 on the notebook's sine: a flat prediction, tens of times worse than the last value
    at = app({"preset": "udacity-sine", "lr": "1", "seed": str(seed)})
    at.button(key="btn_train").click().run()
    wait_until(at, _ended, timeout=60)
    assert not at.success
    warning = " ".join(w.value for w in at.warning)
    assert "Finished: 75 steps." in warning and "Did not learn" in warning
    assert "trivial answer" in warning and "lower learning rate" in warning  # the evidence and what to try


def test_a_run_that_learned_ends_green_with_its_evidence():
    at = app({"preset": "udacity-sine"})
    at.button(key="btn_train").click().run()
    wait_until(at, lambda a: any("Finished: 75 steps" in s.value for s in a.success), timeout=60)
    text = at.success[0].value
    assert "Learned" in text and "times lower than the trivial answer" in text


def test_steps_per_second_is_a_dash_when_paused_and_the_rate_says_so_while_running():
    at = app({"preset": "udacity-sine", "steps": "1000000"})
    at.select_slider(key="speed").set_value(20).run()
    at.button(key="btn_train").click().run()
    wait_until(at, lambda a: step_count(a) > 10, timeout=60)
    running = metric(at, "Steps/s")
    # a million steps at 20 a second: the time left is said under the rate
    assert "left" in live_metric(at, "Steps/s")["note"]
    assert running != "–" and 0 < float(running.replace(",", "")) < 200  # the chosen 20, not a peak of hundreds
    at.button(key="btn_pause").click().run()
    wait_until(at, lambda a: metric(a, "Steps/s") == "–")
    paused_at = step_count(at)
    at.run()
    assert metric(at, "Steps/s") == "–" and step_count(at) == paused_at
    assert not live_metric(at, "Steps/s")["note"]  # no time left while paused


def test_a_live_learning_rate_change_is_said_and_marked_on_the_loss_chart():
    at = app({"preset": "udacity-sine", "steps": "1000000"})
    at.select_slider(key="speed").set_value(50).run()
    at.button(key="btn_train").click().run()
    wait_until(at, lambda a: step_count(a) > 5, timeout=60)
    at.select_slider(key="cfg_lr").set_value(0.001).run()
    wait_until(at, lambda a: "Learning rate changed at step" in _boxes(a), timeout=30)
    at.button(key="btn_pause").click().run()
    assert "0.01 → 0.001" in _boxes(at)
    loss_chart = next(c for c in at.get("bidi_component") if "loss_chart" in str(c.proto))
    layout = json.loads(loss_chart.proto.json)["figure"]["layout"]
    assert [a["text"] for a in layout["annotations"]] == ["lr 0.01 → 0.001"]
    assert layout["shapes"][0]["x0"] > 5  # at the step it took effect


# --- rate and time left, from a RunView ----------------------------------------------------------

VIEW = RunView(phase="running", step=1_000, steps=100_000, loss=0.1, val_loss=0.1, lr=0.01, steps_per_s=50.0,
               message="", queue_position=0, version=1, snapshot=None, status="running")


@pytest.mark.parametrize("phase", ["paused", "finished", "stopped", "error", "starting"])
def test_no_rate_and_no_time_left_unless_steps_are_being_taken(phase):
    view = replace(VIEW, phase=phase)
    assert run_status.rate_text(view) == "–" and run_status.time_left(view) == "–"


def test_the_rate_is_the_views_current_one_and_the_time_left_follows_from_it():
    assert run_status.rate_text(VIEW) == "50"
    assert run_status.time_left(VIEW) == "about 33 min"  # 99,000 steps at 50 a second
    assert run_status.time_left(replace(VIEW, step=99_900)) == "–"  # two seconds: not worth a number
    assert run_status.time_left(replace(VIEW, steps_per_s=0.0)) == "–"


@pytest.mark.parametrize(("seconds", "text"), [(45, "45 s"), (600, "10 min"), (7500, "2 h 5 min"), (7200, "2 h"),
                                               (math.inf, "a very long time")])
def test_durations_read_as_a_person_says_them(seconds, text):
    assert run_status.duration(seconds) == text
