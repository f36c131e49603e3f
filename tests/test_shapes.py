"""The shape trace and parameter table, checked against what real nn.RNN/LSTM/GRU return and hold."""

from __future__ import annotations

import dataclasses

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from rnnlab.analysis.shapes import (
    ParamRow,
    TraceRow,
    format_shape,
    layer_outputs,
    param_table,
    shape_trace,
    trace_table,
)
from rnnlab.config import RunConfig
from rnnlab.learn.models import CELLS, build_model

ALL_CELLS = ("rnn", "rnn_relu", "lstm", "gru")


def config_of(**values) -> RunConfig:
    if values.get("bidirectional"):
        values["head"] = "last"  # the config refuses bidirectional with the seq2seq head (issue 15)
    return RunConfig.from_flat(values)


def by_name(rows: list[TraceRow]) -> dict[str, tuple[int, ...]]:
    names = [row.name for row in rows]
    assert len(names) == len(set(names)), names
    return {row.name: row.shape for row in rows}


def reference(config: RunConfig, input_size: int, batch_first: bool, batch: int):
    """What a fresh torch module of the same sizes returns: (output, state) for zeros input."""
    m = config.model
    cell = CELLS[m.cell]
    options = {"nonlinearity": cell.nonlinearity} if cell.nonlinearity else {}
    module = cell.module(input_size, m.hidden, num_layers=m.layers, bidirectional=m.bidirectional,
                         batch_first=batch_first, **options)
    t = config.train.seq_len
    x = torch.zeros(batch, t, input_size) if batch_first else torch.zeros(t, batch, input_size)
    with torch.no_grad():
        return module(x)


configs = st.fixed_dictionaries({
    "cell": st.sampled_from(ALL_CELLS),
    "hidden": st.integers(1, 64),
    "layers": st.integers(1, 3),
    "bidirectional": st.booleans(),
    "head": st.sampled_from(["seq2seq", "last"]),
    "horizon": st.integers(1, 5),
    "batch": st.integers(1, 6),
    "seq_len": st.integers(2, 12),
}).map(lambda s: {**s, "horizon": s["horizon"] if s["head"] == "last" else 1})


@settings(max_examples=40, deadline=None)
@given(settings_=configs, input_size=st.integers(1, 7), batch_first=st.booleans())
def test_every_trace_shape_agrees_with_real_torch_modules(settings_, input_size, batch_first):
    config = config_of(**settings_)
    m, b, t, f = config.model, settings_["batch"], config.train.seq_len, input_size
    d, h = config.directions, m.hidden
    rows = by_name(shape_trace(config, f, batch_first=batch_first))
    out, state = reference(config, f, batch_first, b)
    state = state if m.cell == "lstm" else (state,)

    assert rows["batch"] == ((b, t) if f == 1 else (b, t, f))
    assert rows["x"] == (b, t, f)
    if not batch_first:
        assert rows["x (time first)"] == (t, b, f)
    assert ("x (time first)" in rows) == (not batch_first)
    assert rows["out"] == tuple(out.shape)
    assert rows["h_0"] == rows["h_n"] == tuple(state[0].shape) == (d * m.layers, b, h)
    if m.cell == "lstm":
        assert rows["c_0"] == rows["c_n"] == tuple(state[1].shape)
    for k in range(1, m.layers + 1):
        assert rows[f"layer {k} output"] == tuple(out.shape)
    if m.head == "seq2seq":
        assert rows["out (flat)"] == (b * t, d * h)
        assert rows["y (flat)"] == (b * t, 1)
        assert rows["y"] == ((b, t, 1) if batch_first else (t, b, 1))
    else:
        assert rows["last"] == (b, d * h)
        assert rows["y"] == (b, m.horizon)


