"""Inside › Gradient through time, "Compare RNN, LSTM and GRU": each cell its own colour, named in the legend."""

from __future__ import annotations

import numpy as np

from rnnlab.figures.inside import CELL_COLOURS, gradient_figure


def test_fresh_cells_beside_the_run_each_get_their_own_colour_and_name():
    # as pages/inside.py passes them: the fresh cells, then the run's own model under its cell name
    norms = {"rnn (fresh)": np.ones(4), "lstm (fresh)": np.ones(4), "gru (fresh)": np.ones(4), "lstm": np.ones(4)}
    figure = gradient_figure(norms)
    traces = {trace["name"]: trace["line"] for trace in figure["data"]}
    assert list(traces) == ["RNN (fresh)", "LSTM (fresh)", "GRU (fresh)", "LSTM"]
    fresh = [traces[name]["color"] for name in ("RNN (fresh)", "LSTM (fresh)", "GRU (fresh)")]
    assert len(set(fresh)) == 3 and fresh == [CELL_COLOURS[c] for c in ("rnn", "lstm", "gru")]
    # the run's LSTM shares the fresh LSTM's colour and is told apart by its dashes
    assert traces["LSTM"]["color"] == traces["LSTM (fresh)"]["color"]
    assert traces["LSTM"]["dash"] == "dash" and {traces[n]["dash"] for n in traces if "fresh" in n} == {"solid"}
    assert figure["layout"]["showlegend"] is True


def test_a_single_model_is_drawn_solid():
    (trace,) = gradient_figure({"gru": np.ones(3)})["data"]
    assert trace["name"] == "GRU" and trace["line"] == {"color": CELL_COLOURS["gru"], "width": 2, "dash": "solid"}
