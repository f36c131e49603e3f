"""The step-wise trainer: one step per next(), frozen Progress records, the notebook reproduced."""

import math

import numpy as np
import pytest
import torch

from rnnlab.config import RunConfig
from rnnlab.learn.trainer import Progress, Trainer, run


def small(**settings) -> RunConfig:
    base = {"length": 400, "hidden": 8, "seq_len": 10, "batch": 8, "steps": 40, "eval_every": 10}
    return RunConfig.from_flat(base | settings)


def test_udacity_preset_reproduces_the_notebook():
    history = run(RunConfig.from_flat({"preset": "udacity-sine"}))
    assert len(history) == 75
    assert history[-1].status == "done"
    assert min(p.loss for p in history[-10:]) < 0.01
    assert history[-1].loss < history[0].loss / 20


def test_each_next_takes_exactly_one_step():
    trainer = Trainer(small())
    steps = [next(trainer).step for _ in range(5)]
    assert steps == [1, 2, 3, 4, 5]
    assert trainer.step == 5


def test_progress_is_frozen():
    progress = next(Trainer(small()))
    assert isinstance(progress, Progress)
    with pytest.raises(AttributeError):
        progress.loss = 0.0


def test_the_step_budget_ends_the_run():
    history = run(small(steps=23))
    assert [p.step for p in history] == list(range(1, 24))
    assert history[-1].status == "done" and "23 steps" in history[-1].message


def test_same_config_and_seed_give_identical_losses():
    for cell in ("rnn", "lstm", "gru"):
        a = [p.loss for p in run(small(cell=cell))]
        b = [p.loss for p in run(small(cell=cell))]
        assert a == b


def test_another_seed_gives_other_losses():
    assert [p.loss for p in run(small(seed=1))] != [p.loss for p in run(small(seed=2))]


def test_validation_loss_appears_every_eval_every_steps():
    history = run(small(steps=30, eval_every=10))
    validated = [p.step for p in history if p.validated]
    assert validated == [10, 20, 30]
    assert history[0].val_loss is None and history[9].val_loss is not None


def test_learning_rate_can_change_between_steps():
    trainer = Trainer(small())
    assert next(trainer).lr == pytest.approx(0.01)
    trainer.set_lr(0.001)
    assert next(trainer).lr == pytest.approx(0.001)
    assert trainer.optimizer.param_groups[0]["lr"] == pytest.approx(0.001)


@pytest.mark.parametrize("optimizer", ["adam", "sgd", "rmsprop"])
@pytest.mark.parametrize("loss", ["mse", "mae", "huber"])
def test_every_optimizer_and_loss_reduces_the_loss(optimizer, loss):
    lr = {"adam": 0.01, "sgd": 0.05, "rmsprop": 0.003}[optimizer]
    history = run(small(optimizer=optimizer, loss=loss, lr=lr, steps=150, cell="gru"))
    first = np.mean([p.loss for p in history[:10]])
    last = np.mean([p.loss for p in history[-10:]])
    assert last < first


def test_a_huge_learning_rate_diverges_with_a_message_and_restores_weights():
    trainer = Trainer(small(cell="rnn_relu", optimizer="sgd", lr=10.0, momentum=0.99, steps=500))
    good = {k: v.clone() for k, v in trainer.model.state_dict().items()}
    history = list(trainer)
    last = history[-1]
    assert last.status == "diverged" and last.finished
    assert "Diverged at step" in last.message and "learning rate" in last.message
    assert len(history) < 500
    assert all(torch.isfinite(v).all() for v in trainer.model.state_dict().values())
    assert trainer.model.state_dict().keys() == good.keys()


def test_iterating_a_finished_trainer_stops_cleanly():
    trainer = Trainer(small(steps=3))
    assert len(list(trainer)) == 3
    assert list(trainer) == []


def test_early_stopping_stops_and_restores_the_best_weights():
    # A learning rate that overshoots makes validation stall quickly.
    config = small(steps=5000, eval_every=5, patience=3, lr=0.5, optimizer="sgd", momentum=0.0)
    trainer = Trainer(config)
    history = list(trainer)
    last = history[-1]
    assert last.status in ("early_stopped", "diverged")
    if last.status == "early_stopped":
        assert len(history) < 5000 and "Restored the best weights" in last.message
        checks = [p.val_loss for p in history if p.validated]
        assert checks[-1] >= min(checks)


def test_streaming_carries_state_between_consecutive_windows():
    trainer = Trainer(RunConfig.from_flat({"preset": "udacity-sine", "steps": 5}))
    next(trainer)
    assert trainer._state is not None and not trainer._state.requires_grad
    assert trainer._state.shape == (1, 1, 32)  # (D*L, B, H)


def test_streaming_walks_consecutive_windows_in_order():
    trainer = Trainer(RunConfig.from_flat({"preset": "udacity-sine", "steps": 5}))
    rows = []
    for _ in range(3):
        trainer.request_snapshot()
        rows.append(int(next(trainer).snapshot.input_time[0]))
    assert rows == [0, 20, 40]


def test_windowed_batches_have_the_configured_size():
    trainer = Trainer(small(batch=8))
    x, y, _ = trainer._next_batch()
    assert x.shape == (8, 10, 1) and y.shape == (8, 10, 1)


def test_snapshot_is_in_original_units_and_aligned():
    config = RunConfig.from_flat({"data": "sine", "length": 400, "seq_len": 10, "scale": "standard",
                                  "steps": 5, "hidden": 8})
    trainer = Trainer(config)
    trainer.request_snapshot()
    snap = next(trainer).snapshot
    series = trainer.prepared.frame.iloc[:, 0].to_numpy()
    np.testing.assert_allclose(snap.inputs, series[snap.input_time], atol=1e-5)
    np.testing.assert_allclose(snap.targets, series[snap.target_time], atol=1e-5)
    assert np.array_equal(snap.target_time, snap.input_time + 1)


def test_last_step_head_predicts_the_horizon_after_the_window():
    config = small(head="last", horizon=3)
    trainer = Trainer(config)
    trainer.request_snapshot()
    snap = next(trainer).snapshot
    assert snap.predictions.shape == (3,)
    assert snap.target_time[0] == snap.input_time[-1] + 1


def test_multivariate_load_trains_on_seven_features():
    trainer = Trainer(RunConfig.from_flat({"preset": "lstm-load", "steps": 3}))
    assert trainer.prepared.input_size == 7
    assert all(math.isfinite(p.loss) for p in trainer)


def test_gradient_clipping_reports_the_norm_every_step():
    history = run(small(clip=0.5, steps=5))
    assert all(math.isfinite(p.grad_norm) for p in history)
