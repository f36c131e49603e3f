"""The shape trace: every tensor of one real forward pass of a SequenceModel, reshapes included,
and the parameter count of each layer with its formula.

Shapes are read from tensors that a real forward pass produced, never computed by formula; only
the `code` and `meaning` texts are written here. Letters: B batch, T time steps, F features,
H hidden size, L layers, D directions.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from rnnlab.config import RunConfig
from rnnlab.learn.models import SequenceModel, State, build_model, cell_spec

__all__ = ["TraceRow", "ParamRow", "shape_trace", "layer_outputs", "param_table", "format_shape", "trace_table"]


@dataclass(frozen=True)
class TraceRow:
    name: str  # the tensor's name in the code, e.g. "h_0" or "out (flat)"
    shape: tuple[int, ...]
    meaning: str
    code: str  # the one line of torch that produced it


@dataclass(frozen=True)
class ParamRow:
    part: str  # e.g. "LSTM layer 1, forward"
    count: int
    formula: str  # e.g. "4·H·(F+H) + 8·H = 4·32·(1+32) + 8·32 = 4480"


def format_shape(shape: tuple[int, ...] | torch.Size) -> str:
    """A shape as Python writes a tuple: (5, 30, 64), (5,) or ()."""
    return str(tuple(int(n) for n in shape))


def layer_outputs(model: SequenceModel, x: Tensor, state: State = None) -> list[Tensor]:
    """The output of each stacked layer, which nn.RNN/LSTM/GRU keep hidden: a real forward pass through
    one-layer modules that hold the model's weights for that layer. The last equals the model's output."""
    rnn, d = model.rnn, model.directions
    outputs, inputs = [], x  # (B, T, F)
    for k in range(model.num_layers):
        options = {"nonlinearity": rnn.nonlinearity} if isinstance(rnn, nn.RNN) else {}
        layer = type(rnn)(inputs.shape[-1], model.hidden_size, num_layers=1, batch_first=model.batch_first,
                          bidirectional=d == 2, **options)
        # weight_ih_l{k}, weight_hh_l{k}_reverse, ... become weight_ih_l0, weight_hh_l0_reverse, ...
        weights = {name.replace(f"_l{k}", "_l0"): p for name, p in rnn.named_parameters() if _layer_of(name) == k}
        layer.load_state_dict(weights)
        layer.to(device=x.device, dtype=x.dtype)
        layer_state = None if state is None else (
            tuple(s[k * d:(k + 1) * d] for s in state) if isinstance(state, tuple)  # (D, B, H) each
            else state[k * d:(k + 1) * d]  # (D, B, H)
        )
        inputs, _ = layer(inputs, layer_state)  # (B, T, D*H)
        outputs.append(inputs)
    return outputs


def _layer_of(parameter_name: str) -> int:
    """'weight_hh_l2_reverse' -> 2."""
    return int(parameter_name.split("_l")[-1].split("_")[0])


def shape_trace(
    config: RunConfig, input_size: int, batch_first: bool = True, batch: int | None = None
) -> list[TraceRow]:
    """Every tensor of one forward pass, in order, from the DataLoader's batch to the prediction."""
    m = config.model
    b = config.effective_batch if batch is None else batch
    t, f, h, n_layers, d = config.train.seq_len, input_size, m.hidden, m.layers, config.directions
    lstm = cell_spec(m.cell).module is nn.LSTM
    module = cell_spec(m.cell).module.__name__
    rows: list[TraceRow] = []

    def add(name: str, tensor: Tensor, meaning: str, code: str) -> None:
        rows.append(TraceRow(name, tuple(tensor.shape), meaning, code))

    with torch.random.fork_rng(devices=[]), torch.no_grad():  # leave the caller's random stream alone
        torch.manual_seed(0)
        model = build_model(config, input_size, batch_first=batch_first).eval()  # eval: no dropout
        # --- input ------------------------------------------------------------------------------
        raw = torch.randn(b, t) if f == 1 else torch.randn(b, t, f)  # (B, T) or (B, T, F)
        add("batch", raw,
            f"{b} window{'s' if b != 1 else ''} of {t} steps, as a DataLoader yields them"
            + (": one feature comes without a feature axis." if f == 1 else f", {f} features per step."),
            "batch = next(iter(loader))")
        x = raw.view(b, t, f)  # (B, T, F)
        add("x", x,
            "nn.RNN/LSTM/GRU want a feature axis: (batch, seq, input_size)." if f == 1
            else "Already (batch, seq, input_size); the view changes nothing here.",
            f"x = batch.view(B, T, {'1' if f == 1 else 'F'})")
        if not batch_first:
            x = x.transpose(0, 1)  # (T, B, F)
            add("x (time first)", x, "batch_first=False: the module wants time first, (seq, batch, input_size).",
                "x = x.transpose(0, 1)")
        # --- initial state: (D*L, B, H) whatever batch_first says --------------------------------
        state = model.initial_state(b)
        never = ("NOT batch-first even with batch_first=True" if batch_first
                 else "batch is its middle axis, as for every layout")
        rows_of = (f"{d * n_layers} row{'s' if d * n_layers > 1 else ''} = {d} direction{'s' if d == 2 else ''}"
                   f" x {n_layers} layer{'s' if n_layers > 1 else ''}")
        start = ("zeros here; the streaming regime passes the previous window's h_n instead"
                 if config.train.regime == "streaming" else "zeros")
        h_0 = state[0] if lstm else state
        add("h_0", h_0, f"Initial hidden state ({start}): {rows_of}; {never}.", "h_0 = torch.zeros(D * L, B, H)")
        if lstm:
            add("c_0", state[1], f"Initial cell state (LSTM only), same layout as h_0: {never}.",
                "c_0 = torch.zeros(D * L, B, H)")
        # --- each stacked layer, hidden inside the module -----------------------------------------
        for k, out_k in enumerate(layer_outputs(model, x, state), start=1):
            rows_k = f"[{(k - 1) * d}:{k * d}]"
            given = f"(h_0{rows_k}, c_0{rows_k})" if lstm else f"h_0{rows_k}"
            feeds = (f"feeds layer {k + 1} (F = D·H = {d * h} inputs)" if k < n_layers
                     else "the module's output below")
            both = "; forward and backward halves side by side" if d == 2 else ""
            add(f"layer {k} output", out_k,
                f"Layer {k}'s hidden state at every step{both}; {feeds}. Hidden inside nn.{module}: "
                f"computed with a one-layer nn.{module} holding layer {k}'s weights.",
                f"out_{k}, _ = layer_{k}({'x' if k == 1 else f'out_{k - 1}'}, {given})")
        # --- the model's own forward pass ---------------------------------------------------------
        call = "out, (h_n, c_n) = self.rnn(x, (h_0, c_0))" if lstm else "out, h_n = self.rnn(x, h_0)"
        layout = "B, T, D*H" if batch_first else "T, B, D*H"
        meanings = {
            "output": f"Top layer's hidden state at every step, ({layout})"
                      + (": [..., :H] forward, [..., H:] backward." if d == 2 else "."),
            "h_n": "Hidden state after the last step, every layer and direction: (D*L, B, H), like h_0.",
            "c_n": "Cell state after the last step (LSTM only), like c_0.",
            "flat": "nn.Linear takes rows: merge batch and time; contiguous() because the module's output "
                    "may be a strided view.",
            "linear": "One prediction per row (per window and step).",
            "last": "Many-to-one: keep only the last time step."
                    + (" Its backward half has seen only that one step (the backward pass starts there)."
                       if d == 2 else ""),
        }
        if m.head == "last":
            points = f"{m.horizon} point{'s' if m.horizon > 1 else ''}"
            meanings["prediction"] = f"The forecast: the next {points} per window."
        else:
            meanings["prediction"] = "Folded back: one prediction per window and step."
        codes = {
            "output": call, "h_n": call, "c_n": call,
            "flat": f"out = out.contiguous().view({'B * T' if batch_first else 'T * B'}, D * H)",
            "linear": "y = self.head(out)",
            "last": "last = out[:, -1]" if batch_first else "last = out[-1]",
            "prediction": "y = self.head(last)" if m.head == "last"
            else f"y = y.view({'B, T' if batch_first else 'T, B'}, 1)",
        }
        names = {"output": "out", "flat": "out (flat)", "linear": "y (flat)", "prediction": "y"}

        def record(name: str, tensor: Tensor) -> None:
            add(names.get(name, name), tensor, meanings[name], codes[name])

        model(x, state, record=record)
    return rows


