"""Inside the network: hidden and cell states at every step, gate activations, and how much gradient
reaches each time step, all computed from a SequenceModel's own weights by stepping the cell equations.

nn.RNN/LSTM/GRU run the whole recurrence in one call and keep their gates (and the LSTM's cell state
over time) to themselves, so the equations are stepped here in plain torch; the tests check every number
against the real modules. Probes see the network as in evaluation: no dropout between layers. They read
a copy of the weights and never touch the model's `.grad`. Only the first window of a batch is probed.

Letters: T time steps, F input features, H hidden size, L layers, D directions, G gate blocks (1, 3, 4).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import torch
from torch import Tensor, nn

from rnnlab.analysis.shapes import layer_outputs
from rnnlab.config import RunConfig
from rnnlab.errors import ConfigError
from rnnlab.learn.models import SequenceModel, State, build_model

__all__ = [
    "GATE_INFO",
    "GRADIENT_SOURCES",
    "HiddenStates",
    "Gates",
    "GradientFlow",
    "hidden_states",
    "gates",
    "gradient_norms",
    "compare_cells",
]

# name -> (what to call it, what its value means); PyTorch's order within each cell.
GATE_INFO: dict[str, tuple[str, str]] = {
    # LSTM: weight_ih_l{k} stacks the blocks i, f, g, o
    "i": ("input gate i", "1 lets the candidate in, 0 blocks it"),
    "f": ("forget gate f", "1 keeps the cell state, 0 forgets it"),
    "g": ("candidate g", "new cell content, -1 to 1"),
    "o": ("output gate o", "1 shows the cell in h, 0 hides it"),
    # GRU: the blocks are r, z, n
    "r": ("reset gate r", "1 uses the old h in n, 0 ignores it"),
    "z": ("update gate z", "1 keeps the old h, 0 takes the new n"),
    "n": ("candidate n", "proposed new h, -1 to 1"),
}


# Which loss gradient_norms back-propagates:
#   "last": only the loss of the window's last prediction, so ||dL/dh_t|| is how much of that one error reaches
#           step t back through the recurrence: the vanishing-gradient picture (a last-step head always is this);
#   "all":  the training loss; for a seq2seq head summed over every step's prediction, so each h_t also gets
#           its own step's gradient directly and the curve stays flat even where the recurrence forgets.
GRADIENT_SOURCES = ("last", "all")


@dataclass(frozen=True, eq=False)  # eq=False: arrays do not compare to one bool
class HiddenStates:
    """One layer's state at every time step of one window."""

    h: np.ndarray  # (D*H, T): forward units first, then backward ones
    c: np.ndarray | None  # (D*H, T) cell state, LSTM only
    unit_labels: tuple[str, ...]  # D*H labels: "1".."H", or "fwd 1".."bwd H" when bidirectional
    cell: str  # the config's name: "rnn", "rnn_relu", "lstm" or "gru"
    layer: int  # 0-based, as in torch's weight names (weight_ih_l0)


@dataclass(frozen=True, eq=False)
class Gates:
    """Gate activations of one layer and direction at every time step; no gates for a plain RNN."""

    cell: str
    layer: int  # 0-based
    direction: int  # 0 forward, 1 backward (its recurrence runs from the last step to the first)
    values: dict[str, np.ndarray]  # gate name -> (H, T), columns in time order; empty for a plain RNN
    h: np.ndarray  # (H, T) hidden state rebuilt from the gates (the module's output for this direction)
    c: np.ndarray | None  # (H, T) cell state, LSTM only

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.values)

    def __getitem__(self, name: str) -> np.ndarray:
        return self.values[name]


@dataclass(frozen=True, eq=False)
class GradientFlow:
    """How much of the loss's gradient reaches one layer's hidden state at each step."""

    norms: np.ndarray  # (T,) ||dL/dh_t||, both directions together; 0 where truncation cut the graph
    total_norm: float  # norm of all parameter gradients, before clipping
    clipped_norm: float  # the same after clipping (equal to total_norm when clipping is off)
    cut: int = 0  # first time step the gradient reaches (0 without truncation)


