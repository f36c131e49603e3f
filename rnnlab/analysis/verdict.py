"""What a run's curves say, in a sentence with its evidence: learned, did not learn, overfitting, diverged,
made worse by a learning-rate change.

Pure functions of a history (History or anything with `.column(name)`) and a trivial reference scored on
the run's own validation windows with its own loss, so "learned" means "beat predicting the last value
(or the mean)", not "reached some number". Every rule is a ratio with a wide margin, never an absolute
threshold: a loss of 0.01 is excellent on one series and useless on another.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from rnnlab.config import RunConfig
from rnnlab.learn import history as history_mod
from rnnlab.series import data as data_mod

__all__ = ["Reference", "LrChange", "Verdict", "reference_losses", "reference_for", "lr_changes", "lr_text",
           "judge", "LEARNED", "LEARNED_A_LITTLE", "NOT_LEARNED", "OVERFITTING", "DIVERGED", "WORSE_AFTER_LR",
           "TOO_EARLY", "SEVERITIES"]

# Verdict kinds, from the best to the worst news.
LEARNED = "learned"
LEARNED_A_LITTLE = "learned_a_little"
TOO_EARLY = "too_early"
OVERFITTING = "overfitting"
NOT_LEARNED = "not_learned"
WORSE_AFTER_LR = "worse_after_lr"
DIVERGED = "diverged"
SEVERITIES = ("success", "info", "warning", "error")  # as st.success / st.info / st.warning / st.error

# "Learned" = the validation loss is at most half the better trivial reference's. A model that learnt a clean
# series beats it 10-1000x; half still leaves noisy series room (there the best possible is often 0.3-0.6x).
LEARNED_RATIO = 0.5
# At or above 0.9x the reference the model is no better than the trivial answer (the 10% allow for the
# validation windows' own noise). Between 0.5 and 0.9 it "learned a little": said, but not in green.
NOT_LEARNED_RATIO = 0.9
# Overfitting: validation at least 1.3x its best, three or more checks after the best, most of them rises,
# while the training loss went down at least 1.5x over the same steps. Checks of a converged run wobble by a
# few percent; overfitting compounds check after check, so it clears these margins when it is real.
OVERFIT_RISE = 1.3
OVERFIT_MIN_CHECKS = 3
OVERFIT_TRAIN_FALL = 1.5
# A learning-rate change "made things worse" when the training loss after it (median of the last steps) is
# 5x or more its level just before: minibatch noise moves a median by tens of percent, not 5x.
WORSE_RATIO = 5.0
# Steps the medians around a learning-rate change look at (fewer when the run has fewer).
LR_WINDOW = 20


# --- the trivial reference -----------------------------------------------------------------------

@dataclass(frozen=True)
class Reference:
    """Validation losses of two answers that need no learning, on the trainer's validation windows."""

    last_value: float  # predict that the next value equals the last one seen (persistence)
    mean: float  # predict the training part's mean, always

    @property
    def best(self) -> tuple[str, float]:
        """(name, loss) of the harder of the two to beat."""
        if self.mean < self.last_value:
            return "predicting the training mean", self.mean
        return "predicting the last value", self.last_value


def reference_losses(config: RunConfig, prepared: data_mod.Prepared) -> Reference:
    """The two trivial answers scored exactly as the trainer scores validation (same windows, same loss).
    The only part of the verdict that needs PyTorch (imported here: the server judges a run's first steps
    without it)."""
    import torch

    from rnnlab.learn.trainer import LOSSES, spread_windows, warm_sequence

    t, m = config.train, config.model
    loss_fn = LOSSES[t.loss]()
    if t.regime == "streaming" and m.head == "seq2seq":
        start, end = prepared.bounds["val"]
        x, y, score_from = warm_sequence(prepared.values, start, end, t.seq_len)  # (1, N, F), (1, N, 1)
    else:
        x, y = spread_windows(*data_mod.windows(prepared, "val", t.seq_len, m.head, m.horizon))
        score_from = 0
    if m.head == "seq2seq":
        last = x[:, :, :1]  # (N, T, 1): each step's input target value, as the guess for the next one
    else:
        last = x[:, -1:, 0].expand(-1, y.shape[1])  # (N, horizon): the window's last value, repeated
    start, end = prepared.bounds["train"]
    mean = torch.full_like(y, float(prepared.target[start:end].mean()))
    with torch.no_grad():
        return Reference(float(loss_fn(last[:, score_from:], y[:, score_from:])),
                         float(loss_fn(mean[:, score_from:], y[:, score_from:])))


