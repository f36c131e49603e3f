"""The benchmarks' reference loop (bench/bare.py) does the Trainer's work and nothing more: the live / bare
ratio prices rnnlab's own costs only if both loops compute the same thing, validation included."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from bench.bare import BareLoop
from rnnlab.config import RunConfig
from rnnlab.learn.trainer import Trainer


# Gradient clipping is left out: the reference is the notebook's loop, which has none.
@pytest.mark.parametrize("preset", ["udacity-sine", "lstm-load", "vanishing-gradients"])
def test_the_reference_loop_matches_the_trainer_step_for_step(preset):
    torch.set_num_threads(1)
    config = RunConfig.from_flat({"preset": preset, "steps": 1000})
    assert config.train.clip == 0
    trainer, bare = Trainer(config), BareLoop(config, eval_every=config.train.eval_every)
    losses, val_losses = [], []
    for _ in range(3 * config.train.eval_every):
        progress = next(trainer)
        bare.steps(1)
        losses.append((progress.loss, bare.last_loss))
        if progress.validated:
            val_losses.append((progress.val_loss, bare.val_loss))
    assert len(val_losses) == 3
    np.testing.assert_allclose(*zip(*losses, strict=True), rtol=1e-6)
    np.testing.assert_allclose(*zip(*val_losses, strict=True), rtol=1e-6)