class _Pass(NamedTuple):
    """One layer and direction stepped over a window; lists are in time order, whatever the direction."""

    h: list[Tensor]  # T tensors (H,)
    c: list[Tensor] | None  # T tensors (H,), LSTM only
    gates: dict[str, list[Tensor]]  # name -> T tensors (H,); filled only when asked


def hidden_states(model: SequenceModel, x: Tensor, state: State = None, layer: int = -1) -> HiddenStates:
    """h (and c for an LSTM) of one layer (0-based; -1 the top one) at every step of the first window of x."""
    layer = range(model.num_layers)[layer]  # out of range raises IndexError
    passes = [gates(model, x, layer, direction, state) for direction in range(model.directions)]
    h = np.concatenate([p.h for p in passes])  # (D*H, T)
    c = np.concatenate([p.c for p in passes]) if model.is_lstm else None  # (D*H, T)
    units = range(1, model.hidden_size + 1)
    labels = (tuple(f"fwd {u}" for u in units) + tuple(f"bwd {u}" for u in units) if model.directions == 2
              else tuple(str(u) for u in units))
    return HiddenStates(h=h, c=c, unit_labels=labels, cell=model.config.cell, layer=layer)


def gates(model: SequenceModel, x: Tensor, layer: int = -1, direction: int = 0, state: State = None) -> Gates:
    """The gates of one layer (0-based; negative counts from the top) and direction at every step of x's
    first window, from the model's weights; the layer's input is the real output of the layer below."""
    layer = range(model.num_layers)[layer]  # -1 -> the top layer; out of range raises IndexError
    if direction not in range(model.directions):
        raise IndexError(f"direction {direction} does not exist: the model has {model.directions}.")
    single = _single(model, x)  # (1, T, F) [(T, 1, F) if not batch_first]
    with torch.no_grad():
        below = single if layer == 0 else layer_outputs(model, single, _state_of_first(state))[layer - 1]
        inputs = _time_major(model, below)  # (T, F) for layer 0, (T, D*H) above
        h0, c0 = _initial(model, state, layer, direction, inputs)
        run = _run_direction(model, dict(model.rnn.named_parameters()), layer, direction, inputs, h0, c0,
                             record=True)
    values = {name: _columns(steps) for name, steps in run.gates.items()}
    return Gates(cell=model.config.cell, layer=layer, direction=direction, values=values,
                 h=_columns(run.h), c=None if run.c is None else _columns(run.c))


def gradient_norms(
    model: SequenceModel,
    x: Tensor,
    y: Tensor,
    loss_fn: nn.Module,
    state: State = None,
    truncate: int | None = None,
    clip: float = 0.0,
    source: str = "all",
    layer: int = -1,
) -> GradientFlow:
    """||dL/dh_t|| for one layer's hidden state (0-based; -1 the top one) at every step of x's first window,
    through the recurrence and the layers above; `truncate` back-propagates through the last steps only,
    `clip` > 0 clips as training does.

    `source` (see GRADIENT_SOURCES): "all" is the training loss; "last" the loss of the last step's prediction
    alone, which shows how much of it reaches each earlier step. The two differ only for a seq2seq head."""
    if truncate is not None and truncate < 1:
        raise ConfigError(f"truncate must be at least 1 time step (got {truncate}).")
    if source not in GRADIENT_SOURCES:
        raise ConfigError(f"source must be one of {', '.join(GRADIENT_SOURCES)} (got {source!r}).")
    single = _single(model, x)  # (1, T, F) [(T, 1, F)]
    inputs = _time_major(model, single)  # (T, F)
    steps = inputs.shape[0]
    cut = 0 if truncate is None else max(steps - truncate, 0)
    # Leaf copies of the weights: the gradient lands on them, not on a model that may be training.
    params = {name: p.detach().clone().requires_grad_(True) for name, p in model.rnn.named_parameters()}
    head_weight = model.head.weight.detach().clone().requires_grad_(True)  # (out, D*H)
    head_bias = model.head.bias.detach().clone().requires_grad_(True)  # (out,)
    probed = range(model.num_layers)[layer]  # out of range raises IndexError
    runs: list[_Pass] = []
    for k in range(model.num_layers):
        layer_runs = []
        for direction in range(model.directions):
            h0, c0 = _initial(model, state, k, direction, inputs)
            layer_runs.append(_run_direction(model, params, k, direction, inputs, h0, c0, cut=cut))
        # the next layer reads both directions side by side, as nn.LSTM feeds them
        inputs = torch.cat([torch.stack(run.h) for run in layer_runs], dim=1)  # (T, D*H)
        if k == probed:
            runs = layer_runs
    for run in runs:
        for h in run.h:
            if h.requires_grad:  # steps before the cut were detached: no gradient reaches them
                h.retain_grad()
    out = inputs.unsqueeze(0)  # (1, T, D*H), batch-first whatever the model's layout
    if model.many_to_one:
        prediction = nn.functional.linear(out[:, -1], head_weight, head_bias)  # (1, horizon)
        target = y[:1]  # (1, horizon)
    elif source == "last":  # seq2seq, scored on its last step only
        prediction = nn.functional.linear(out[:, -1], head_weight, head_bias)  # (1, 1)
        target = y[:1, -1] if model.batch_first else y[-1, :1]  # (1, 1)
    else:
        prediction = nn.functional.linear(out, head_weight, head_bias)  # (1, T, 1)
        target = y[:1] if model.batch_first else y[:, :1].transpose(0, 1)  # (1, T, 1)
    loss = loss_fn(prediction, target.to(prediction.dtype))
    loss.backward()
    norms = np.zeros(steps)  # (T,)
    for t in range(steps):
        squares = [float(run.h[t].grad.pow(2).sum()) for run in runs if run.h[t].grad is not None]
        norms[t] = math.sqrt(sum(squares))
    leaves = [*params.values(), head_weight, head_bias]
    max_norm = clip if clip > 0 else math.inf
    total = float(torch.nn.utils.clip_grad_norm_(leaves, max_norm))  # returns the norm before clipping
    clipped = math.sqrt(sum(float(p.grad.pow(2).sum()) for p in leaves if p.grad is not None))
    return GradientFlow(norms=norms, total_norm=total, clipped_norm=clipped, cut=cut)


