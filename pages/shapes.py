"""Shapes: every tensor of one forward pass for exactly the sidebar's configuration."""

import pandas as pd
import streamlit as st

from rnnlab.analysis.shapes import format_shape
from rnnlab.errors import RnnlabError
from rnnlab.figures.diagram import trace_dot
from rnnlab.ui import cached, current, equations, settings
from rnnlab.ui.boot import require_entry

require_entry()

config = st.session_state["config"]
st.title("Tensor shapes, step by step")
settings.show_link_warnings()
try:
    input_size = current.series(config).shape[1]
except RnnlabError as exc:
    st.error(str(exc))
    st.stop()

m = config.model
st.markdown(
    f"**{m.cell.upper()}**, hidden {m.hidden}, {m.layers} layer(s), "
    f"{'bidirectional' if m.bidirectional else 'one direction'}, {m.head} head; "
    f"batch B = {config.effective_batch}, seq_len T = {config.train.seq_len}, features F = {input_size}. "
    "Letters: B batch, T time steps, F features, H hidden size, L layers, D directions."
)
batch_first = st.toggle("batch_first=True", value=True, key="shapes_batch_first",
                        help="Off: the seq-first layout nn.RNN/LSTM/GRU use by default, (T, B, F).")
rows = cached.trace(config, input_size, batch_first)
table = pd.DataFrame({
    "tensor": [r.name for r in rows],
    "shape": [format_shape(r.shape) for r in rows],
    "code": [r.code for r in rows],
    "meaning": [r.meaning for r in rows],
})
st.table(table.set_index("tensor"))
st.subheader("The same pass as a picture")
st.graphviz_chart(trace_dot(rows, m.cell.upper().replace("_RELU", "")), width="stretch")

st.subheader("What the cell computes at each step")
equations.show(m.cell)

st.subheader("Parameters")
param_rows = cached.params(config, input_size)
st.dataframe(
    pd.DataFrame({"part": [p.part for p in param_rows], "parameters": [p.count for p in param_rows],
                  "formula": [p.formula for p in param_rows]}),
    hide_index=True, width="stretch",
)
