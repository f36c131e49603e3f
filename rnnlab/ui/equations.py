"""The chosen cell's equations as PyTorch computes them (rnnlab.glossary.EQUATIONS), for Shapes and Inside."""

from __future__ import annotations

import streamlit as st

from rnnlab.glossary import EQUATIONS


def latex(cell: str) -> str:
    """One LaTeX block, an equation a line; the ReLU RNN shows ReLU where the tanh RNN has tanh."""
    lines = EQUATIONS[cell].lines
    if cell == "rnn_relu":
        lines = tuple(line.replace(r"\tanh", r"\mathrm{ReLU}") for line in lines)
    return r"\begin{aligned}" + r" \\ ".join(line.replace(" = ", " &= ", 1) for line in lines) + r"\end{aligned}"


def show(cell: str) -> None:
    """The equations under their title, with the note that ties them to the weights' shapes."""
    equation = EQUATIONS[cell]
    st.markdown(f"**{equation.title}**")
    st.latex(latex(cell))
    note = "ReLU replaces tanh: max(0, x)." if cell == "rnn_relu" else equation.note
    st.caption(f"{note} Each line is computed for every time step t; x_t is the layer's input at step t "
               "(for layers above the first, the hidden states of the layer below).")