@settings(max_examples=40, deadline=None)
@given(settings_=configs, input_size=st.integers(1, 7), batch_first=st.booleans())
def test_last_layer_output_equals_the_models_output(settings_, input_size, batch_first):
    config = config_of(**settings_)
    model = build_model(config, input_size, batch_first=batch_first).eval()
    b, t = settings_["batch"], config.train.seq_len
    x = torch.randn(b, t, input_size) if batch_first else torch.randn(t, b, input_size)
    state = model.initial_state(b)
    state = tuple(torch.randn_like(s) for s in state) if isinstance(state, tuple) else torch.randn_like(state)
    with torch.no_grad():
        layers = layer_outputs(model, x, state)
        out, _ = model.rnn(x, state)
        y, _ = model(x, state)
    assert len(layers) == config.model.layers
    torch.testing.assert_close(layers[-1], out)
    assert y.shape == (tuple(x.shape[:2]) + (1,) if config.model.head == "seq2seq" else (b, config.model.horizon))


@pytest.mark.parametrize("cell", ALL_CELLS)
def test_each_layer_output_equals_a_module_stacked_up_to_that_layer(cell):
    config = config_of(cell=cell, hidden=5, layers=3, bidirectional=True)
    torch.manual_seed(0)
    model = build_model(config, 2).eval()
    x = torch.randn(3, 8, 2)
    with torch.no_grad():
        layers = layer_outputs(model, x)
        for k in range(1, 4):
            cell_ = CELLS[cell]
            options = {"nonlinearity": cell_.nonlinearity} if cell_.nonlinearity else {}
            stacked = cell_.module(2, 5, num_layers=k, bidirectional=True, batch_first=True, **options)
            stacked.load_state_dict({name: p for name, p in model.rnn.state_dict().items()
                                     if int(name.split("_l")[-1].split("_")[0]) < k})
            torch.testing.assert_close(layers[k - 1], stacked(x)[0])


def test_bidirectional_doubles_output_features():
    one = by_name(shape_trace(config_of(hidden=16), 1))
    two = by_name(shape_trace(config_of(hidden=16, bidirectional=True), 1))
    assert one["out"][-1] == 16 and two["out"][-1] == 32
    assert two["layer 1 output"][-1] == 32
    assert two["last"][-1] == 32  # the last-step head reads both directions


def test_batch_first_false_puts_time_first():
    config = config_of(batch=4, seq_len=9)
    rows = shape_trace(config, 1, batch_first=False)
    shapes = by_name(rows)
    assert shapes["x"] == (4, 9, 1)
    assert shapes["x (time first)"] == (9, 4, 1)
    assert shapes["out"][:2] == (9, 4)
    assert shapes["y"] == (9, 4, 1)
    names = [row.name for row in rows]
    assert names.index("x") < names.index("x (time first)") < names.index("h_0")


@pytest.mark.parametrize("batch_first", [True, False])
def test_h0_is_never_batch_first(batch_first):
    config = config_of(cell="lstm", hidden=7, layers=2, batch=4, seq_len=9)
    rows = {row.name: row for row in shape_trace(config, 1, batch_first=batch_first)}
    for name in ("h_0", "c_0", "h_n", "c_n"):
        assert rows[name].shape == (2, 4, 7)
    if batch_first:
        assert "NOT batch-first" in rows["h_0"].meaning


def test_lstm_has_cell_state_and_gru_does_not():
    lstm = by_name(shape_trace(config_of(cell="lstm"), 1))
    gru = by_name(shape_trace(config_of(cell="gru"), 1))
    assert {"c_0", "c_n"} <= set(lstm)
    assert not {"c_0", "c_n"} & set(gru)


def test_rows_follow_the_forward_pass_in_order():
    seq2seq = [row.name for row in shape_trace(config_of(cell="lstm", layers=2), 1)]
    assert seq2seq == ["batch", "x", "h_0", "c_0", "layer 1 output", "layer 2 output", "out", "h_n", "c_n",
                       "out (flat)", "y (flat)", "y"]
    last = [row.name for row in shape_trace(config_of(cell="gru", head="last", horizon=3), 1)]
    assert last == ["batch", "x", "h_0", "layer 1 output", "out", "h_n", "last", "y"]


def test_default_batch_is_the_effective_batch():
    streaming = by_name(shape_trace(config_of(regime="streaming", batch=32, seq_len=20), 1))
    windowed = by_name(shape_trace(config_of(regime="windowed", batch=32, seq_len=20), 1))
    given_batch = by_name(shape_trace(config_of(batch=32), 1, batch=3))
    assert streaming["x"] == (1, 20, 1)
    assert windowed["x"] == (32, 20, 1)
    assert given_batch["x"] == (3, 20, 1)


