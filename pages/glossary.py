"""Glossary: the words of recurrent networks and time series, plainly, and the cells' equations."""

import streamlit as st

from rnnlab import glossary
from rnnlab.ui.boot import require_entry

require_entry()

st.title("Glossary")
query = st.text_input("Filter", key="glossary_filter", placeholder="type a word, e.g. gradient",
                      help="Shows the terms whose name or explanation contains every word you type.")
found = glossary.search(query)
if not found:
    st.info(f"No term mentions {query!r}; try a shorter word.")
for term, meaning in found.items():
    st.markdown(f"**{term}**: {meaning}")

st.header("The cells' equations, as PyTorch computes them")
st.caption("x_t is the input at step t, h_t the hidden state, W and b the learnt weights and biases.")
for cell in ("rnn", "lstm", "gru"):
    equation = glossary.EQUATIONS[cell]
    st.subheader(equation.title)
    st.latex(r"\begin{aligned}" + r" \\ ".join(line.replace("=", "&=", 1) for line in equation.lines)
             + r"\end{aligned}")
    st.caption(equation.note)
