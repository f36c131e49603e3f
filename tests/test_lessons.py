"""Lesson files: the parser reads good ones, names the file and line of a bad one; challenges are checked
against a run's history. (What each lesson claims is checked by training, in test_lessons_claims.py.)"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
import torch

from rnnlab import cli
from rnnlab.config import RunConfig
from rnnlab.learn.models import build_model
from rnnlab.lessons import PAGES, LessonError, check, lesson, load_lessons, parse_lesson, step_config

GOOD = """---
title: A test lesson
summary: One line.
settings: preset=udacity-sine, steps=300
---

## First
page: train

Some *Markdown*, $h_t$.

## Second
settings: cell=lstm, hidden=8
ask: What happens?
- Nothing
- [x] Something
why: Because.
challenge: val_loss < 1e-3 within 300 steps and params <= 500
challenge: loss < 0.5
"""


def test_a_good_lesson_reads_into_steps():
    item = parse_lesson(GOOD, "test")
    assert (item.name, item.title, item.summary) == ("test", "A test lesson", "One line.")
    first, second = item.steps
    assert (first.title, first.page, first.question, first.challenges) == ("First", "train", None, ())
    assert first.text == "Some *Markdown*, $h_t$."
    assert second.settings == {"cell": "lstm", "hidden": "8"}
    assert second.question.choices == ("Nothing", "Something") and second.question.answer == 1
    assert second.question.why == "Because."
    assert [str(c) for c in second.challenges[0].conditions] == ["val_loss < 0.001 within 300 steps", "params <= 500"]
    assert len(second.challenges) == 2


def test_a_steps_settings_apply_over_the_lessons():
    item = parse_lesson(GOOD, "test")
    config = step_config(item, item.steps[1])
    assert (config.preset, config.train.steps, config.model.cell, config.model.hidden) == ("udacity-sine", 300,
                                                                                           "lstm", 8)
    assert step_config(item).model.cell == "rnn"  # the preset's


@pytest.mark.parametrize("broken, line, words", [
    (GOOD.replace("---\ntitle", "title", 1), 1, "header"),
    (GOOD.replace("summary: One line.", "sumary: One line."), 3, "header holds"),
    (GOOD.replace("steps=300\n---", "steps=300\n"), 7, "header holds"),  # the step heading is not a header line
    ("---\ntitle: x\n", None, "never closed"),
    (GOOD.replace("settings: preset=udacity-sine", "settings: preset=nope"), 4, "cannot run"),
    (GOOD.replace("cell=lstm", "cel=lstm"), 13, "'cel' is not a setting"),
    (GOOD.replace("hidden=8", "hidden=eight"), 13, "whole number"),
    (GOOD.replace("page: train", "page: trian"), 8, "page must be one of"),
    (GOOD.replace("- [x] Something", "- Something"), 14, "marked '- [x]'"),
    (GOOD.replace("why: Because.\n", ""), 14, "'why:'"),
    (GOOD.replace("val_loss < 1e-3", "val_loss below 1e-3"), 18, "a challenge is"),
    (GOOD.replace("loss < 0.5", "accuracy < 0.5"), 19, "compares one of"),
    (GOOD.replace("params <= 500", "params <= 500 within 3 steps"), 18, "no 'within'"),
    (GOOD.replace("\n## First", "stray text\n## First"), 6, "belong to a step"),
    (GOOD.split("## First")[0], None, "at least one step"),
], ids=lambda value: value if isinstance(value, str) and len(value) < 40 else None)
def test_a_malformed_lesson_gets_a_sentence_with_the_file_and_line(broken, line, words):
    with pytest.raises(LessonError) as caught:
        parse_lesson(broken, "test", "rnnlab/lessons/09_test.md")
    message = str(caught.value)
    assert message.startswith("Lesson file rnnlab/lessons/09_test.md, line ")
    if line is not None:
        assert f", line {line}: " in message
    assert words in message
    assert "Traceback" not in message


def test_every_shipped_lesson_parses_and_every_step_sets_up_a_config_that_runs():
    lessons = load_lessons()
    assert len(lessons) >= 10
    for item in lessons.values():
        assert item.title and item.summary and item.steps
        for step in item.steps:
            step_config(item, step)  # raises if not
            assert step.page is None or step.page in PAGES


def test_an_unknown_lesson_name_is_answered_with_the_list():
    with pytest.raises(LessonError, match="There is no lesson 'nope'; the lessons are sine, "):
        lesson("nope")


def test_the_command_line_lists_the_lessons():
    out = io.StringIO()
    assert cli.list_lessons([], out) == 0
    assert "sine " in out.getvalue() and "?lesson=sine" in out.getvalue()
    assert len(out.getvalue().strip().splitlines()) == len(load_lessons())


# --- challenges -------------------------------------------------------------------------------

def history(val: list[float], every: int = 10, loss: float = 1.0) -> pd.DataFrame:
    """A history frame as History.to_frame() gives it: val_loss measured every `every` steps, NaN between."""
    steps = np.arange(1, every * len(val) + 1)
    val_loss = np.full(len(steps), np.nan)
    val_loss[every - 1 :: every] = val
    return pd.DataFrame({"step": steps, "epoch": 0, "loss": loss, "val_loss": val_loss, "grad_norm": np.nan,
                         "lr": 0.01, "elapsed": 0.0})


def challenge(text: str):
    return parse_lesson(GOOD.replace("loss < 0.5", text), "t").steps[1].challenges[1]


def test_a_challenge_is_achieved_at_the_first_step_it_holds():
    outcome = check(challenge("val_loss < 1e-3 within 300 steps"), history([0.1, 0.01, 5e-4, 1e-4]))
    assert outcome.achieved and outcome.step == 30


def test_a_challenge_not_yet_met_is_open_until_its_step_budget_passes():
    c = challenge("val_loss < 1e-3 within 30 steps")
    assert check(c, history([0.1, 0.01])).state == "open"
    assert check(c, history([0.1, 0.01, 0.01])).state == "missed"
    assert check(c, history([0.1, 0.01, 0.01, 1e-4])).state == "missed"  # too late


def test_a_challenge_without_a_budget_is_missed_only_when_the_run_finished():
    c = challenge("val_loss < 1e-3")
    assert check(c, history([0.1, 0.01])).state == "open"
    assert check(c, history([0.1, 0.01]), finished=True).state == "missed"


def test_greater_than_and_the_training_loss_column():
    assert check(challenge("loss >= 1"), history([0.1])).achieved
    assert not check(challenge("loss > 1"), history([0.1]), finished=True).achieved


def test_a_parameter_budget_is_checked_against_the_count():
    c = parse_lesson(GOOD, "t").steps[1].challenges[0]  # val_loss < 1e-3 within 300 steps and params <= 500
    met = history([0.1, 1e-4])
    assert check(c, met, params=361).achieved
    outcome = check(c, met, params=1233)
    assert outcome.state == "missed" and "1,233 parameters" in outcome.detail
    assert check(c, met, params=None).state == "open"


def test_nan_validation_rows_never_count():
    # between validations the column is NaN, and NaN < x is False, but NaN > x must not count either
    assert check(challenge("val_loss > 0.5"), history([0.1, 0.2])).state == "open"


# --- the forget-gate bias (lesson 6) --------------------------------------------------------

@pytest.mark.parametrize("layers, bidirectional", [(1, False), (2, True)])
def test_forget_bias_adds_to_the_forget_chunk_of_every_lstm_bias_ih_only(layers, bidirectional):
    settings = dict(cell="lstm", hidden=5, layers=layers, bidirectional=bidirectional, head="last")
    torch.manual_seed(0)
    plain = build_model(RunConfig.from_flat(settings), 2).state_dict()
    torch.manual_seed(0)
    opened = build_model(RunConfig.from_flat({**settings, "forget_bias": 1.5}), 2).state_dict()
    for name, value in plain.items():
        delta = opened[name] - value
        if name.startswith("rnn.bias_ih"):
            expected = torch.zeros(20)
            expected[5:10] = 1.5  # gates i, f, g, o: f is the second block of H=5
            torch.testing.assert_close(delta, expected)
        else:
            assert not delta.any(), name


def test_forget_bias_leaves_other_cells_alone():
    torch.manual_seed(0)
    plain = build_model(RunConfig.from_flat({"cell": "gru"}), 1).state_dict()
    torch.manual_seed(0)
    opened = build_model(RunConfig.from_flat({"cell": "gru", "forget_bias": 1.0}), 1).state_dict()
    assert all(torch.equal(plain[k], opened[k]) for k in plain)