def param_table(config: RunConfig, input_size: int) -> list[ParamRow]:
    """Parameters per layer and direction, with the formula, then the linear head, then the total (last row)."""
    m = config.model
    cell = cell_spec(m.cell)
    g, h, d = cell.gates, m.hidden, config.directions
    name = {"rnn": "RNN", "rnn_relu": "RNN (ReLU)", "lstm": "LSTM", "gru": "GRU"}.get(m.cell, m.cell)
    # weight_ih (G·H, F_in) + weight_hh (G·H, H) + bias_ih (G·H) + bias_hh (G·H)
    gates = "" if g == 1 else f"{g}·"
    rows: list[ParamRow] = []
    for layer in range(1, m.layers + 1):
        f_in, f_symbol = (input_size, "F") if layer == 1 else (d * h, "D·H" if d == 2 else "H")
        count = g * h * (f_in + h) + 2 * g * h
        formula = f"{gates}H·({f_symbol}+H) + {2 * g}·H = {gates}{h}·({f_in}+{h}) + {2 * g}·{h} = {count}"
        for direction in ("forward", "backward")[:d]:
            part = f"{name} layer {layer}" + (f", {direction}" if d == 2 else "")
            rows.append(ParamRow(part, count, formula))
    out = m.horizon if m.head == "last" else 1
    head = (d * h) * out + out
    features = "(D·H)" if d == 2 else "H"
    number = f"({d}·{h})" if d == 2 else f"{h}"
    rows.append(ParamRow(f"Linear head (out = {out})", head, f"{features}·out + out = {number}·{out} + {out} = {head}"))
    total = sum(row.count for row in rows)
    rows.append(ParamRow("Total", total, " + ".join(str(row.count) for row in rows) + f" = {total}"))
    return rows


def trace_table(rows: list[TraceRow]) -> str:
    """A plain-text table, columns aligned, for the command line."""
    header = ("tensor", "shape", "code", "meaning")
    cells = [header] + [(r.name, format_shape(r.shape), r.code, r.meaning) for r in rows]
    widths = [max(len(c[i]) for c in cells) for i in range(3)]
    lines = ["  ".join(c[i].ljust(widths[i]) for i in range(3)) + "  " + c[3] for c in cells]
    lines.insert(1, "  ".join("-" * w for w in widths) + "  " + "-" * len(header[3]))
    return "\n".join(line.rstrip() for line in lines)
