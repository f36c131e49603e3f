"""Inside: the hidden state, the gates and the gradient through time of the current model."""

import streamlit as st

from rnnlab.analysis import probes
from rnnlab.errors import RnnlabError
from rnnlab.figures import inside as inside_charts
from rnnlab.learn.trainer import LOSSES
from rnnlab.ui import equations, settings
from rnnlab.ui.boot import require_entry
from rnnlab.ui.live_chart import live_chart
from rnnlab.ui.subject import subject, window, window_count

require_entry()

st.title("Inside the network")
settings.show_link_warnings()
config = st.session_state["config"]
try:
    first = subject(config)
except RnnlabError as exc:
    st.error(str(exc))
    st.stop()

count = window_count(first, "val")
layers = first.config.model.layers
pick_window, pick_layer = st.columns([3, 1])
index = pick_window.slider("Validation window", 0, max(count - 1, 1), 0, key="inside_window",
                           help="Which window of the validation part to feed through the network.")
# 0-based like torch's weight names (weight_ih_l0), shown from 1; the top layer feeds the prediction.
chosen_layer = pick_layer.selectbox("Layer", range(layers), index=layers - 1, key=f"inside_layer_{layers}",
                                    format_func=lambda k: f"{k + 1} of {layers}" + " (top)" * (k == layers - 1),
                                    disabled=layers == 1,
                                    help="Which stacked layer's states, gates and gradient to show.")
with st.expander(f"The {first.config.model.cell.upper().replace('_RELU', '')} cell's equations"):
    equations.show(first.config.model.cell)
hidden_tab, gates_tab, gradient_tab = st.tabs(["Hidden state", "Gates", "Gradient through time"])
with gradient_tab:
    left, right = st.columns(2)
    truncate = left.slider("Back-propagate through the last k steps (0 = all)", 0, config.train.seq_len, 0,
                           key="inside_truncate",
                           help="Truncated backpropagation: the classic notebook's hidden = hidden.data cuts "
                                "the graph at every window boundary.")
    compare = right.toggle("Compare RNN, LSTM and GRU (fresh weights)", key="inside_compare")
    forget_bias = right.toggle("LSTM forget-gate bias 1 (the usual initialisation)", key="inside_bias",
                               disabled=not compare,
                               help="The fresh LSTM's forget-gate bias: 1 when on, 0 (PyTorch's) when off, "
                                    "whatever the sidebar's forget-gate bias.")


def draw() -> None:
    # While a run trains this reruns every second; live_chart updates the charts in place (no remount).
    s = subject(config)
    layer = min(chosen_layer, s.config.model.layers - 1)  # a run with fewer layers started meanwhile
    x, y, row = window(s, "val", index)
    st.caption(f"Showing {s.label}; window of rows {row:,} to {row + x.shape[1] - 1:,}; "
               f"layer {layer + 1} of {s.config.model.layers}.")
    with hidden_tab:
        states = probes.hidden_states(s.model, x, layer=layer)
        live_chart(inside_charts.hidden_heatmap(states, "h"), key="inside_h")
        if states.c is not None:
            live_chart(inside_charts.hidden_heatmap(states, "c"), key="inside_c")
    with gates_tab:
        found = probes.gates(s.model, x, layer)
        if found.names:
            live_chart(inside_charts.gates_figure(found), key="inside_gates")
        else:
            st.info("A plain RNN has no gates: every step computes h_t = tanh(W_ih x_t + W_hh h_(t-1) + b), so "
                    "nothing decides what to keep or forget. Choose LSTM or GRU in the sidebar to see gates.")
    with gradient_tab:
        # "last": the last prediction's loss alone, so the curve shows how far back one error's gradient reaches
        # (with every step's loss, each step would get its own gradient directly and the curve would stay flat)
        flow = probes.gradient_norms(s.model, x, y, LOSSES[s.config.train.loss](), truncate=truncate or None,
                                     clip=s.config.train.clip, source="last", layer=layer)
        norms = {s.config.model.cell: flow.norms}
        if compare:
            # the toggle sets the bias: compare_cells adds to the config's, so start the fresh ones from 0
            fresh = probes.compare_cells(s.config.replace(forget_bias=0.0), x, y, forget_bias=float(forget_bias),
                                         source="last", layer=layer)
            norms = {f"{name} (fresh)": values for name, values in fresh.items()} | norms
        live_chart(inside_charts.gradient_figure(norms), key="inside_gradient")
        clipped = f", {flow.clipped_norm:.3g} after clipping at {s.config.train.clip:g}" if s.config.train.clip else ""
        st.caption("Each point is how strongly the error of the window's LAST prediction pulls on the hidden state "
                   "at that time step, sent back through the recurrence (log scale). A curve that falls steeply "
                   "to the left means the network can barely learn from inputs that far back: vanishing gradients. "
                   f"Norm of all parameter gradients for this loss: {flow.total_norm:.3g}{clipped}.")


st.fragment(run_every=1.0 if first.active else None)(draw)()