def compare_cells(
    config: RunConfig,
    x: Tensor,
    y: Tensor,
    cells: tuple[str, ...] = ("rnn", "lstm", "gru"),
    seed: int = 0,
    loss_fn: nn.Module | None = None,
    forget_bias: float = 0.0,
    source: str = "all",
    layer: int = -1,
) -> dict[str, np.ndarray]:
    """Gradient norms per step of fresh, equally seeded models that differ only in their cell. `forget_bias`
    is added to the LSTM's forget-gate bias (1.0 is the usual initialisation trick; 0 keeps PyTorch's);
    `source` and `layer` as in gradient_norms."""
    from rnnlab.learn.trainer import LOSSES  # here, not at the top: the trainer pulls in the data pipeline

    loss_fn = LOSSES[config.train.loss]() if loss_fn is None else loss_fn
    result: dict[str, np.ndarray] = {}
    for cell in cells:
        with torch.random.fork_rng(devices=[]):  # leave the caller's random stream alone
            torch.manual_seed(seed)
            model = build_model(config.replace(cell=cell), input_size=x.shape[-1])
        if model.is_lstm and forget_bias:
            # An untrained LSTM's forget gate sits near sigmoid(0) = 0.5, so its cell fades about as fast as
            # a plain RNN's state; a positive bias opens the gate, the cell's memory and its gradient path.
            with torch.no_grad():
                for name, bias in model.rnn.named_parameters():
                    if name.startswith("bias_ih"):
                        bias[model.hidden_size:2 * model.hidden_size] += forget_bias  # f block of (4*H,)
        result[cell] = gradient_norms(model, x, y, loss_fn, source=source, layer=layer).norms
    return result


# --- the cell equations, stepped ------------------------------------------------------------------


