"""The step-wise trainer: one optimisation step per next(), each yielding a frozen Progress.

It knows nothing of threads, pages or charts; the caller decides when to draw."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator

import numpy as np
import pandas as pd
import torch
from torch import nn

from rnnlab.config import RunConfig
from rnnlab.learn.models import SequenceModel, build_model, detach_state
from rnnlab.learn.progress import STATUSES, Progress, Snapshot  # noqa: F401 (re-exported)
from rnnlab.series import data as data_mod

OPTIMIZERS: dict[str, Callable[[list, RunConfig], torch.optim.Optimizer]] = {
    # Fused / foreach kernels: one call per step instead of dozens of tiny tensor ops (+20% steps/s on
    # the notebook's RNN, measured in bench/).
    "adam": lambda params, c: torch.optim.Adam(params, lr=c.train.lr, fused=True),
    "sgd": lambda params, c: torch.optim.SGD(params, lr=c.train.lr, momentum=c.train.momentum, fused=True),
    "rmsprop": lambda params, c: torch.optim.RMSprop(params, lr=c.train.lr, momentum=c.train.momentum,
                                                     foreach=True),
}
LOSSES: dict[str, Callable[[], nn.Module]] = {
    "mse": nn.MSELoss,
    "mae": nn.L1Loss,
    "huber": nn.HuberLoss,
}

# The gradient norm costs a few percent of a small model's step: without clipping (which
# computes it anyway) it is measured every few steps only.
GRAD_NORM_EVERY = 10

# Validation on at most this many windows (evenly spaced): enough for a stable
# curve, cheap enough to run every few dozen steps.
MAX_VALIDATION_WINDOWS = 256


class Trainer:
    """Trains `config` on a series; iterate it to take one step per `next()`."""

    def __init__(self, config: RunConfig, frame: pd.DataFrame | None = None) -> None:
        self.config = config
        t = config.train
        self._rng = np.random.default_rng(config.data.seed)
        torch.manual_seed(config.data.seed)
        if frame is None:
            frame = data_mod.make_series(config.data)
        self.prepared = data_mod.prepare(config, frame)
        self.model: SequenceModel = build_model(config, self.prepared.input_size)
        self._params = list(self.model.parameters())
        self.optimizer = OPTIMIZERS[t.optimizer](self._params, config)
        self.loss_fn = LOSSES[t.loss]()
        head, horizon = config.model.head, config.model.horizon
        self._streaming = t.regime == "streaming"
        # Streaming walks consecutive, non-overlapping windows as the classic notebook does.
        stride = t.seq_len if self._streaming else 1
        self._x, self._y = data_mod.windows(self.prepared, "train", t.seq_len, head, horizon, stride=stride)
        self._x_val, self._y_val = spread_windows(*data_mod.windows(self.prepared, "val", t.seq_len, head,
                                                                     horizon))
        self._val_from = 0
        if self._streaming and head == "seq2seq":
            start, end = self.prepared.bounds["val"]
            self._x_val, self._y_val, self._val_from = warm_sequence(self.prepared.values, start, end, t.seq_len)
        self._first_row = self.prepared.bounds["train"][0]
        self._stride = stride

        self.step = 0
        self.epoch = 0
        self.status = "running"
        self.message = ""
        self._order = np.arange(0)
        self._cursor = 0
        self._state = None  # carried hidden state (streaming only)
        self._val_loss: float | None = None
        self._stopper = EarlyStopping(t.patience)
        self._lr_at = dict(config.lr_schedule)  # step -> the learning rate from that step on
        self._good_weights = self._copy_weights()
        self._good_step = 0
        self._best_weights = self._good_weights
        self._elapsed = 0.0
        self._rate = 0.0
        self._rate_mark = (0.0, 0)
        self._want_snapshot = False

    # --- control, safe to call from another thread between steps ------------
    def set_lr(self, lr: float) -> None:
        """Change the learning rate for the following steps, keeping optimiser state."""
        for group in self.optimizer.param_groups:
            group["lr"] = float(lr)

    def reset_checkpoints(self) -> None:
        """Take the model's current weights as the last good and best ones (after loading weights)."""
        self._good_weights = self._best_weights = self._copy_weights()

    @property
    def lr(self) -> float:
        return float(self.optimizer.param_groups[0]["lr"])

    def request_snapshot(self) -> None:
        """Ask for the next Progress to carry a Snapshot of its window."""
        self._want_snapshot = True

    @property
    def finished(self) -> bool:
        return self.status != "running"

    # --- iteration ----------------------------------------------------------
    def __iter__(self) -> Iterator[Progress]:
        return self

    def __next__(self) -> Progress:
        if self.finished:
            raise StopIteration
        started = time.perf_counter()
        if self.step + 1 in self._lr_at:  # a rate changed live in the run this config was exported from
            self.set_lr(self._lr_at[self.step + 1])
        x, y, row = self._next_batch()
        if not self.model.training:  # validation switched it to eval; the call itself costs ~2% of a step
            self.model.train()
        prediction, state = self.model(x, self._state)
        loss = self.loss_fn(prediction, y)
        loss_value = loss.item()
        if not math.isfinite(loss_value):
            return self._diverge(loss_value, started)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if self.config.train.clip > 0:
            grad_norm = float(torch.nn.utils.clip_grad_norm_(self._params, self.config.train.clip))
        elif self.step % GRAD_NORM_EVERY == 0 or self._want_snapshot:
            grad_norm = float(torch.nn.utils.get_total_norm([p.grad for p in self._params if p.grad is not None]))
        else:
            grad_norm = None
        if grad_norm is not None and not math.isfinite(grad_norm):
            return self._diverge(grad_norm, started, what="gradient norm", loss=loss_value)
        self.optimizer.step()
        if self._streaming:
            self._state = detach_state(state)  # truncated backpropagation: keep the values, cut the graph
        self.step += 1

        snapshot = None
        if self._want_snapshot:
            self._want_snapshot = False
            snapshot = self._snapshot(x[:1], y[:1], prediction[:1], row)
        validated = self.step % self.config.train.eval_every == 0 or self.step == self.config.train.steps
        if validated:
            self._validate()
        if self.status == "running" and self.step >= self.config.train.steps:
            self.status = "done"
            self.message = f"Finished: {self.step:,} steps."
        return self._progress(loss_value, math.nan if grad_norm is None else grad_norm, validated, snapshot, started)

    # --- internals ------------------------------------------------------------
    def _next_batch(self) -> tuple[torch.Tensor, torch.Tensor, int]:
        if self._cursor >= len(self._order):
            self._start_epoch()
        if self._streaming:
            i = int(self._order[self._cursor])
            self._cursor += 1
            return self._x[i : i + 1], self._y[i : i + 1], self._first_row + i * self._stride  # (1, T, F), ...
        idx = self._order[self._cursor : self._cursor + self.config.train.batch]
        self._cursor += len(idx)
        index = torch.from_numpy(idx)
        return self._x[index], self._y[index], self._first_row + int(idx[0]) * self._stride  # (B, T, F), ...

    def _start_epoch(self) -> None:
        if self._order.size:
            self.epoch += 1
        n = len(self._x)
        self._order = np.arange(n) if self._streaming else self._rng.permutation(n)
        self._cursor = 0
        self._state = None  # a new pass through the series starts from a fresh state

    def _validate(self) -> None:
        self._val_loss = validation_loss(self.model, self.loss_fn, self._x_val, self._y_val, self._val_from)
        if not math.isfinite(self._val_loss):
            return
        self._good_weights, self._good_step = self._copy_weights(), self.step
        stopper = self._stopper
        if stopper.improved(self._val_loss, self.step):
            self._best_weights = self._good_weights
        elif stopper.exhausted:
            self.model.load_state_dict(self._best_weights)
            self.status = "early_stopped"
            self.message = (
                f"Stopped early at step {self.step:,}: the validation loss has not improved for {stopper.patience} "
                f"checks. Restored the best weights, from step {stopper.best_step:,} "
                f"(validation loss {stopper.best:.3g})."
            )

    def _diverge(self, value: float, started: float, what: str = "loss", loss: float | None = None) -> Progress:
        self.model.load_state_dict(self._good_weights)
        self.status = "diverged"
        self.message = (
            f"Diverged at step {self.step + 1:,}: the {what} became {value}. The learning rate "
            f"({self.lr:g}) is probably too high for this model; the weights were restored to step "
            f"{self._good_step:,}. Lower the learning rate (or turn on gradient clipping) and train again."
        )
        return self._progress(value if loss is None else loss, math.nan, False, None, started)

    def _progress(
        self, loss: float, grad_norm: float, validated: bool, snapshot: Snapshot | None, started: float
    ) -> Progress:
        now = time.perf_counter()
        self._elapsed += now - started
        mark_time, mark_step = self._rate_mark
        if self._elapsed - mark_time >= 0.5:
            self._rate = (self.step - mark_step) / (self._elapsed - mark_time)
            self._rate_mark = (self._elapsed, self.step)
        elif mark_step == 0 and self._elapsed > 0:  # the first half second: the average so far
            self._rate = self.step / self._elapsed
        return Progress(
            step=self.step,
            epoch=self.epoch,
            loss=loss,
            val_loss=self._val_loss,
            validated=validated,
            grad_norm=grad_norm,
            lr=self.lr,
            elapsed=self._elapsed,
            steps_per_s=self._rate,
            status=self.status,
            message=self.message,
            snapshot=snapshot,
        )

    def _snapshot(self, x: torch.Tensor, y: torch.Tensor, prediction: torch.Tensor, row: int) -> Snapshot:
        inverse = self.prepared.scaler.inverse_target
        seq_len = x.shape[1]
        inputs = inverse(x[0, :, 0].detach().numpy())  # (T,) the target feature of the window
        targets = inverse(y[0].reshape(-1).detach().numpy())  # (T,) or (horizon,)
        predictions = inverse(prediction[0].reshape(-1).detach().numpy())
        input_time = np.arange(row, row + seq_len)
        if self.config.model.head == "seq2seq":
            target_time = input_time + 1  # each step predicts the next point
        else:
            target_time = np.arange(row + seq_len, row + seq_len + len(targets))
        return Snapshot(input_time, inputs, target_time, targets, predictions)

    def _copy_weights(self) -> dict[str, torch.Tensor]:
        return {name: tensor.detach().clone() for name, tensor in self.model.state_dict().items()}


