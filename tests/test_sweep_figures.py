"""The sweep's table and figures from a study told by hand (no training): what each chart shows."""

import optuna
import plotly.graph_objects as go
import pytest
from optuna.trial import TrialState

from rnnlab.figures import sweep as figures
from rnnlab.sweep import parse_params
from rnnlab.sweep.study import FAILED, curves, importances, trials_frame

PARAMS = parse_params(["lr=1e-4:1e-1:log", "hidden=8:64", "cell=rnn,lstm,gru"])
DISTRIBUTIONS = {p.name: p.distribution for p in PARAMS}


@pytest.fixture
def study():
    """Trials 0-5 complete (value falls with lr), 6 pruned, 7 failed, 8 interrupted (no reason), 9 running."""
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=3))
    for i in range(10):
        trial = study.ask(DISTRIBUTIONS)
        for step in (10, 20):
            trial.report(1.0 / (step * (i + 1)), step)
        if i < 6:
            study.tell(trial, 1.0 / (trial.params["lr"] * 1000 + i))
        elif i == 6:
            study.tell(trial, state=TrialState.PRUNED)
        elif i == 7:
            trial.set_user_attr(FAILED, "The training process stopped unexpectedly.")
            study.tell(trial, state=TrialState.FAIL)
        elif i == 8:
            study.tell(trial, state=TrialState.FAIL)
    return study


def test_the_table_has_a_row_per_counted_trial_and_leaves_out_redone_ones(study):
    table = trials_frame(study.trials, PARAMS)
    assert list(table["number"]) == [0, 1, 2, 3, 4, 5, 6, 7, 9]
    assert list(table["state"]) == ["complete"] * 6 + ["pruned", "failed", "running"]
    assert table.loc[table["number"] == 7, "note"].item().startswith("The training process")
    assert table.loc[table["number"] == 6, "value"].item() == pytest.approx(1 / (20 * 7))  # its last report
    assert list(table.columns[:4]) == ["number", "lr", "hidden", "cell"]


def test_best_so_far_never_rises(study):
    figure = figures.best_so_far_figure(trials_frame(study.trials, PARAMS), "loss")
    best = figure["data"][1]["y"]
    assert len(best) == 6 and all(b <= a for a, b in zip(best, best[1:], strict=False))
    assert figure["layout"]["xaxis"]["dtick"] == 1  # whole trial numbers, never a tick at 0.5
    go.Figure(figure)


def test_parallel_coordinates_plot_log_settings_by_exponent_and_name_choices(study):
    figure = figures.parallel_figure(trials_frame(study.trials, PARAMS), PARAMS, "loss")
    dims = figure["data"][0]["dimensions"]
    assert [d["label"] for d in dims] == ["lr (log)", "hidden", "cell", "loss"]
    assert dims[0]["range"] == pytest.approx([-4, -1])
    # The exponent axis is labelled with the learning rates themselves.
    assert dims[0]["tickvals"] == pytest.approx([-4, -3, -2, -1])
    assert dims[0]["ticktext"] == ["0.0001", "0.001", "0.01", "0.1"]
    assert dims[2]["ticktext"] == ["rnn", "lstm", "gru"]
    assert len(dims[3]["values"]) == 6  # complete trials only
    go.Figure(figure)


def test_the_scatter_has_one_panel_per_setting_with_pruned_trials_grey(study):
    figure = figures.scatter_figure(trials_frame(study.trials, PARAMS), PARAMS, "loss")
    assert figure["layout"]["xaxis"]["type"] == "log" and figure["layout"]["xaxis3"]["type"] == "category"
    # Each panel spans the swept range, whichever values the trials drew: every choice, both ends.
    low, high = figure["layout"]["xaxis"]["range"]
    assert low < -4 < -1 < high and figure["layout"]["xaxis"]["tickvals"] == pytest.approx([1e-4, 1e-3, 1e-2, 0.1])
    assert figure["layout"]["xaxis2"]["range"][0] < 8 and figure["layout"]["xaxis2"]["range"][1] > 64
    assert figure["layout"]["xaxis3"]["range"] == [-0.5, 2.5]
    grey = [t for t in figure["data"] if t["name"] == "pruned"]
    assert len(grey) == 3 and all(t["marker"]["color"] == figures.STATE_COLOURS["pruned"] for t in grey)
    go.Figure(figure)


def test_intermediate_curves_grey_the_pruned_and_stress_the_best(study):
    found = curves(study.trials)
    assert sorted(c.number for c in found) == [0, 1, 2, 3, 4, 5, 6, 7, 9]
    best = min((t for t in study.trials if t.state == TrialState.COMPLETE), key=lambda t: t.value).number
    figure = figures.curves_figure(found, "loss", best)
    widths = {t["name"]: t["line"]["width"] for t in figure["data"]}
    assert widths[f"trial {best} (complete)"] > widths["trial 6 (pruned)"]
    assert figure["data"][-1]["name"] == f"trial {best} (complete)"  # drawn last, on top
    go.Figure(figure)


def test_importance_names_the_setting_that_decides(study):
    found = importances(study, minimum=5)
    assert found and max(found, key=found.get) == "lr"
    go.Figure(figures.importance_figure(found))


def test_importance_waits_for_enough_trials(study):
    assert importances(study, minimum=50) == {}
