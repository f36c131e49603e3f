"""Random settings thrown at the whole core: every outcome is a result or a sentence, and shapes agree with torch."""

import math

import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch import nn

from rnnlab.analysis.shapes import shape_trace
from rnnlab.config import FIELD_BY_NAME, RunConfig
from rnnlab.errors import ConfigError, DataError
from rnnlab.learn.trainer import Trainer

SERIES = [c for c in FIELD_BY_NAME["data"].choices if c != "upload"]

raw_settings = st.fixed_dictionaries({}, optional={
    "data": st.sampled_from(SERIES),
    "length": st.integers(10, 3000),
    "period": st.floats(1, 2000),
    "noise": st.floats(-1, 3),
    "seed": st.integers(-5, 2**31),
    "covariates": st.booleans(),
    "scale": st.sampled_from(["none", "standard", "minmax", "log"]),
    "val": st.floats(0, 0.6),
    "test": st.floats(0, 0.6),
    "cell": st.sampled_from(["rnn", "rnn_relu", "lstm", "gru", "tcn"]),
    "hidden": st.integers(0, 48),
    "layers": st.integers(0, 5),
    "bidirectional": st.booleans(),
    "dropout": st.floats(0, 1),
    "head": st.sampled_from(["seq2seq", "last"]),
    "horizon": st.integers(0, 30),
    "regime": st.sampled_from(["streaming", "windowed"]),
    "seq_len": st.integers(1, 400),
    "batch": st.integers(0, 64),
    "optimizer": st.sampled_from(["adam", "sgd", "rmsprop"]),
    "lr": st.floats(1e-7, 50),
    "loss": st.sampled_from(["mse", "mae", "huber"]),
    "clip": st.floats(0, 5),
    "steps": st.integers(1, 4),
    "eval_every": st.integers(1, 3),
    "patience": st.integers(0, 2),
})


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw_settings)
def test_any_settings_train_or_explain_themselves(values):
    try:
        config = RunConfig.from_flat(values | {"steps": values.get("steps", 3)})
        history = list(Trainer(config))
    except (ConfigError, DataError) as exc:
        assert str(exc) and len(str(exc)) < 600
        return
    assert 1 <= len(history) <= config.train.steps
    last = history[-1]
    assert last.status in ("done", "diverged", "early_stopped")
    assert all(math.isfinite(p.loss) for p in history[:-1])


@settings(max_examples=40, deadline=None)
@given(
    cell=st.sampled_from(["rnn", "rnn_relu", "lstm", "gru"]),
    hidden=st.integers(1, 24),
    layers=st.integers(1, 3),
    bidirectional=st.booleans(),
    seq_len=st.integers(2, 30),
    batch=st.integers(1, 9),
    features=st.integers(1, 7),
    batch_first=st.booleans(),
)
def test_traced_shapes_agree_with_torch_itself(cell, hidden, layers, bidirectional, seq_len, batch, features,
                                               batch_first):
    config = RunConfig.from_flat({"cell": cell, "hidden": hidden, "layers": layers, "bidirectional": bidirectional,
                                  "head": "last" if bidirectional else "seq2seq",  # issue 15
                                  "seq_len": seq_len, "batch": batch})
    rows = {r.name: r.shape for r in shape_trace(config, features, batch_first=batch_first)}
    module = {"rnn": nn.RNN, "rnn_relu": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[cell]
    reference = module(features, hidden, num_layers=layers, bidirectional=bidirectional, batch_first=batch_first)
    x = torch.zeros((batch, seq_len, features) if batch_first else (seq_len, batch, features))
    out, state = reference(x)
    h_n = state[0] if cell == "lstm" else state
    assert rows["out"] == tuple(out.shape)
    assert rows["h_n"] == tuple(h_n.shape) == rows["h_0"]
    assert ("c_n" in rows) == (cell == "lstm")
    if not bidirectional:
        assert rows["y"] == ((batch, seq_len, 1) if batch_first else (seq_len, batch, 1))