# The rules below are plain functions of tensors (torch, numpy, math and each other only): the exported
# script embeds their source (rnnlab.export.script), so the app and the script share one version of each.

def spread_windows(x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """At most MAX_VALIDATION_WINDOWS windows, evenly spaced over the part: a stable curve, cheaply."""
    if len(x) <= MAX_VALIDATION_WINDOWS:
        return x, y
    index = torch.from_numpy(np.linspace(0, len(x) - 1, MAX_VALIDATION_WINDOWS).round().astype(np.int64))
    return x[index], y[index]


def warm_sequence(values: torch.Tensor, start: int, end: int, seq_len: int) -> tuple[torch.Tensor, torch.Tensor, int]:
    """Rows [start, end) of `values` (T, F) as one long sequence, warmed up on the seq_len rows before start.

    A streaming model carries its state from window to window; scoring it on windows that each start
    from zeros would report the cost of a cold state, not of the model. Returns x (1, N, F), y (1, N, 1)
    (the target column's next value at each step) and the index from which predictions are of rows >= start."""
    warm = min(seq_len, start)
    x = values[start - warm : end - 1].unsqueeze(0)  # (1, N, F)
    y = values[start - warm + 1 : end, 0].reshape(1, -1, 1)  # (1, N, 1): the next value at each step
    return x, y, warm - 1


def validation_loss(model: nn.Module, loss_fn: nn.Module, x: torch.Tensor, y: torch.Tensor,
                    score_from: int = 0) -> float:
    """The loss on validation inputs from time index `score_from` on: no dropout, no gradients, a zero state."""
    model.eval()
    with torch.no_grad():
        prediction, _ = model(x)
        return float(loss_fn(prediction[:, score_from:], y[:, score_from:]))


class EarlyStopping:
    """Remembers the best validation loss; exhausted after `patience` checks in a row without a better one."""

    def __init__(self, patience: int) -> None:
        self.patience = patience  # 0: never exhausted
        self.best, self.best_step, self.checks_without_gain = math.inf, 0, 0

    def improved(self, val_loss: float, step: int) -> bool:
        """Count one (finite) validation loss; True if it is the best so far, whose weights are worth keeping."""
        if val_loss < self.best:
            self.best, self.best_step, self.checks_without_gain = val_loss, step, 0
            return True
        self.checks_without_gain += 1
        return False

    @property
    def exhausted(self) -> bool:
        return bool(self.patience) and self.checks_without_gain >= self.patience


def run(config: RunConfig, frame: pd.DataFrame | None = None) -> list[Progress]:
    """Train to the end and return every step's Progress (for scripts and tests)."""
    return list(Trainer(config, frame))
