"""The Runs table and the cell comparison (issue 14): no cell reads "None" or "Infinity", and the compared
runs' validation losses are drawn beside their training losses, in the run's colour."""

import math

import numpy as np
import plotly.graph_objects as go
import pytest

from rnnlab.analysis.compare import DIVERGED, NOT_YET, RunRecord, cell_variants, overlay_figure, summary
from rnnlab.config import RunConfig
from rnnlab.learn.history import COLUMNS, History


def history(loss, val_every: int = 0, val=None) -> History:
    """A history of len(loss) steps; validation every val_every steps (val[i] at the i-th), else none."""
    n = len(loss)
    columns = {"step": np.arange(1, n + 1), "epoch": np.zeros(n), "loss": np.asarray(loss, dtype=float),
               "val_loss": np.full(n, np.nan), "grad_norm": np.ones(n), "lr": np.full(n, 0.01),
               "elapsed": np.linspace(0.1, 1.0, n)}
    if val_every:
        columns["val_loss"][val_every - 1::val_every] = val
    h = History()
    h.extend(np.array([columns[name] for name in COLUMNS], dtype=float))
    return h


def table(*histories: History):
    return summary([RunRecord(f"run {i + 1}", RunConfig(), h, "done") for i, h in enumerate(histories)])


def test_no_cell_reads_none_or_infinity():
    fresh = History()  # listed before its first step
    unvalidated = history(np.linspace(1.0, 0.5, 30))  # 30 steps, no validation yet
    exploded = history(np.concatenate([np.linspace(1.0, 0.5, 40), [np.inf] * 20]), 20, [0.3, 0.2, np.inf])
    nan_loss = history(np.concatenate([[0.9] * 10, [np.nan] * 10]), 5, [np.inf] * 4)
    frame = table(fresh, unvalidated, exploded, nan_loss)
    shown = {str(v) for v in frame.to_numpy().ravel()}
    assert not shown & {"None", "nan", "NaN", "inf", "-inf", "Infinity", "<NA>"}, shown
    losses, best = frame["loss (last 50 steps)"].tolist(), frame["best validation"].tolist()
    assert losses == [NOT_YET, f"{np.linspace(1.0, 0.5, 30).mean():.4g}", DIVERGED, DIVERGED]
    # a finite best validation before the explosion is still the best; one that never was finite is said
    assert best == [NOT_YET, NOT_YET, "0.2", DIVERGED]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_finite_losses_read_back_as_numbers(seed):
    rng = np.random.default_rng(seed)
    loss, val = rng.uniform(1e-4, 2.0, 100), rng.uniform(1e-4, 2.0, 10)
    frame = table(history(loss, 10, val))
    assert float(frame["loss (last 50 steps)"][0]) == pytest.approx(loss[-50:].mean(), rel=1e-3)
    assert float(frame["best validation"][0]) == pytest.approx(val.min(), rel=1e-3)


def test_the_cell_comparison_overlays_validation_in_each_runs_colour():
    configs = cell_variants(RunConfig())
    records = [RunRecord(f"run {i + 1}", c, history(np.linspace(1, 0.1 * (i + 1), 50), 10, [0.5 - 0.1 * i] * 5),
                         "done") for i, c in enumerate(configs)]
    figure = overlay_figure(records)
    traces = figure["data"]
    assert len(traces) == 6
    training = [t for t in traces if "dash" not in t["line"]]
    validation = [t for t in traces if t["line"].get("dash") == "dash"]
    assert [t["name"] for t in training] == ["run 1 (rnn)", "run 2 (lstm)", "run 3 (gru)"]
    assert [t["name"] for t in validation] == ["run 1 validation", "run 2 validation", "run 3 validation"]
    assert len({t["line"]["color"] for t in training}) == 3  # a colour per cell
    for train, val in zip(training, validation, strict=True):
        assert val["line"]["color"] == train["line"]["color"]
        assert list(val["x"]) == [10, 20, 30, 40, 50]  # only where validation was measured
    assert "validation" in figure["layout"]["title"]["text"]
    go.Figure(figure)


def test_a_run_without_validation_has_no_empty_validation_line():
    figure = overlay_figure([RunRecord("run 1", RunConfig(), history([0.5] * 20), "done")], log_y=False)
    (only,) = figure["data"]
    assert only["name"] == f"run 1 ({RunConfig().model.cell})" and not math.isnan(only["y"][0])
