"""Log axes that read at a glance (issue 14): whole values, powers of ten when the range allows, thinned on
wide ranges; an empty loss chart with a sensible range; learning-rate changes marked on the loss chart."""

import math

import numpy as np
import pytest

from rnnlab.analysis.verdict import LrChange
from rnnlab.figures import charts
from rnnlab.figures.inside import gradient_figure


def _is_power_of_ten(value: float) -> bool:
    return abs(math.log10(value) - round(math.log10(value))) < 1e-9


@pytest.mark.parametrize(("low", "high"), [(1e-23, 10.0), (6e-4, 0.91), (1e-5, 2e4), (0.04, 3.0)])
def test_a_log_axis_over_a_decade_or_more_is_labelled_with_powers_of_ten_only(low, high):
    values = np.geomspace(low, high, 200)
    yaxis = charts.loss_figure((np.arange(200), values))["layout"]["yaxis"]
    assert yaxis["type"] == "log" and yaxis["tickmode"] == "array"
    assert len(yaxis["tickvals"]) >= 2
    assert all(_is_power_of_ten(v) for v in yaxis["tickvals"])
    assert all(low / 1.05 <= v <= high * 1.05 for v in yaxis["tickvals"])


def test_a_wide_log_axis_is_thinned_so_its_labels_do_not_pile_up():
    yaxis = charts.log_axis("gradient", np.geomspace(1e-23, 10, 50))
    assert 2 <= len(yaxis["tickvals"]) <= charts.MAX_LOG_LABELS
    # evenly spaced in decades, and written as powers (10<sup>−20</sup>), not as 1e-20 or bare digits
    assert len(set(np.diff(np.log10(yaxis["tickvals"])).round(6))) == 1
    assert any("<sup>" in text for text in yaxis["ticktext"])


@pytest.mark.parametrize(("low", "high"), [(0.02, 0.09), (0.31, 0.34), (0.5, 2.0), (150.0, 400.0)])
def test_a_narrow_log_axis_labels_whole_values_never_bare_minor_digits(low, high):
    yaxis = charts.log_axis("loss", np.linspace(low, high, 30))
    assert len(yaxis["tickvals"]) >= 2
    for value, text in zip(yaxis["tickvals"], yaxis["ticktext"], strict=True):
        assert float(text) == pytest.approx(value)  # the label is the value itself, "0.05", not "5"


def test_the_gradient_chart_labels_powers_of_ten_over_twenty_decades():
    yaxis = gradient_figure(np.geomspace(1e-23, 10, 25))["layout"]["yaxis"]
    assert all(_is_power_of_ten(v) for v in yaxis["tickvals"])
    assert len(yaxis["tickvals"]) <= charts.MAX_LOG_LABELS


def test_an_empty_loss_chart_after_reset_spans_a_sensible_range_and_says_why_it_is_empty():
    empty = (np.array([]), np.array([]))
    layout = charts.loss_figure(empty, empty)["layout"]
    assert layout["yaxis"]["range"] == [-3, 0]  # 0.001 to 1, not plotly's 0.1 to 10,000
    assert layout["yaxis"]["autorange"] is False
    assert any("appears when training starts" in a["text"] for a in layout["annotations"])
    assert charts.loss_figure(empty, empty, log_y=False)["layout"]["yaxis"]["range"] == [0, 1]
    # with data the range follows it again
    full = charts.loss_figure((np.arange(3), np.array([0.5, 0.2, 0.1])))["layout"]
    assert full["yaxis"]["autorange"] is True and "range" not in full["yaxis"]
    assert not full["annotations"]


def test_learning_rate_changes_are_marked_on_the_loss_chart_where_and_to_what():
    changes = [LrChange(50, 0.01, 0.1), LrChange(90, 0.1, 0.001)]
    layout = charts.loss_figure((np.arange(1, 101), np.linspace(1, 0.1, 100)), lr_changes=changes)["layout"]
    assert [shape["x0"] for shape in layout["shapes"]] == [50, 90]
    texts = [a["text"] for a in layout["annotations"]]
    assert texts == ["lr 0.01 → 0.1", "lr 0.1 → 0.001"]


def test_a_dated_series_puts_its_dates_on_the_window_chart_and_midnights_read_as_dates():
    import pandas as pd

    from rnnlab.learn.trainer import Snapshot

    snapshot = Snapshot(np.arange(3, 6), np.zeros(3), np.arange(4, 7), np.zeros(3), np.zeros(3))
    daily = pd.date_range("2023-01-01", periods=10, freq="D", name="date")
    figure = charts.window_figure(snapshot, index=daily)
    assert figure["data"][0]["x"] == ["2023-01-05", "2023-01-06", "2023-01-07"]  # rows 4..6
    assert figure["data"][2]["x"][0] == "2023-01-04"
    assert figure["layout"]["xaxis"]["title"]["text"] == "date"
    hourly = pd.date_range("2023-01-01", periods=10, freq="h")
    assert charts.window_figure(snapshot, index=hourly)["data"][0]["x"][0] == "2023-01-01 04:00"
    assert list(charts.window_figure(snapshot)["data"][0]["x"]) == [4, 5, 6]  # no index: row numbers
    table = charts.readable_index(pd.DataFrame({"y": range(10)}, index=daily))
    assert list(table.index[:1]) == ["2023-01-01"] and table.index.name == "date"