def test_multivariate_batch_arrives_with_a_feature_axis():
    shapes = by_name(shape_trace(config_of(batch=32, seq_len=24, head="last"), 7))
    assert shapes["batch"] == (32, 24, 7)
    assert shapes["y"] == (32, 1)


def test_bidirectional_last_head_says_the_backward_half_saw_one_step():
    rows = {row.name: row for row in shape_trace(config_of(bidirectional=True, head="last"), 1)}
    assert "backward" in rows["last"].meaning


def test_every_row_has_code_and_meaning():
    for row in shape_trace(config_of(cell="lstm", layers=2, bidirectional=True), 3, batch_first=False):
        assert row.code and row.meaning
    with pytest.raises(dataclasses.FrozenInstanceError):
        row.name = "changed"


def test_shape_trace_leaves_the_global_random_stream_alone():
    torch.manual_seed(5)
    expected = torch.rand(3)
    torch.manual_seed(5)
    shape_trace(config_of(), 1)
    torch.testing.assert_close(torch.rand(3), expected)


@pytest.mark.parametrize("cell", ALL_CELLS)
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("head", ["seq2seq", "last"])
def test_param_counts_equal_torchs_numel(cell, bidirectional, head):
    config = config_of(cell=cell, hidden=9, layers=3, bidirectional=bidirectional, head=head,
                       horizon=4 if head == "last" else 1)
    model = build_model(config, input_size=5)
    rows = param_table(config, 5)
    total = sum(p.numel() for p in model.parameters())
    assert rows[-1].part == "Total" and rows[-1].count == total
    assert sum(row.count for row in rows[:-1]) == total
    assert rows[-2].count == sum(p.numel() for p in model.head.parameters())
    assert len(rows) == 3 * (2 if bidirectional else 1) + 2


def test_lstm_param_formula_is_the_textbook_one():
    rows = param_table(config_of(cell="lstm", hidden=32), 1)
    assert rows[0] == ParamRow("LSTM layer 1", 4480, "4·H·(F+H) + 8·H = 4·32·(1+32) + 8·32 = 4480")
    assert rows[0].count == 4 * 32 * (1 + 32) + 8 * 32


def test_param_rows_per_direction_are_named_for_the_direction():
    parts = [row.part for row in param_table(config_of(cell="gru", layers=2, bidirectional=True), 1)]
    assert parts[:4] == ["GRU layer 1, forward", "GRU layer 1, backward", "GRU layer 2, forward",
                         "GRU layer 2, backward"]


def test_each_param_row_matches_that_layers_tensors():
    config = config_of(cell="gru", hidden=6, layers=2, bidirectional=True)
    model = build_model(config, 3)
    rows = param_table(config, 3)
    named = dict(model.rnn.named_parameters())
    for i, (layer, suffix) in enumerate([(0, ""), (0, "_reverse"), (1, ""), (1, "_reverse")]):
        tensors = [named[f"{kind}_l{layer}{suffix}"] for kind in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
        assert rows[i].count == sum(t.numel() for t in tensors)


def test_format_shape_writes_python_tuples():
    assert format_shape((5, 30, 64)) == "(5, 30, 64)"
    assert format_shape((5,)) == "(5,)"
    assert format_shape(torch.Size([2, 3])) == "(2, 3)"


def test_trace_table_aligns_columns():
    rows = shape_trace(config_of(cell="lstm"), 1)
    lines = trace_table(rows).splitlines()
    assert len(lines) == len(rows) + 2
    assert lines[0].split() == ["tensor", "shape", "code", "meaning"]
    column = lines[0].index("shape")
    for line, row in zip(lines[2:], rows, strict=True):
        assert line[column:].startswith(format_shape(row.shape))
        assert row.code in line


def test_trace_uses_the_module_the_registry_names():
    rows = shape_trace(config_of(cell="rnn_relu"), 1)
    assert any("nn.RNN" in row.meaning for row in rows)
    assert isinstance(build_model(config_of(cell="rnn_relu"), 1).rnn, nn.RNN)
