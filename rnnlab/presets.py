"""Named starting points. Each is a set of settings over the defaults; adding one is one entry."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Preset:
    title: str
    description: str
    settings: dict[str, Any] = field(default_factory=dict)


PRESETS: dict[str, Preset] = {
    "udacity-sine": Preset(
        "Classic sine notebook",
        "The classic PyTorch notebook exactly: a 1-layer RNN (hidden 32) predicts the next point of a sine, "
        "one 20-step window at a time, hidden state carried and detached, Adam 0.01, MSE, 75 steps.",
        dict(data="sine", period=40.0, noise=0.0, scale="none", cell="rnn", hidden=32, layers=1,
             head="seq2seq", horizon=1, regime="streaming", seq_len=20, batch=1, optimizer="adam",
             lr=0.01, loss="mse", clip=0.0, steps=75, eval_every=15),
    ),
    "lstm-load": Preset(
        "LSTM load forecast",
        "The shapes article: an LSTM reads the previous 24 hours of 7 features (load, wind, temperature, "
        "pressure, humidity, weather, holiday) and forecasts the next hour's load from its last step.",
        dict(data="load", period=24.0, length=2016, covariates=True, scale="standard", cell="lstm",
             hidden=32, layers=2, head="last", horizon=1, regime="windowed", seq_len=24, batch=32,
             optimizer="adam", lr=0.005, loss="mse", steps=1500, eval_every=50),
    ),
    "long-memory": Preset(
        "Long memory (echo)",
        "The target repeats a random pulse 24 steps later; the network reads 26 steps and predicts the next "
        "point, so it must carry each pulse through 23 steps of new input. Press Train: a GRU's validation loss "
        "sits at its starting level (no better than predicting 0: 1.0-1.4, by seed) for 750-950 steps, then "
        "drops to about 0.001 once it finds the memory. Switch the cell to rnn and press Train: its validation "
        "loss stays near that level. An LSTM with PyTorch's initialisation (forget gate half closed) stays "
        "there too within 1,500 steps.",
        # A 24-step echo, not 20: at 20 a plain RNN sometimes half-learns it (0.29 on one CPU), and a
        # lesson's claim must hold on any machine (tests/test_presets.py, over seeds).
        dict(data="echo", period=24.0, length=10000, noise=0.0, scale="standard", cell="gru", hidden=32,
             layers=1, head="last", horizon=1, regime="windowed", seq_len=26, batch=64,
             optimizer="adam", lr=0.01, loss="mse", clip=1.0, steps=1500, eval_every=50),
    ),
    "vanishing-gradients": Preset(
        "Vanishing gradients",
        "A plain tanh RNN on 100-step windows of the echo series (the target repeats the input 50 steps later). "
        "Press Train (about 5 s), then open Inside > Gradient through time: the curve falls steeply to the left, "
        "about 100 times smaller 20 steps back and a billion times smaller at the window's start, so the input "
        "50 steps back never gets learnt and the validation loss stays near 1. Turn on the comparison with the "
        "forget-gate bias: a fresh LSTM's gradient 50 steps back is then about a million times larger.",
        dict(data="echo", period=50.0, length=3000, scale="standard", cell="rnn", hidden=32, layers=1,
             head="seq2seq", horizon=1, regime="windowed", seq_len=100, batch=16, optimizer="sgd",
             lr=0.01, momentum=0.9, loss="mse", clip=0.0, steps=600, eval_every=50),
    ),
}
