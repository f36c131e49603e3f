"""A Graphviz (DOT) picture of the shape trace: the data path left to right, the states beside it."""

from __future__ import annotations

from itertools import pairwise

from rnnlab.analysis.shapes import TraceRow, format_shape

_STATE_NAMES = ("h_0", "c_0", "h_n", "c_n")


def _node(row: TraceRow, colour: str) -> str:
    label = f"{row.name}\\n{format_shape(row.shape)}"
    return f'"{row.name}" [label="{label}", fillcolor="{colour}"];'


def trace_dot(rows: list[TraceRow], cell: str = "RNN") -> str:
    """DOT source: data tensors in a chain through the recurrent block; initial and final states at its side."""
    path = [r for r in rows if r.name not in _STATE_NAMES and not r.name.startswith("layer ")]
    layers = [r for r in rows if r.name.startswith("layer ")]
    states = {r.name: r for r in rows if r.name in _STATE_NAMES}
    lines = [
        "digraph trace {",
        "  rankdir=LR; nodesep=0.3; ranksep=0.35; bgcolor=transparent;",
        '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=18, color="#1f5fbf"];',
        '  edge [color="#555555"];',
    ]
    for row in path:
        lines.append("  " + _node(row, "#e8eefa"))
    for row in layers:
        lines.append("  " + _node(row, "#fff1dc"))
    for row in states.values():
        lines.append("  " + _node(row, "#eeeeee"))
    # The data path: raw batch -> ... -> input of the recurrent block -> its layers -> out -> head.
    before = [r.name for r in path if r.name in ("batch", "x", "x (time first)")]
    after = [r.name for r in path if r.name not in before]
    chain = before + [r.name for r in layers] + after
    lines += [f'  "{a}" -> "{b}";' for a, b in pairwise(chain)]
    first_layer = layers[0].name if layers else (after[0] if after else None)
    last_layer = layers[-1].name if layers else first_layer
    for name in ("h_0", "c_0"):
        if name in states and first_layer:
            lines.append(f'  "{name}" -> "{first_layer}" [style=dashed, label=" {cell} state"];')
    for name in ("h_n", "c_n"):
        if name in states and last_layer:
            lines.append(f'  "{last_layer}" -> "{name}" [style=dashed];')
    lines.append("}")
    return "\n".join(lines)
