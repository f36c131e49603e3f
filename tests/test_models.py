"""SequenceModel against real torch: shapes, state handling, registry errors."""

from __future__ import annotations

import warnings

import pytest
import torch
from torch import nn

from rnnlab.config import ModelConfig, RunConfig
from rnnlab.errors import ConfigError
from rnnlab.learn.models import CELLS, SequenceModel, build_model, detach_state

ALL_CELLS = ("rnn", "rnn_relu", "lstm", "gru")


def model_for(input_size: int = 1, batch_first: bool = True, **settings) -> SequenceModel:
    torch.manual_seed(0)
    return SequenceModel(ModelConfig(**settings), input_size, batch_first=batch_first)


def test_registry_names_the_configs_cells():
    assert tuple(CELLS) == ALL_CELLS
    assert CELLS["lstm"].module is nn.LSTM and CELLS["lstm"].gates == 4
    assert CELLS["gru"].module is nn.GRU and CELLS["gru"].gates == 3
    assert CELLS["rnn_relu"] == (nn.RNN, "relu", 1)


def test_rnn_relu_uses_relu_nonlinearity():
    assert model_for(cell="rnn_relu").rnn.nonlinearity == "relu"
    assert model_for(cell="rnn").rnn.nonlinearity == "tanh"


def test_wrong_cell_name_is_a_config_error_listing_valid_names():
    with pytest.raises(ConfigError) as error:
        model_for(cell="transformer")
    for name in ALL_CELLS:
        assert name in str(error.value)
    assert "transformer" in str(error.value)


def test_state_dict_keys_are_rnn_and_head():
    keys = set(model_for(cell="lstm", layers=2, bidirectional=True).state_dict())
    assert {"rnn.weight_ih_l0", "rnn.weight_hh_l1_reverse", "head.weight", "head.bias"} <= keys
    assert all(key.startswith(("rnn.", "head.")) for key in keys)


@pytest.mark.parametrize("cell", ALL_CELLS)
def test_seq2seq_predicts_one_value_per_step(cell):
    y, _ = model_for(cell=cell)(torch.randn(5, 30, 1))
    assert y.shape == (5, 30, 1)


def test_seq2seq_with_batch_first_false_keeps_time_first():
    y, _ = model_for(input_size=3, batch_first=False, layers=2)(torch.randn(30, 5, 3))  # (T, B, F)
    assert y.shape == (30, 5, 1)


@pytest.mark.parametrize("batch_first", [True, False])
def test_last_head_predicts_horizon_points_per_window(batch_first):
    model = model_for(input_size=7, batch_first=batch_first, head="last", horizon=6)
    x = torch.randn(4, 24, 7) if batch_first else torch.randn(24, 4, 7)
    y, _ = model(x)
    assert y.shape == (4, 6)


@pytest.mark.parametrize("batch_first", [True, False])
def test_last_head_reads_the_last_time_step_of_the_output(batch_first):
    model = model_for(batch_first=batch_first, head="last", horizon=3, bidirectional=True).eval()
    x = torch.randn(4, 9, 1) if batch_first else torch.randn(9, 4, 1)
    out, _ = model.rnn(x)
    last = out[:, -1] if batch_first else out[-1]  # (B, D*H)
    y, _ = model(x)
    torch.testing.assert_close(y, model.head(last))


def test_bidirectional_head_reads_both_directions():
    model = model_for(hidden=16, bidirectional=True)
    assert model.head.in_features == 32


@pytest.mark.parametrize("cell", ALL_CELLS)
def test_state_is_directions_times_layers_by_batch_by_hidden(cell):
    _, state = model_for(input_size=2, cell=cell, hidden=8, layers=3, bidirectional=True)(
        torch.randn(5, 11, 2)
    )
    tensors = state if cell == "lstm" else (state,)
    assert len(tensors) == (2 if cell == "lstm" else 1)
    for tensor in tensors:
        assert tensor.shape == (6, 5, 8)


@pytest.mark.parametrize("cell", ALL_CELLS)
def test_initial_state_matches_torchs_default_zeros(cell):
    model = model_for(cell=cell, layers=2).eval()
    x = torch.randn(3, 10, 1)
    torch.testing.assert_close(model(x, model.initial_state(3))[0], model(x)[0])


@pytest.mark.parametrize("cell", ALL_CELLS)
def test_carried_state_equals_one_pass_over_the_concatenated_sequence(cell):
    model = model_for(input_size=2, cell=cell, layers=2).eval()
    x = torch.randn(3, 20, 2)
    whole, whole_state = model(x)
    first, state = model(x[:, :12])  # (B, 12, 1)
    second, state = model(x[:, 12:], state)  # (B, 8, 1)
    torch.testing.assert_close(torch.cat([first, second], dim=1), whole)
    torch.testing.assert_close(state, whole_state)  # h, or the pair (h, c)


@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_detach_state_cuts_the_graph_but_keeps_the_values(cell):
    _, state = model_for(cell=cell)(torch.randn(2, 5, 1))
    detached = detach_state(state)
    before = state if cell == "lstm" else (state,)
    after = detached if cell == "lstm" else (detached,)
    assert type(detached) is type(state)
    for old, new in zip(before, after, strict=True):
        assert old.requires_grad and not new.requires_grad and new.grad_fn is None
        assert torch.equal(old, new)


def test_detach_state_passes_none_through():
    assert detach_state(None) is None


def test_gradient_stops_at_the_detached_state():
    model = model_for()
    earlier = torch.randn(1, 5, 1, requires_grad=True)
    _, state = model(earlier)
    y, _ = model(torch.randn(1, 5, 1), state)
    assert torch.autograd.grad(y.sum(), earlier, retain_graph=True)[0] is not None
    y, _ = model(torch.randn(1, 5, 1), detach_state(state))
    assert torch.autograd.grad(y.sum(), earlier, allow_unused=True)[0] is None


def test_dropout_with_one_layer_raises_no_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = model_for(layers=1, dropout=0.5)
    assert model.rnn.dropout == 0.0


def test_dropout_applies_between_stacked_layers():
    assert model_for(layers=2, dropout=0.3).rnn.dropout == 0.3


def test_build_model_uses_the_run_configs_model_section():
    config = RunConfig.from_flat({"cell": "gru", "hidden": 12, "layers": 2, "head": "last", "horizon": 4})
    model = build_model(config, input_size=3, batch_first=False)
    assert isinstance(model.rnn, nn.GRU)
    assert (model.rnn.input_size, model.rnn.hidden_size, model.rnn.num_layers) == (3, 12, 2)
    assert not model.rnn.batch_first
    assert model.head.out_features == 4


def test_build_model_seeds_nothing():
    config = RunConfig()
    torch.manual_seed(1)
    a = build_model(config, 1)
    torch.manual_seed(1)
    b = build_model(config, 1)
    c = build_model(config, 1)
    torch.testing.assert_close(a.head.weight, b.head.weight)
    assert not torch.equal(b.head.weight, c.head.weight)


def test_forward_without_record_matches_forward_with_record():
    model = model_for(cell="lstm", layers=2).eval()
    x = torch.randn(2, 7, 1)
    seen = []
    traced, _ = model(x, record=lambda name, tensor: seen.append(name))
    torch.testing.assert_close(traced, model(x)[0])
    assert seen == ["output", "h_n", "c_n", "flat", "linear", "prediction"]
