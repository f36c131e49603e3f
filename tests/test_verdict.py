"""Verdicts on a run's curves: synthetic histories for each rule, and real runs that learn, fail or get worse."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rnnlab.analysis import verdict as V
from rnnlab.config import RunConfig
from rnnlab.learn.history import COLUMNS, History
from rnnlab.learn.trainer import Trainer
from rnnlab.presets import PRESETS

REF = V.Reference(last_value=0.01, mean=0.5)


def history_of(loss, val=None, lr=None, eval_every: int = 10) -> History:
    """A History of len(loss) steps; `val` given per check (every eval_every steps) or per step."""
    n = len(loss)
    column = {name: np.zeros(n) for name in COLUMNS}
    column["step"] = np.arange(1, n + 1, dtype=float)
    column["loss"] = np.asarray(loss, dtype=float)
    column["lr"] = np.full(n, 0.01) if lr is None else np.asarray(lr, dtype=float)
    column["val_loss"] = np.full(n, np.nan)
    if val is not None:
        val = np.asarray(val, dtype=float)
        if len(val) == n:
            column["val_loss"] = val
        else:
            column["val_loss"][eval_every - 1 :: eval_every][: len(val)] = val
    history = History()
    history.extend(np.stack([column[name] for name in COLUMNS]))
    return history


def test_a_loss_far_below_the_trivial_reference_is_learned_and_green_only_when_finished():
    h = history_of(np.geomspace(1, 1e-4, 100), np.geomspace(0.5, 1e-4, 10))
    done = V.judge(h, "done", REF)
    assert (done.kind, done.severity) == (V.LEARNED, "success")
    assert "100 times lower" in done.evidence and "last value" in done.evidence
    running = V.judge(h, "running", REF)
    assert running.kind == V.LEARNED and running.severity != "success"


def test_a_loss_above_the_reference_did_not_learn_and_says_by_how_much():
    h = history_of(np.full(50, 4.0), np.full(5, 4.2))
    v = V.judge(h, "done", REF)
    assert (v.kind, v.severity) == (V.NOT_LEARNED, "warning")
    assert "4.2 is 420 times worse than" in v.evidence and "last value scores 0.01" in v.evidence
    # the harder reference is the one beaten: on a noisy series the mean may be it
    noisy = V.judge(h, "done", V.Reference(last_value=3.0, mean=2.0))
    assert "2.1 times worse" in noisy.evidence and "training mean scores 2" in noisy.evidence
    assert "learning rate" in v.advice


def test_exact_zeros_are_judged_without_dividing_by_them():
    assert V.judge(history_of(np.zeros(20), np.zeros(2)), "done", REF).kind == V.LEARNED
    # a series that repeats exactly: the trivial answer is perfect, and a perfect model only ties it
    assert V.judge(history_of(np.zeros(20), np.zeros(2)), "done", V.Reference(0.0, 0.0)).kind == V.NOT_LEARNED
    assert V.judge(history_of(np.ones(20), np.ones(2)), "done", V.Reference(0.0, 0.0)).kind == V.NOT_LEARNED


def test_between_the_margins_it_learned_a_little_without_green():
    v = V.judge(history_of(np.full(50, 0.007), np.full(5, 0.007)), "done", REF)
    assert (v.kind, v.severity) == (V.LEARNED_A_LITTLE, "info")
    assert "only 1.4 times lower" in v.evidence
    assert "validation at step 50" in v.evidence  # the check it judged: the metric may show a later one


def test_an_early_stopped_run_is_judged_by_its_restored_best_weights():
    val = [0.5, 0.001, 0.02, 0.02, 0.02]  # flat afterwards, so not overfitting: the best counts
    v = V.judge(history_of(np.full(50, 0.01), val), "early_stopped", REF)
    assert v.kind == V.LEARNED and "0.001 is 10 times lower" in v.evidence
    assert "validation at step 20" in v.evidence  # the best check's step, not the last one's


def test_validation_rising_while_training_falls_is_overfitting_since_the_best_check():
    loss = np.geomspace(0.1, 0.001, 100)
    val = [0.05, 0.02, 0.01, 0.012, 0.015, 0.02, 0.03, 0.04, 0.05, 0.06]
    v = V.judge(history_of(loss, val), "running", REF)
    assert v.kind == V.OVERFITTING and v.since_step == 30 and v.title == "Overfitting since step 30"
    assert "rose from 0.01 at step 30 to 0.06" in v.evidence and "the last 7 in a row" in v.evidence
    assert "early stopping" in v.advice and v.severity == "warning"


def test_validation_rising_while_training_rises_too_is_not_overfitting():
    val = [0.05, 0.02, 0.01, 0.012, 0.015, 0.02, 0.03, 0.04, 0.05, 0.06]
    v = V.judge(history_of(np.full(100, 0.005), val), "done", REF)
    assert v.kind != V.OVERFITTING


def test_a_wobbling_validation_loss_is_not_overfitting():
    loss = np.geomspace(0.1, 0.001, 100)
    val = [0.05, 0.002, 0.0021, 0.0019, 0.0022, 0.002, 0.0021, 0.002, 0.0022, 0.0021]
    assert V.judge(history_of(loss, val), "done", REF).kind == V.LEARNED


def test_divergence_is_an_error_with_the_step():
    loss = np.append(np.full(30, 0.1), math.nan)
    v = V.judge(history_of(loss, [0.1, 0.1, 0.1]), "diverged", REF)
    assert (v.kind, v.severity, v.since_step) == (V.DIVERGED, "error", 31)
    assert "lower it" in v.advice


def test_a_rate_change_that_multiplies_the_loss_is_reported_with_both_rates():
    loss = np.concatenate([np.full(50, 0.0006), np.full(50, 0.91)])
    lr = np.concatenate([np.full(50, 0.01), np.full(50, 0.1)])
    v = V.judge(history_of(loss, np.full(10, 0.001), lr), "done", REF)
    assert (v.kind, v.since_step) == (V.WORSE_AFTER_LR, 51)
    assert "from 0.0006 just before step 51 (learning rate 0.01) to 0.91" in v.evidence
    assert v.notes == ("Learning rate changed at step 51: 0.01 → 0.1.",)


def test_a_rate_change_that_does_no_harm_is_only_noted():
    lr = np.concatenate([np.full(50, 0.01), np.full(50, 0.001)])
    v = V.judge(history_of(np.geomspace(1, 1e-4, 100), np.geomspace(0.5, 1e-4, 10), lr), "done", REF)
    assert v.kind == V.LEARNED and v.notes == ("Learning rate changed at step 51: 0.01 → 0.001.",)
    assert v.notes[0] in v.text


def test_no_validation_yet_is_too_early():
    v = V.judge(history_of(np.full(5, 0.1)), "running", REF)
    assert (v.kind, v.severity) == (V.TOO_EARLY, "info")
    assert V.judge(History(), "running", REF).kind == V.TOO_EARLY


def test_lr_changes_and_their_text():
    steps, lrs = np.arange(1, 7), np.array([0.01, 0.01, 0.1, 0.1, 0.001, 0.001])
    changes = V.lr_changes(steps, lrs, 0.01)
    assert changes == [V.LrChange(3, 0.01, 0.1), V.LrChange(5, 0.1, 0.001)]
    assert V.lr_text(changes, 0.01) == "0.01 → 0.1 at step 3, → 0.001 at step 5"
    assert V.lr_text([], 0.01) == "0.01" and V.lr_changes(steps, np.full(6, 0.5), 0.5) == []
    # a change before the first step shows against the config's rate
    assert V.lr_changes(steps, np.full(6, 0.5), 0.01) == [V.LrChange(1, 0.01, 0.5)]


@settings(max_examples=60, deadline=None)
@given(
    loss=st.lists(st.floats(1e-8, 1e8), min_size=1, max_size=80),
    val=st.lists(st.one_of(st.just(math.nan), st.floats(1e-8, 1e8)), min_size=1, max_size=80),
    lrs=st.lists(st.sampled_from([1e-3, 1e-2, 0.1]), min_size=1, max_size=80),
    status=st.sampled_from(["running", "done", "early_stopped"]),
    reference=st.floats(1e-8, 1e8),
)
def test_any_history_gets_a_verdict_and_green_needs_a_finished_run_below_half_the_reference(
        loss, val, lrs, status, reference):
    n = len(loss)
    val = (val * n)[:n]
    lrs = (lrs * n)[:n]
    v = V.judge(history_of(loss, val, lrs), status, V.Reference(reference, reference * 2))
    assert v.severity in V.SEVERITIES and v.evidence and v.title
    if v.severity == "success":
        checked = [x for x in val if not math.isnan(x)]
        judged = min(checked) if status == "early_stopped" else checked[-1]
        assert status != "running" and judged <= 0.5 * reference


# --- the trivial reference and real runs ------------------------------------------------------

def test_the_reference_is_scored_on_the_trainers_own_validation_windows():
    # On a series that is a straight line, predicting the last value is off by exactly one step's rise.
    config = RunConfig.from_flat({"data": "sine", "scale": "none", "seq_len": 10, "head": "last", "horizon": 2})
    trainer = Trainer(config)
    ref = V.reference_losses(config, trainer.prepared)
    x, y = trainer._x_val, trainer._y_val
    expected = float(((y - x[:, -1:, 0]) ** 2).mean())
    assert ref.last_value == pytest.approx(expected, rel=1e-6)
    assert ref.mean > ref.last_value  # a smooth sine: persistence beats the mean by far


def run(flat: dict, seed: int, raise_at: int | None = None) -> V.Verdict:
    config = RunConfig.from_flat({**flat, "seed": seed})
    trainer, history = Trainer(config), History()
    reference = V.reference_losses(config, trainer.prepared)
    for progress in trainer:
        history.append(progress)
        if progress.step == raise_at:
            trainer.set_lr(0.1)  # as the live learning-rate control does
    return V.judge(history, trainer.status, reference)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_classic_notebook_learns(seed):
    v = run(PRESETS["udacity-sine"].settings, seed)
    assert (v.kind, v.severity) == (V.LEARNED, "success")  # measured 30-67x below persistence


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_adam_at_learning_rate_one_does_not_learn(seed):
    # the classic notebook at lr 1: measured 44-46x worse than predicting the last value (the boundary is 0.9x)
    v = run({**PRESETS["udacity-sine"].settings, "lr": 1.0, "steps": 150}, seed)
    assert v.severity != "success" and v.kind in (V.NOT_LEARNED, V.DIVERGED)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_raising_the_rate_to_a_tenth_mid_run_is_called_worse(seed):
    settings_ = {**PRESETS["udacity-sine"].settings, "steps": 300, "eval_every": 25}
    v = run(settings_, seed, raise_at=150)
    assert v.kind == V.WORSE_AFTER_LR and v.since_step == 151  # measured 245-7954x higher after
    assert v.severity != "success"


def test_the_runs_table_shows_the_rate_as_it_went_and_the_loss_chart_marks_it():
    from rnnlab.analysis.compare import RunRecord, summary
    from rnnlab.figures.charts import lr_marks

    lr = np.concatenate([np.full(49, 0.01), np.full(51, 0.1)])
    history = history_of(np.full(100, 0.1), lr=lr)
    records = [RunRecord("run 1", RunConfig(), history, "done"), RunRecord("run 2", RunConfig(), History(), "done")]
    table = summary(records)
    assert list(table["lr"]) == ["0.01 → 0.1 at step 50", "0.01"]
    marks = lr_marks(V.lr_changes(history.column("step"), history.column("lr"), 0.01))
    (line,), (label,) = marks["shapes"], marks["annotations"]
    assert (line["x0"], line["x1"], line["yref"]) == (50, 50, "paper") and label["text"] == "lr 0.01 → 0.1"
    assert lr_marks([]) == {"shapes": [], "annotations": []}