def _run_direction(
    model: SequenceModel,
    params: dict[str, Tensor],
    layer: int,
    direction: int,
    inputs: Tensor,
    h0: Tensor,
    c0: Tensor | None,
    cut: int = 0,
    record: bool = False,
) -> _Pass:
    """Step one layer and direction over inputs (T, F_in); states before time `cut` are detached."""
    suffix = f"_l{layer}" + ("_reverse" if direction == 1 else "")
    w_ih, w_hh = params[f"weight_ih{suffix}"], params[f"weight_hh{suffix}"]  # (G*H, F_in), (G*H, H)
    b_ih, b_hh = params[f"bias_ih{suffix}"], params[f"bias_hh{suffix}"]  # (G*H,) each
    kind = "lstm" if isinstance(model.rnn, nn.LSTM) else "gru" if isinstance(model.rnn, nn.GRU) else "rnn"
    activation = torch.relu if getattr(model.rnn, "nonlinearity", "tanh") == "relu" else torch.tanh
    steps = inputs.shape[0]
    # the input's share of every gate does not depend on the state: all steps in one product
    from_input = inputs @ w_ih.T + b_ih  # (T, G*H)
    hs: list[Tensor | None] = [None] * steps
    cs: list[Tensor | None] = [None] * steps
    names = {"lstm": "ifgo", "gru": "rzn", "rnn": ""}[kind] if record else ""
    recorded: dict[str, list[Tensor | None]] = {name: [None] * steps for name in names}
    h, c = h0, c0  # (H,) each
    # the backward direction reads the window from its last step to its first
    for t in range(steps - 1, -1, -1) if direction == 1 else range(steps):
        from_state = h @ w_hh.T + b_hh  # (G*H,)
        if kind == "lstm":
            i, f, g, o = (from_input[t] + from_state).chunk(4)  # (H,) each
            i, f, g, o = i.sigmoid(), f.sigmoid(), g.tanh(), o.sigmoid()
            c = f * c + i * g  # keep part of the old cell, write part of the candidate
            h = o * c.tanh()
            step_gates = (i, f, g, o)
        elif kind == "gru":
            x_r, x_z, x_n = from_input[t].chunk(3)  # (H,) each
            h_r, h_z, h_n = from_state.chunk(3)  # (H,) each
            r, z = (x_r + h_r).sigmoid(), (x_z + h_z).sigmoid()
            n = (x_n + r * h_n).tanh()  # r scales the old state's share, its bias b_hn included
            h = (1 - z) * n + z * h
            step_gates = (r, z, n)
        else:
            h = activation(from_input[t] + from_state)
            step_gates = ()
        if t < cut:  # truncated backpropagation: keep the value, drop the history (`hidden.data`)
            h = h.detach()
            c = None if c is None else c.detach()
        hs[t], cs[t] = h, c
        for name, value in zip(names, step_gates, strict=False):
            recorded[name][t] = value
    return _Pass(h=hs, c=cs if kind == "lstm" else None, gates=recorded)  # type: ignore[arg-type]


def _single(model: SequenceModel, x: Tensor) -> Tensor:
    """The first window of a batch, in the model's layout and weights' dtype."""
    single = x[:1] if model.batch_first else x[:, :1]  # (1, T, F) [(T, 1, F)]
    return single.to(model.head.weight.dtype)


def _time_major(model: SequenceModel, single: Tensor) -> Tensor:
    """(1, T, F) [(T, 1, F)] -> (T, F)."""
    return single[0] if model.batch_first else single[:, 0]  # (T, F)


def _state_of_first(state: State) -> State:
    """The first window's rows of a (D*L, B, H) state, kept three-dimensional."""
    if state is None:
        return None
    if isinstance(state, tuple):
        return tuple(s[:, :1].detach() for s in state)  # (D*L, 1, H) each
    return state[:, :1].detach()  # (D*L, 1, H)


def _initial(model: SequenceModel, state: State, layer: int, direction: int, like: Tensor
             ) -> tuple[Tensor, Tensor | None]:
    """h_0 (and c_0) of one layer and direction for the first window: zeros when no state is given."""
    row = layer * model.directions + direction  # torch stacks layers, then directions within a layer
    zeros = torch.zeros(model.hidden_size, dtype=like.dtype)  # (H,)
    if state is None:
        return zeros, zeros.clone() if model.is_lstm else None
    if isinstance(state, tuple):
        h, c = state
        return h[row, 0].detach().to(like.dtype), c[row, 0].detach().to(like.dtype)  # (H,) each
    return state[row, 0].detach().to(like.dtype), None  # (H,)


def _columns(steps: list[Tensor]) -> np.ndarray:
    """T tensors (H,) -> an array (H, T): one row per unit, one column per time step."""
    return torch.stack(steps, dim=1).detach().cpu().numpy()  # (H, T)