def reference_for(config: RunConfig, frame: pd.DataFrame | None = None) -> Reference:
    """reference_losses of the config's own series (`frame` for an uploaded one)."""
    series = data_mod.make_series(config.data, frame)
    return reference_losses(config, data_mod.prepare(config, series))


# --- learning-rate changes --------------------------------------------------------------------------

@dataclass(frozen=True)
class LrChange:
    step: int  # the first step taken with the new rate
    old: float
    new: float


def lr_changes(steps: np.ndarray, lrs: np.ndarray, initial: float) -> list[LrChange]:
    """Every change of the learning rate along a history's step and lr columns (`initial`: the config's)."""
    frame = pd.DataFrame({"step": np.asarray(steps), "lr": np.asarray(lrs, dtype=float)})
    changes, old = [], initial
    for step, new in history_mod.lr_changes(frame, initial):
        changes.append(LrChange(step, old, new))
        old = new
    return changes


def lr_text(changes: list[LrChange], initial: float) -> str:
    """The rate as the Runs table shows it: "0.01" or "0.01 → 0.1 at step 50, → 0.001 at step 90"."""
    if not changes:
        return f"{initial:g}"
    parts = [f"{changes[0].old:g} → {changes[0].new:g} at step {changes[0].step:,}"]
    parts += [f"→ {c.new:g} at step {c.step:,}" for c in changes[1:]]
    return ", ".join(parts)


# --- the verdict -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Verdict:
    kind: str  # one of the kinds above
    title: str  # a short headline: "Did not learn"
    evidence: str  # the numbers behind it, as a sentence
    advice: str  # what to try, or ""
    severity: str  # one of SEVERITIES; "success" only for a finished run that learned
    since_step: int | None = None  # where overfitting started, or where the rate change hurt
    notes: tuple[str, ...] = ()  # further facts: every learning-rate change

    @property
    def text(self) -> str:
        """Headline, evidence and advice as one paragraph (Markdown-free)."""
        return " ".join(part for part in (f"{self.title}:", self.evidence, self.advice, *self.notes) if part)


def judge(history, status: str, reference: Reference | None = None, finished: bool | None = None,
          initial_lr: float | None = None) -> Verdict:
    """The verdict on a run so far. `status` is the trainer's (running, done, diverged, early_stopped);
    `finished` defaults to status != "running" and only changes the wording and the severity;
    `initial_lr` (the config's) also catches a change before the first step."""
    finished = status != "running" if finished is None else finished
    steps = np.asarray(history.column("step"))
    loss = np.asarray(history.column("loss"), dtype=float)
    val = np.asarray(history.column("val_loss"), dtype=float)
    lrs = np.asarray(history.column("lr"), dtype=float)
    changes = lr_changes(steps, lrs, lrs[0] if initial_lr is None else initial_lr) if len(steps) else []
    notes = tuple(f"Learning rate changed at step {c.step:,}: {c.old:g} → {c.new:g}." for c in changes)
    checked = np.isfinite(val)
    val_steps, vals = steps[checked], val[checked]

    if status == "diverged" or (len(loss) and not math.isfinite(loss[-1])):
        at = int(steps[-1]) if len(steps) else 0
        return Verdict(DIVERGED, "Diverged", f"the loss became {loss[-1] if len(loss) else math.nan} at step {at:,}.",
                       "The learning rate is probably too high: lower it (or turn on gradient clipping) and train "
                       "again.", "error", at, notes)
    for change in changes:
        worse = _worse_after(steps, loss, change)
        if worse:
            return Verdict(WORSE_AFTER_LR, "The learning-rate change made it worse", worse,
                           f"Go back to {change.old:g} (or lower) and train again.", "warning", change.step, notes)
    if len(vals) == 0:
        return Verdict(TOO_EARLY, "Too early to tell", "the validation loss has not been measured yet.", "",
                       "info", None, notes)
    overfit = _overfitting(steps, loss, val_steps, vals)
    if overfit:
        since, evidence = overfit
        return Verdict(OVERFITTING, f"Overfitting since step {since:,}", evidence,
                       "Stop earlier (set Patience for early stopping) or give the model less capacity "
                       "(fewer hidden units or layers, or dropout).", "warning", since, notes)
    if reference is None:
        return Verdict(TOO_EARLY, "No reference to compare with", f"validation loss {vals[-1]:.3g}.", "", "info",
                       None, notes)
    judged = int(np.argmin(vals)) if status == "early_stopped" else len(vals) - 1
    final = float(vals[judged])
    name, ref = reference.best
    ratio = final / ref if ref > 0 else (1.0 if final <= 0 else math.inf)  # 0/0: as good as the trivial answer
    # The check it judges, by step: while a run trains the Validation loss metric moves on between two
    # verdicts (every few seconds), and a student reading two different numbers must see why.
    versus = f"{name} scores {ref:.3g} on the same windows; validation at step {int(val_steps[judged]):,}"
    if ratio <= LEARNED_RATIO:
        lower = _times(1 / ratio if ratio else math.inf)
        evidence = f"validation loss {final:.3g} is {lower} lower than the trivial answer ({versus})."
        if finished:
            return Verdict(LEARNED, "Learned", evidence, "", "success", None, notes)
        return Verdict(LEARNED, "Learning", evidence, "", "info", None, notes)
    if ratio < NOT_LEARNED_RATIO:
        return Verdict(LEARNED_A_LITTLE, "Learned a little" if finished else "Learning slowly",
                       f"validation loss {final:.3g} is only {_times(1 / ratio)} lower than the trivial answer "
                       f"({versus}).",
                       "Train longer, or try a larger model or a different learning rate; on a noisy series "
                       "little more may be possible.", "info", None, notes)
    how = "no better than" if ratio < 1.5 else f"{_times(ratio)} worse than"
    evidence = f"validation loss {final:.3g} is {how} the trivial answer ({versus})."
    if not finished:
        return Verdict(NOT_LEARNED, "Not learning yet", evidence, "", "info", None, notes)
    return Verdict(NOT_LEARNED, "Did not learn", evidence,
                   "Try a lower learning rate (a flat prediction often means a rate that is too high), more steps, "
                   "or another cell.", "warning", None, notes)


