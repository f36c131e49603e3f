"""The inside-the-network figures: structure, shapes, axes and colour scales, without a browser."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import pytest
import torch

from rnnlab.analysis.probes import gates, hidden_states
from rnnlab.config import ModelConfig
from rnnlab.figures.inside import gates_figure, gradient_figure, hidden_heatmap
from rnnlab.learn.models import SequenceModel


def model_of(cell: str, bidirectional: bool = False, hidden: int = 4) -> SequenceModel:
    # ModelConfig, past RunConfig's rules: the charts draw any model, even the bidirectional seq2seq one
    # the config refuses for forecasting (issue 15).
    config = ModelConfig(cell=cell, hidden=hidden, bidirectional=bidirectional)
    torch.manual_seed(0)
    return SequenceModel(config, 1).eval()


X = torch.randn(2, 7, 1, generator=torch.Generator().manual_seed(0))  # (B, T, F)


def axis_title(layout: dict, axis: str) -> str:
    return layout[axis]["title"]["text"]


def test_hidden_heatmap_has_one_row_per_unit_and_one_column_per_step():
    states = hidden_states(model_of("lstm", bidirectional=True), X)
    figure = hidden_heatmap(states)
    (trace,) = figure["data"]
    assert trace["type"] == "heatmap"
    assert trace["z"].shape == (8, 7)  # (D*H units, T)
    assert list(trace["y"]) == list(states.unit_labels)
    assert axis_title(figure["layout"], "xaxis") == "time step t (0 = oldest)"
    assert axis_title(figure["layout"], "yaxis") == "hidden unit"


def test_hidden_heatmap_is_diverging_around_zero_over_tanh_range():
    trace = hidden_heatmap(hidden_states(model_of("gru"), X))["data"][0]
    assert trace["colorscale"] == "RdBu"
    assert (trace["zmin"], trace["zmid"], trace["zmax"]) == (-1.0, 0.0, 1.0)


def test_cell_state_heatmap_scales_to_its_largest_value():
    states = hidden_states(model_of("lstm"), X)
    trace = hidden_heatmap(states, which="c")["data"][0]
    assert trace["z"].shape == states.c.shape
    assert trace["zmax"] == pytest.approx(np.abs(states.c).max()) and trace["zmin"] == -trace["zmax"]


def test_cell_state_heatmap_needs_an_lstm():
    with pytest.raises(ValueError, match="LSTM"):
        hidden_heatmap(hidden_states(model_of("gru"), X), which="c")


@pytest.mark.parametrize(("cell", "names"), [("lstm", "ifgo"), ("gru", "rzn")])
def test_gates_figure_has_one_heatmap_per_gate_on_its_own_axes(cell, names):
    figure = gates_figure(gates(model_of(cell), X))
    data, layout = figure["data"], figure["layout"]
    assert [trace["type"] for trace in data] == ["heatmap"] * len(names)
    assert [trace["xaxis"] for trace in data] == ["x"] + [f"x{k}" for k in range(2, len(names) + 1)]
    assert all(trace["z"].shape == (4, 7) for trace in data)  # (H, T)
    domains = [layout["xaxis" + ("" if k == 1 else str(k))]["domain"] for k in range(1, len(names) + 1)]
    assert all(left[1] <= right[0] for left, right in zip(domains, domains[1:], strict=False))
    assert axis_title(layout, "yaxis") == "hidden unit"
    titles = [annotation["text"] for annotation in layout["annotations"]]
    assert all(f" {name}</b>" in title for name, title in zip(names, titles, strict=True))


def test_gates_figure_says_what_the_forget_gate_means():
    titles = [a["text"] for a in gates_figure(gates(model_of("lstm"), X))["layout"]["annotations"]]
    assert any("forget gate" in t and "1 keeps the cell state,<br>0 forgets it" in t for t in titles)


def test_gates_use_zero_to_one_and_candidates_minus_one_to_one():
    figure = gates_figure(gates(model_of("lstm"), X))
    axes = {trace["coloraxis"] for trace in figure["data"]}
    assert axes == {"coloraxis", "coloraxis2"}
    gate_scale, candidate_scale = figure["layout"]["coloraxis"], figure["layout"]["coloraxis2"]
    assert (gate_scale["colorscale"], gate_scale["cmin"], gate_scale["cmax"]) == ("Viridis", 0.0, 1.0)
    assert (candidate_scale["cmin"], candidate_scale["cmid"], candidate_scale["cmax"]) == (-1.0, 0.0, 1.0)
    g = next(trace for trace in figure["data"] if "candidate g" in trace["hovertemplate"])
    assert g["coloraxis"] == "coloraxis2"


def test_plain_rnn_gates_figure_says_there_are_no_gates():
    figure = gates_figure(gates(model_of("rnn"), X))
    assert figure["data"] == []
    assert "has no gates" in figure["layout"]["annotations"][0]["text"]


def test_gradient_figure_draws_one_line_per_cell():
    norms = {"rnn": np.logspace(-6, 0, 7), "lstm": np.logspace(-2, 0, 7)}
    figure = gradient_figure(norms)
    assert [trace["name"] for trace in figure["data"]] == ["RNN", "LSTM"]
    assert all(trace["type"] == "scatter" and len(trace["y"]) == 7 for trace in figure["data"])
    assert axis_title(figure["layout"], "xaxis") == "time step t (0 = oldest)"
    assert "dL/dh_t" in axis_title(figure["layout"], "yaxis")


def test_gradient_figure_uses_a_log_axis_when_asked():
    assert gradient_figure(np.ones(5))["layout"]["yaxis"]["type"] == "log"
    assert gradient_figure(np.ones(5), log_y=False)["layout"]["yaxis"].get("type", "linear") == "linear"


def test_gradient_figure_leaves_a_gap_where_no_gradient_arrives_on_a_log_axis():
    y = gradient_figure(np.array([0.0, 0.0, 0.5, 1.0]))["data"][0]["y"]
    assert np.isnan(y[:2]).all() and (y[2:] > 0).all()
    assert (gradient_figure(np.array([0.0, 1.0]), log_y=False)["data"][0]["y"] == [0.0, 1.0]).all()


def test_every_figure_is_valid_plotly():
    lstm = model_of("lstm", bidirectional=True)
    figures = [
        hidden_heatmap(hidden_states(lstm, X)),
        hidden_heatmap(hidden_states(lstm, X), which="c"),
        gates_figure(gates(lstm, X, direction=1)),
        gates_figure(gates(model_of("gru"), X)),
        gates_figure(gates(model_of("rnn"), X)),
        gradient_figure({"rnn": np.ones(3), "gru": np.ones(3)}),
        gradient_figure(np.array([0.0, 1.0])),
    ]
    for figure in figures:
        go.Figure(figure)  # validates every property name and value
        assert figure["layout"]["font"]["size"] == 15
