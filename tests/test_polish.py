"""Small polish, headless through AppTest: settings.apply_config, the forget-gate bias slider and the Inside
page's bias toggle, the short option words, one "press Train" box on the landing page."""

from __future__ import annotations

import json

import pytest
from test_pages import app, no_job_left_behind  # noqa: F401  (the fixture stops every job a test starts)

from rnnlab import glossary, lessons
from rnnlab.ui import settings


def captions(at) -> str:
    return "\n".join(c.value for c in at.caption)


def test_set_this_up_applies_the_step_through_apply_config_with_its_note():
    assert not hasattr(settings, "_apply")  # one public way in, used by the lesson pane and the sweep page
    at = app({"lesson": "sine", "cell": "gru", "hidden": "7"})
    at.button(key="lesson_setup").click().run()
    item = lessons.lesson("sine")
    wanted = lessons.step_config(item, item.steps[0])
    assert (at.session_state["config"].model.cell, at.session_state["config"].model.hidden) == (
        wanted.model.cell, wanted.model.hidden) != ("gru", 7)
    assert "Set up for the lesson step" in captions(at)


def test_choosing_a_preset_still_loads_it_and_says_so():
    at = app({"cell": "gru"})
    at.selectbox(key="preset_choice").set_value("udacity-sine").run()
    assert at.session_state["config"].preset == "udacity-sine"
    assert "Loaded preset" in captions(at)


@pytest.mark.parametrize("cell", ["rnn", "rnn_relu", "gru", "lstm"])
def test_the_forget_gate_bias_is_a_slider_that_only_an_lstm_can_move(cell):
    at = app({"cell": cell})
    slider = at.slider(key="cfg_forget_bias")
    assert (slider.min, slider.max, slider.step) == (-5.0, 5.0, 0.5)
    assert slider.disabled == (cell != "lstm")
    assert ("Only an LSTM has a forget gate" in slider.help) == (cell != "lstm")
    assert at.slider(key="cfg_dropout").disabled and "choose 2 or more" in at.slider(key="cfg_dropout").help


def fresh_lstm_norms(forget_bias: str, toggle: bool) -> list:
    at = app({"cell": "lstm", "seq_len": "30", "forget_bias": forget_bias}, page="pages/inside.py")
    at.toggle(key="inside_compare").set_value(True).run()
    at.toggle(key="inside_bias").set_value(toggle).run()
    assert not at.exception
    figure = json.loads(at.main.get("bidi_component")[-1].proto.json)["figure"]
    return next(trace["y"] for trace in figure["data"] if trace["name"] == "LSTM (fresh)")


def test_the_inside_bias_toggle_sets_the_fresh_lstm_bias_whatever_the_sidebar_says():
    # before: the toggle added 1 to the config's bias, so a config at 1 compared a bias of 2
    assert fresh_lstm_norms("1", True) == fresh_lstm_norms("0", True)
    assert fresh_lstm_norms("1", False) == fresh_lstm_norms("0", False)
    assert fresh_lstm_norms("0", True) != fresh_lstm_norms("0", False)  # the toggle does change the model


def test_option_words_are_short_enough_for_the_code_name_to_show_in_the_sidebar():
    # Measured in Chromium at 1280x720: a select box in a sidebar expander shows 156 px of text, about 25
    # characters of these labels ("absolute error (loss=mae)" takes 150 px; the old ones ran to 362 px).
    for setting, words in glossary.OPTION_WORDS.items():
        for value in words:
            label = settings._choice_label(setting)(value)
            assert len(label) <= 25 and label.endswith(f"({setting}={value})"), label


def press_train_boxes(at) -> list[str]:
    return [i.value for i in at.info if "**Train**" in i.value]


def test_the_landing_page_says_press_train_once():
    landing = press_train_boxes(app())
    assert len(landing) == 1 and "classic PyTorch sine notebook" in landing[0]
    elsewhere = press_train_boxes(app({"cell": "gru"}))  # a link with settings: no landing line, the live box
    assert len(elsewhere) == 1 and "Pick settings in the sidebar" in elsewhere[0]
