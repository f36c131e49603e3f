"""The model a page inspects: a copy of the workspace's current run (live, or opened from the Runs page),
or a fresh untrained one."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from rnnlab.config import RunConfig
from rnnlab.jobs.phases import ACTIVE
from rnnlab.learn.models import SequenceModel
from rnnlab.learn.trainer import Trainer
from rnnlab.series import data
from rnnlab.ui import current
from rnnlab.ui.session import workspace


@dataclass(frozen=True)
class Subject:
    model: SequenceModel  # a copy of the job's weights: probing it never disturbs training
    prepared: data.Prepared
    config: RunConfig
    step: int
    trained: bool
    active: bool  # the run is computing right now, so the page may refresh on a clock
    name: str = ""

    @property
    def label(self) -> str:
        if not self.trained:
            return "an untrained model (fresh weights from the sidebar's settings): press Train to see it learn"
        state = "training now" if self.active else "paused or finished"
        return (f"the current run at step {self.step:,} ({self.name}, {state}; its own settings, not the sidebar's "
                "if they changed)")


def subject(config: RunConfig) -> Subject:
    """Raises DataError when the sidebar's series cannot be used (the page shows the sentence)."""
    run = workspace().current
    model = run.model_copy() if run is not None and run.view().phase != "error" else None
    if model is not None:
        view = run.view()
        return Subject(model, run.prepared, run.config, view.step, view.step > 0, view.phase in ACTIVE, run.name)
    with torch.random.fork_rng(devices=[]):
        trainer = Trainer(config, current.series(config) if config.data.data == "upload" else None)
    return Subject(trainer.model, trainer.prepared, config, 0, False, False)


def window(subject: Subject, part: str, index: int) -> tuple[torch.Tensor, torch.Tensor, int]:
    """Window `index` of a part: inputs (1, T, F), targets, and its first row."""
    c = subject.config
    x, y = data.windows(subject.prepared, part, c.train.seq_len, c.model.head, c.model.horizon)
    index = max(0, min(index, len(x) - 1))
    return x[index : index + 1], y[index : index + 1], subject.prepared.bounds[part][0] + index


def window_count(subject: Subject, part: str) -> int:
    c = subject.config
    return len(data.windows(subject.prepared, part, c.train.seq_len, c.model.head, c.model.horizon)[0])
