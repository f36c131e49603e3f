"""Inside lets you choose the layer (issue 14): the probes read any stacked layer, checked against the real
modules and against autograd through them."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from rnnlab.analysis.probes import compare_cells, gates, gradient_norms, hidden_states
from rnnlab.analysis.shapes import layer_outputs
from rnnlab.config import ModelConfig, RunConfig
from rnnlab.learn.models import SequenceModel

MODULES = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


def model_of(cell: str, layers: int = 3, head: str = "last", seed: int = 0) -> SequenceModel:
    torch.manual_seed(seed)
    return SequenceModel(ModelConfig(cell=cell, hidden=5, layers=layers, head=head), 2).eval()


def window(seed: int = 1) -> torch.Tensor:
    return torch.randn(2, 8, 2, generator=torch.Generator().manual_seed(seed))  # (B, T, F)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("layer", [0, 1, 2])
def test_hidden_states_of_any_layer_equal_that_layers_module_output(cell, layer):
    model, x = model_of(cell), window()
    with torch.no_grad():
        expected = layer_outputs(model, x[:1])[layer][0].numpy()  # (T, H)
    states = hidden_states(model, x, layer=layer)
    assert states.layer == layer
    np.testing.assert_allclose(states.h, expected.T, atol=1e-5)
    np.testing.assert_allclose(gates(model, x, layer).h, expected.T, atol=1e-5)


def test_the_default_layer_is_the_top_one_and_a_missing_layer_is_refused():
    model, x = model_of("gru"), window()
    np.testing.assert_array_equal(hidden_states(model, x).h, hidden_states(model, x, layer=2).h)
    with pytest.raises(IndexError):
        hidden_states(model, x, layer=3)


def _reference_gradient(model: SequenceModel, x: torch.Tensor, y: torch.Tensor, layer: int) -> np.ndarray:
    """||dL/dh_t|| of `layer`, with real single-layer modules stepped one time step at a time: a zero `delta`
    added to each h_t of that layer carries the total derivative (through its own recurrence and the layers
    above) into delta.grad."""
    cell, hidden = model.config.cell, model.hidden_size
    inputs, deltas = x[:1], []
    for k in range(model.num_layers):
        module = MODULES[cell](inputs.shape[-1], hidden, batch_first=True)
        with torch.no_grad():
            for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                getattr(module, f"{name}_l0").copy_(getattr(model.rnn, f"{name}_l{k}"))
        state, outs = None, []
        for t in range(inputs.shape[1]):
            out, state = module(inputs[:, t : t + 1], state)  # (1, 1, H)
            if k == layer:
                delta = torch.zeros_like(out, requires_grad=True)
                deltas.append(delta)
                out = out + delta
                h = out.transpose(0, 1)  # (1, 1, H) as (layers, batch, H)
                state = (h, state[1]) if cell == "lstm" else h
            outs.append(out)
        inputs = torch.cat(outs, dim=1)  # (1, T, H)
    nn.MSELoss()(model.head(inputs[:, -1]), y[:1]).backward()
    return np.array([float(d.grad.norm()) for d in deltas])


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("layer", [0, 1])
def test_gradient_norms_of_a_lower_layer_match_autograd_through_the_real_modules(cell, layer):
    model, x = model_of(cell), window()
    y = torch.randn(2, 1, generator=torch.Generator().manual_seed(2))
    probed = gradient_norms(model, x, y, nn.MSELoss(), layer=layer).norms
    np.testing.assert_allclose(probed, _reference_gradient(model, x, y, layer), rtol=1e-4, atol=1e-8)


def test_choosing_a_layer_changes_the_gradient_curve_and_compare_cells_follows_it():
    model, x = model_of("rnn"), window()
    y = torch.randn(2, 1, generator=torch.Generator().manual_seed(2))
    bottom = gradient_norms(model, x, y, nn.MSELoss(), layer=0).norms
    top = gradient_norms(model, x, y, nn.MSELoss()).norms
    assert not np.allclose(bottom, top)
    config = RunConfig().replace(cell="rnn", layers=3, hidden=5, head="last")
    fresh = compare_cells(config, x, y, cells=("gru",), layer=0)["gru"]
    fresh_top = compare_cells(config, x, y, cells=("gru",))["gru"]
    assert fresh.shape == fresh_top.shape and not np.allclose(fresh, fresh_top)