def _times(ratio: float) -> str:
    if not math.isfinite(ratio):  # a loss of exactly 0 on one side
        return "immeasurably many times"
    return f"{ratio:.0f} times" if ratio >= 10 else f"{ratio:.1f} times"


def _worse_after(steps: np.ndarray, loss: np.ndarray, change: LrChange) -> str:
    """The evidence that the training loss rose WORSE_RATIO-fold after a rate change, or ""."""
    at = int(np.searchsorted(steps, change.step))
    before, after = loss[max(0, at - LR_WINDOW):at], loss[at:][-LR_WINDOW:]
    before, after = before[np.isfinite(before)], after[np.isfinite(after)]
    if len(before) < 3 or len(after) < 3:
        return ""
    low, high = float(np.median(before)), float(np.median(after))
    if not high >= WORSE_RATIO * low:
        return ""
    return (f"the training loss went from {low:.3g} just before step {change.step:,} (learning rate "
            f"{change.old:g}) to {high:.3g} since (learning rate {change.new:g}), {_times(high / low)} higher.")


def _overfitting(steps: np.ndarray, loss: np.ndarray, val_steps: np.ndarray,
                 vals: np.ndarray) -> tuple[int, str] | None:
    """(step of the best validation loss, evidence) when validation rose while training fell, else None."""
    best = int(np.argmin(vals))
    after = vals[best:]
    if len(after) - 1 < OVERFIT_MIN_CHECKS or not vals[-1] >= OVERFIT_RISE * vals[best]:
        return None
    rises = int((np.diff(after) > 0).sum())
    if rises < (2 * (len(after) - 1)) / 3:
        return None
    since = int(val_steps[best])
    # Training loss around the best check and at the end: medians over the same number of steps.
    window = max(1, min(LR_WINDOW, int(np.searchsorted(steps, since, side="right"))))
    at = int(np.searchsorted(steps, since, side="right"))
    then, now = np.median(loss[max(0, at - window):at]), np.median(loss[-window:])
    if not now * OVERFIT_TRAIN_FALL <= then:
        return None
    streak = 0
    while streak < len(after) - 1 and after[-1 - streak] > after[-2 - streak]:
        streak += 1
    return since, (f"validation loss rose from {vals[best]:.3g} at step {since:,} to {vals[-1]:.3g} "
                   f"({rises} of the {len(after) - 1} checks since were rises, the last {streak} in a row) while "
                   f"the training loss fell from {then:.3g} to {now:.3g}.")
