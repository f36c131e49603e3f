"""The probes, checked against what real nn.RNN/LSTM/GRU compute and what autograd says about them."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from rnnlab.analysis.probes import compare_cells, gates, gradient_norms, hidden_states
from rnnlab.config import ModelConfig, RunConfig
from rnnlab.errors import ConfigError
from rnnlab.learn.models import SequenceModel, build_model

STACKS = [(layers, bidirectional) for layers in (1, 2, 3) for bidirectional in (False, True)]


def model_of(cell: str, layers: int = 1, bidirectional: bool = False, hidden: int = 5, head: str = "seq2seq",
             input_size: int = 2, seed: int = 0, batch_first: bool = True) -> SequenceModel:
    # Built from ModelConfig, past RunConfig's rules: the probes must read any SequenceModel, including the
    # bidirectional seq2seq one the config refuses for forecasting (issue 15).
    config = ModelConfig(cell=cell, hidden=hidden, layers=layers, bidirectional=bidirectional, head=head)
    torch.manual_seed(seed)
    return SequenceModel(config, input_size, batch_first=batch_first).eval()


def window(steps: int = 9, features: int = 2, batch: int = 3, seed: int = 1) -> torch.Tensor:
    return torch.randn(batch, steps, features, generator=torch.Generator().manual_seed(seed))  # (B, T, F)


def reference(model: SequenceModel, x: torch.Tensor):
    """The real module on the first window: out (T, D*H) as numpy, and the final state."""
    with torch.no_grad():
        out, state = model.rnn(x[:1])  # (1, T, D*H)
    return out[0].numpy(), state


def rebuild_lstm(i, f, g, o, backward: bool):
    """h and c (H, T) from the gates alone: c_t = f c_prev + i g, h_t = o tanh(c_t), starting from zeros."""
    c, hs, cs = np.zeros(i.shape[0]), {}, {}
    for t in (range(i.shape[1] - 1, -1, -1) if backward else range(i.shape[1])):
        c = f[:, t] * c + i[:, t] * g[:, t]
        cs[t], hs[t] = c, o[:, t] * np.tanh(c)
    order = range(i.shape[1])
    return np.stack([hs[t] for t in order], 1), np.stack([cs[t] for t in order], 1)


def rebuild_gru(z, n, backward: bool):
    """h (H, T) from the gates alone: h_t = (1 - z) n + z h_prev, starting from zeros."""
    h, hs = np.zeros(z.shape[0]), {}
    for t in (range(z.shape[1] - 1, -1, -1) if backward else range(z.shape[1])):
        h = (1 - z[:, t]) * n[:, t] + z[:, t] * h
        hs[t] = h
    return np.stack([hs[t] for t in range(z.shape[1])], 1)


@pytest.mark.parametrize(("layers", "bidirectional"), STACKS)
def test_lstm_gates_reproduce_nn_lstm_outputs(layers, bidirectional):
    model, x = model_of("lstm", layers, bidirectional), window()
    out, (h_n, c_n) = reference(model, x)  # out (T, D*H); h_n, c_n (D*L, 1, H)
    hidden, d = model.hidden_size, model.directions
    for layer in range(layers):
        for direction in range(d):
            probe = gates(model, x, layer, direction)
            assert probe.names == ("i", "f", "g", "o")
            h, c = rebuild_lstm(probe["i"], probe["f"], probe["g"], probe["o"], backward=direction == 1)
            last = 0 if direction == 1 else -1  # the backward direction ends at the first step
            row = layer * d + direction
            np.testing.assert_allclose(h[:, last], h_n[row, 0].numpy(), atol=1e-5)
            np.testing.assert_allclose(c[:, last], c_n[row, 0].numpy(), atol=1e-5)
            np.testing.assert_allclose(probe.c, c, atol=1e-5)
            if layer == layers - 1:
                np.testing.assert_allclose(h, out[:, direction * hidden:(direction + 1) * hidden].T, atol=1e-5)


@pytest.mark.parametrize(("layers", "bidirectional"), STACKS)
def test_gru_gates_reproduce_nn_gru_outputs(layers, bidirectional):
    model, x = model_of("gru", layers, bidirectional), window()
    out, h_n = reference(model, x)
    hidden, d = model.hidden_size, model.directions
    for layer in range(layers):
        for direction in range(d):
            probe = gates(model, x, layer, direction)
            assert probe.names == ("r", "z", "n")
            assert probe.c is None
            h = rebuild_gru(probe["z"], probe["n"], backward=direction == 1)
            last = 0 if direction == 1 else -1
            np.testing.assert_allclose(h[:, last], h_n[layer * d + direction, 0].numpy(), atol=1e-5)
            if layer == layers - 1:
                np.testing.assert_allclose(h, out[:, direction * hidden:(direction + 1) * hidden].T, atol=1e-5)


def test_gru_reset_gate_scales_the_recurrent_bias_too():
    # n = tanh(W_in x + b_in + r * (W_hn h + b_hn)): with b_hn inside the product, n is exact only if r multiplies it
    model, x = model_of("gru"), window()
    with torch.no_grad():
        model.rnn.bias_hh_l0[2 * model.hidden_size:] += 2.0  # a large b_hn makes the difference visible
    out, _ = reference(model, x)
    np.testing.assert_allclose(gates(model, x).h, out.T, atol=1e-5)


def test_gates_stay_in_their_ranges():
    model, x = model_of("lstm", hidden=8), window(steps=30) * 5
    probe = gates(model, x)
    for name in ("i", "f", "o"):
        assert probe[name].min() >= 0 and probe[name].max() <= 1
    assert probe["g"].min() >= -1 and probe["g"].max() <= 1


@pytest.mark.parametrize("cell", ["rnn", "rnn_relu"])
def test_plain_rnn_has_no_gates_but_its_states_match_nn_rnn(cell):
    model, x = model_of(cell, layers=2), window()
    out, _ = reference(model, x)
    probe = gates(model, x)
    assert probe.names == () and probe.values == {} and probe.c is None
    np.testing.assert_allclose(probe.h, out.T, atol=1e-5)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize(("layers", "bidirectional"), [(1, False), (2, True)])
def test_hidden_states_equal_the_module_output(cell, layers, bidirectional):
    model, x = model_of(cell, layers, bidirectional), window()
    out, state = reference(model, x)
    states = hidden_states(model, x)
    assert states.h.shape == (model.directions * model.hidden_size, x.shape[1])  # (D*H, T)
    np.testing.assert_allclose(states.h, out.T, atol=1e-5)
    assert states.layer == layers - 1 and states.cell == cell


def test_lstm_cell_state_over_time_ends_at_c_n():
    model, x = model_of("lstm", layers=2, bidirectional=True), window()
    _, (_, c_n) = reference(model, x)  # (D*L, 1, H)
    c, hidden = hidden_states(model, x).c, model.hidden_size  # (2H, T)
    np.testing.assert_allclose(c[:hidden, -1], c_n[2, 0].numpy(), atol=1e-5)  # top layer, forward: ends last
    np.testing.assert_allclose(c[hidden:, 0], c_n[3, 0].numpy(), atol=1e-5)  # top layer, backward: ends first


def test_only_lstm_has_a_cell_state():
    assert hidden_states(model_of("gru"), window()).c is None
    assert hidden_states(model_of("rnn"), window()).c is None


def test_bidirectional_units_are_labelled_by_direction():
    labels = hidden_states(model_of("gru", bidirectional=True, hidden=3), window()).unit_labels
    assert labels == ("fwd 1", "fwd 2", "fwd 3", "bwd 1", "bwd 2", "bwd 3")
    assert hidden_states(model_of("gru", hidden=3), window()).unit_labels == ("1", "2", "3")


def test_bidirectional_backward_direction_runs_backwards():
    model, x = model_of("lstm", bidirectional=True), window()
    changed = x.clone()
    changed[:, :-1] += 1.0  # every step but the last
    forward, backward = gates(model, x, direction=0), gates(model, x, direction=1)
    forward2, backward2 = gates(model, changed, direction=0), gates(model, changed, direction=1)
    # the backward pass starts at the last step: its state there has seen only that step's input
    np.testing.assert_allclose(backward.h[:, -1], backward2.h[:, -1], atol=1e-6)
    assert not np.allclose(backward.h[:, 0], backward2.h[:, 0])
    assert not np.allclose(forward.h[:, -1], forward2.h[:, -1])


def test_gates_start_from_the_given_state_of_the_first_window():
    model, x = model_of("lstm", layers=2), window()
    state = tuple(torch.randn(2, 3, model.hidden_size) for _ in range(2))  # (D*L, B, H) each
    with torch.no_grad():
        out, _ = model.rnn(x, state)  # (B, T, H)
    np.testing.assert_allclose(hidden_states(model, x, state).h, out[0].numpy().T, atol=1e-5)


def test_time_first_models_are_probed_like_batch_first_ones():
    first, x = model_of("gru", layers=2, head="seq2seq"), window()
    second = model_of("gru", layers=2, head="seq2seq", batch_first=False)
    y = torch.randn(3, 9, 1)  # (B, T, 1)
    np.testing.assert_allclose(hidden_states(second, x.transpose(0, 1)).h, hidden_states(first, x).h, atol=1e-6)
    flows = [gradient_norms(first, x, y, nn.MSELoss()), gradient_norms(second, x.transpose(0, 1),
                                                                        y.transpose(0, 1), nn.MSELoss())]
    np.testing.assert_allclose(flows[0].norms, flows[1].norms, rtol=1e-5)


def test_rnn_gradient_vanishes_back_in_time():
    model, x = model_of("rnn", hidden=8, head="last", input_size=1), window(steps=15, features=1)
    with torch.no_grad():  # |W_hh| = 0.5 and |tanh'| <= 1: each step back at most halves the gradient
        model.rnn.weight_hh_l0.copy_(0.5 * torch.linalg.qr(torch.randn(8, 8))[0])
    norms = gradient_norms(model, x, torch.ones(3, 1), nn.MSELoss()).norms
    assert norms.shape == (15,)
    assert (norms > 0).all()
    assert (norms[:-1] <= 0.5 * norms[1:] * (1 + 1e-5)).all()
    assert norms[0] < 1e-4 * norms[-1]


def test_last_step_source_shows_a_seq2seq_rnn_gradient_vanishing():
    # With every step's loss (source "all") each h_t gets its own step's gradient directly and the curve stays
    # flat; with the last step's loss alone it shows how much of that error reaches each earlier step.
    model, x = model_of("rnn", hidden=8, head="seq2seq", input_size=1), window(steps=15, features=1)
    with torch.no_grad():  # |W_hh| = 0.5 and |tanh'| <= 1: each step back at most halves the gradient
        model.rnn.weight_hh_l0.copy_(0.5 * torch.linalg.qr(torch.randn(8, 8))[0])
    y = torch.ones(3, 15, 1)
    last = gradient_norms(model, x, y, nn.MSELoss(), source="last").norms
    every = gradient_norms(model, x, y, nn.MSELoss(), source="all").norms
    assert last.shape == every.shape == (15,)
    assert (last > 0).all()
    assert (last[:-1] <= 0.5 * last[1:] * (1 + 1e-5)).all()
    assert last[0] < 1e-4 * last[-1]
    assert every[0] > 0.01 * every[-1]  # the summed loss hides the decay


def test_last_step_source_of_a_time_first_model_matches_batch_first():
    first, x = model_of("lstm", head="seq2seq"), window()
    second = model_of("lstm", head="seq2seq", batch_first=False)
    y = torch.randn(3, 9, 1)  # (B, T, 1)
    np.testing.assert_allclose(gradient_norms(first, x, y, nn.MSELoss(), source="last").norms,
                               gradient_norms(second, x.transpose(0, 1), y.transpose(0, 1), nn.MSELoss(),
                                              source="last").norms, rtol=1e-5)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_last_step_source_matches_autograd_on_the_last_prediction(cell):
    model, x, y = model_of(cell, layers=2, head="seq2seq", hidden=6), window(), torch.randn(3, 9, 1)
    out, _ = model.rnn(x[:1])  # (1, T, H): the real module
    out.retain_grad()
    nn.MSELoss()(model.head(out[:, -1]), y[:1, -1]).backward()
    # out.grad holds only the direct share, which the last step alone gets; the recurrence feeds the others
    direct = out.grad[0].norm(dim=1).numpy()  # (T,)
    assert (direct[:-1] == 0).all()
    norms = gradient_norms(model, x, y, nn.MSELoss(), source="last").norms
    assert norms[-1] == pytest.approx(direct[-1], rel=1e-5)
    assert (norms[:-1] > 0).all()


def test_the_source_changes_nothing_for_a_last_step_head():
    model, x, y = model_of("gru", head="last"), window(), torch.randn(3, 1)
    np.testing.assert_allclose(gradient_norms(model, x, y, nn.MSELoss(), source="last").norms,
                               gradient_norms(model, x, y, nn.MSELoss(), source="all").norms)


def test_an_unknown_source_is_a_config_error():
    with pytest.raises(ConfigError, match="source"):
        gradient_norms(model_of("rnn"), window(), torch.randn(3, 9, 1), nn.MSELoss(), source="first")


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("head", ["seq2seq", "last"])
def test_last_step_gradient_matches_autograd(cell, head):
    model, x = model_of(cell, layers=2, head=head, hidden=6), window()
    y = torch.randn(3, 9, 1) if head == "seq2seq" else torch.randn(3, 1)
    out, _ = model.rnn(x[:1])  # (1, T, H): the real module
    out.retain_grad()
    prediction = model.head(out[:, -1]) if head == "last" else model.head(out)
    nn.MSELoss()(prediction, y[:1]).backward()
    # the last step feeds nothing later, so all its gradient comes straight from the loss
    expected = out.grad[0, -1].norm().item()
    assert gradient_norms(model, x, y, nn.MSELoss()).norms[-1] == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_total_norm_matches_the_models_own_backward(cell):
    model, x = model_of(cell, layers=2, bidirectional=True, head="seq2seq"), window()
    y = torch.randn(3, 9, 1)
    prediction, _ = model(x[:1])
    nn.MSELoss()(prediction, y[:1]).backward()
    expected = math.sqrt(sum(float(p.grad.pow(2).sum()) for p in model.parameters()))
    model.zero_grad(set_to_none=True)
    assert gradient_norms(model, x, y, nn.MSELoss()).total_norm == pytest.approx(expected, rel=1e-5)


def test_gradient_norms_leave_the_models_gradients_alone():
    model, x = model_of("lstm"), window()
    gradient_norms(model, x, torch.randn(3, 9, 1), nn.MSELoss())
    assert all(p.grad is None for p in model.parameters())


def test_truncation_zeroes_gradient_before_the_cut():
    model, x = model_of("lstm", layers=2, bidirectional=True), window(steps=12)
    flow = gradient_norms(model, x, torch.randn(3, 12, 1), nn.MSELoss(), truncate=5)
    assert flow.cut == 7
    assert (flow.norms[:7] == 0).all()
    assert (flow.norms[7:] > 0).all()


def test_truncation_leaves_gradient_after_the_cut_unchanged():
    # dL/dh_t depends only on what h_t feeds, which lies after t: cutting earlier history changes nothing there
    model, x, y = model_of("gru", head="last"), window(steps=12), torch.randn(3, 1)
    full = gradient_norms(model, x, y, nn.MSELoss()).norms
    cut = gradient_norms(model, x, y, nn.MSELoss(), truncate=4).norms
    np.testing.assert_allclose(cut[8:], full[8:], rtol=1e-6)


def test_truncation_longer_than_the_window_changes_nothing():
    model, x, y = model_of("rnn", head="last"), window(), torch.randn(3, 1)
    assert gradient_norms(model, x, y, nn.MSELoss(), truncate=100).cut == 0
    np.testing.assert_allclose(gradient_norms(model, x, y, nn.MSELoss(), truncate=100).norms,
                               gradient_norms(model, x, y, nn.MSELoss()).norms)


def test_truncation_below_one_step_is_a_config_error():
    with pytest.raises(ConfigError, match="truncate"):
        gradient_norms(model_of("rnn"), window(), torch.randn(3, 9, 1), nn.MSELoss(), truncate=0)


def test_clipping_caps_total_norm():
    model, x, y = model_of("lstm"), window(), torch.randn(3, 9, 1) * 10
    flow = gradient_norms(model, x, y, nn.MSELoss(), clip=0.01)
    assert flow.total_norm > 0.01
    assert flow.clipped_norm == pytest.approx(0.01, rel=1e-3)


def test_without_clipping_the_norm_is_unchanged():
    flow = gradient_norms(model_of("gru"), window(), torch.randn(3, 9, 1), nn.MSELoss())
    assert flow.clipped_norm == pytest.approx(flow.total_norm, rel=1e-6)


def test_lstm_gradient_decays_slower_than_rnn():
    # At PyTorch's default initialisation an LSTM's forget gate sits near 0.5 and its gradient fades about as
    # fast as a plain RNN's (measured: neither wins reliably). With the usual forget-gate bias of 1 the cell
    # keeps its memory and the gradient 40 steps back is orders of magnitude larger, whatever the seed.
    steps = 40
    series = torch.sin(torch.arange(steps + 1, dtype=torch.float32) * 2 * math.pi / 20)
    x, y = series[:-1].view(1, steps, 1), series[-1:].view(1, 1)  # (1, T, 1), (1, horizon)
    config = RunConfig.from_flat({"hidden": 16, "head": "last", "seq_len": steps})
    for seed in range(3):
        norms = compare_cells(config, x, y, cells=("rnn", "lstm"), seed=seed, forget_bias=1.0)
        kept = {cell: values[0] / values[-1] for cell, values in norms.items()}
        assert kept["lstm"] > 1000 * kept["rnn"], (seed, kept)


def test_compare_cells_gives_one_norm_per_step_for_each_cell():
    config = RunConfig.from_flat({"hidden": 4, "seq_len": 9})
    norms = compare_cells(config, window(), torch.randn(3, 9, 1))
    assert list(norms) == ["rnn", "lstm", "gru"]
    assert all(values.shape == (9,) for values in norms.values())


def test_compare_cells_passes_the_source_on():
    config = RunConfig.from_flat({"hidden": 4, "seq_len": 9})
    x, y = window(), torch.randn(3, 9, 1)
    norms = compare_cells(config, x, y, cells=("rnn",), source="last")
    torch.manual_seed(0)
    model = build_model(config.replace(cell="rnn"), input_size=2)
    np.testing.assert_allclose(norms["rnn"], gradient_norms(model, x, y, nn.MSELoss(), source="last").norms)


def test_compare_cells_leaves_the_callers_random_stream_alone():
    x, y = window(), torch.zeros(3, 9, 1)
    torch.manual_seed(5)
    expected = torch.rand(3)
    torch.manual_seed(5)
    compare_cells(RunConfig.from_flat({"hidden": 4}), x, y, cells=("gru",))
    assert torch.equal(torch.rand(3), expected)
