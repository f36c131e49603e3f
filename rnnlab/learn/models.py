"""One SequenceModel for RNN, LSTM and GRU: a recurrent module, then a linear head.

Letters used in the shape comments, as in the shapes article:
    B batch size, T sequence length (time steps), F input features,
    H hidden size, L stacked layers, D directions (2 if bidirectional else 1).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import torch
from torch import Tensor, nn

from rnnlab.config import ModelConfig, RunConfig
from rnnlab.errors import ConfigError

__all__ = ["CELLS", "Cell", "State", "Record", "SequenceModel", "cell_spec", "detach_state", "build_model",
           "open_forget_gate"]

# h (RNN, GRU) or (h, c) (LSTM), each (D*L, B, H); None lets torch start from zeros.
State = Tensor | tuple[Tensor, Tensor] | None
# record(name, tensor): called at each step of a forward pass when tracing shapes (see shapes.py).
Record = Callable[[str, Tensor], None]


class Cell(NamedTuple):
    module: type[nn.RNNBase]
    nonlinearity: str | None  # only nn.RNN takes one
    gates: int  # weight blocks per layer: 1 for a plain RNN, 3 for GRU (r, z, n), 4 for LSTM (i, f, g, o)


CELLS: dict[str, Cell] = {
    "rnn": Cell(nn.RNN, "tanh", 1),
    "rnn_relu": Cell(nn.RNN, "relu", 1),
    "lstm": Cell(nn.LSTM, None, 4),
    "gru": Cell(nn.GRU, None, 3),
}


def cell_spec(name: str) -> Cell:
    """The registry entry for a cell name; a wrong name is answered with the valid ones."""
    try:
        return CELLS[name]
    except KeyError:
        raise ConfigError(f"cell must be one of {', '.join(CELLS)} (got {name!r}).") from None


class SequenceModel(nn.Module):
    """x (B, T, F) -> recurrent layers -> Linear: (B, T, 1) for head "seq2seq", (B, horizon) for head "last"."""

    def __init__(self, cfg: ModelConfig, input_size: int, batch_first: bool = True):
        super().__init__()
        cell = cell_spec(cfg.cell)
        self.config = cfg
        self.input_size = input_size
        self.hidden_size = cfg.hidden
        self.num_layers = cfg.layers
        self.directions = 2 if cfg.bidirectional else 1
        self.batch_first = batch_first
        self.many_to_one = cfg.head == "last"
        self.out_features = cfg.horizon if self.many_to_one else 1
        options = {"nonlinearity": cell.nonlinearity} if cell.nonlinearity else {}
        self.rnn = cell.module(
            input_size,
            cfg.hidden,
            num_layers=cfg.layers,
            batch_first=batch_first,
            bidirectional=cfg.bidirectional,
            # torch applies dropout between stacked layers only, and warns if asked to with one layer
            dropout=cfg.dropout if cfg.layers > 1 else 0.0,
            **options,
        )
        if cfg.forget_bias and isinstance(self.rnn, nn.LSTM):
            open_forget_gate(self.rnn, cfg.forget_bias)
        # both directions' hidden states are concatenated, so the head reads D*H features
        self.head = nn.Linear(self.directions * cfg.hidden, self.out_features)

    @property
    def is_lstm(self) -> bool:
        return isinstance(self.rnn, nn.LSTM)

    def initial_state(self, batch_size: int) -> State:
        """Zeros shaped as torch expects: (D*L, B, H), never batch-first; a pair (h_0, c_0) for LSTM."""
        weight = self.head.weight
        h = torch.zeros(self.directions * self.num_layers, batch_size, self.hidden_size,
                        dtype=weight.dtype, device=weight.device)  # (D*L, B, H)
        return (h, torch.zeros_like(h)) if self.is_lstm else h

    def forward(self, x: Tensor, state: State = None, record: Record | None = None) -> tuple[Tensor, State]:
        """x (B, T, F) [(T, B, F) if not batch_first] -> (prediction, final state)."""
        out, state = self.rnn(x, state)  # (B, T, D*H); state h_n (and c_n) (D*L, B, H)
        if record is not None:
            record("output", out)
            record("h_n", state[0] if self.is_lstm else state)
            if self.is_lstm:
                record("c_n", state[1])
        if self.many_to_one:
            # The last time step only. With bidirectional=True its backward half has seen just that
            # one step (the backward pass starts there); the shapes article does this, so do we.
            last = out[:, -1] if self.batch_first else out[-1]  # (B, D*H)
            if record is not None:
                record("last", last)
            y = self.head(last)  # (B, horizon)
            if record is not None:
                record("prediction", y)
            return y, state
        # seq2seq. Bidirectional, step t's backward half would have read x[t+1], its own target: RunConfig
        # refuses that pair (issue 15); the model still builds it, so tests can show the leak is caught.
        # seq2seq: nn.Linear wants 2-d rows, so flatten batch and time, apply it, and fold back
        if self.batch_first:
            b, t, dh = out.shape  # (B, T, D*H)
        else:
            t, b, dh = out.shape  # (T, B, D*H)
        flat = out.contiguous().view(b * t, dh)  # (B*T, D*H) [(T*B, D*H) if not batch_first]
        y = self.head(flat)  # (B*T, 1)
        if record is not None:
            record("flat", flat)
            record("linear", y)
        y = y.view(b, t, 1) if self.batch_first else y.view(t, b, 1)  # (B, T, 1) [(T, B, 1)]
        if record is not None:
            record("prediction", y)
        return y, state


def open_forget_gate(lstm: nn.LSTM, forget_bias: float) -> None:
    """Add `forget_bias` to the forget gate's bias of every layer and direction (the exported script embeds
    this). PyTorch has no option for it: an LSTM's biases are (4*H,) blocks of gates i, f, g, o, so f is the
    second quarter. An untrained forget gate sits near sigmoid(0) = 0.5 and halves the cell at every step;
    a bias of 1 keeps about 73% of it, so the gradient reaches far back from the start (Gers et al. 2000)."""
    hidden = lstm.hidden_size
    with torch.no_grad():
        for name, bias in lstm.named_parameters():
            if name.startswith("bias_ih"):  # bias_hh adds to the same gate: one of the two is enough
                bias[hidden : 2 * hidden] += forget_bias  # the f block of (4*H,)


def detach_state(state: State) -> State:
    """Keep the state's values, drop its history: truncated backprop (the notebook's `hidden = hidden.data`)."""
    if state is None:
        return None
    if isinstance(state, tuple):
        return tuple(s.detach() for s in state)  # LSTM: (h, c)
    return state.detach()


def build_model(config: RunConfig, input_size: int, batch_first: bool = True) -> SequenceModel:
    """The model for a run. Seeds nothing: the caller seeds before calling for reproducible weights."""
    return SequenceModel(config.model, input_size, batch_first=batch_first)
