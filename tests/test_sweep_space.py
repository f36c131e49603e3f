"""The sweep's --param grammar and its refusals: every mistake is a sentence, and nothing starts half-way."""

import json
import re

import optuna
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from rnnlab.config import FIELD_BY_NAME, RunConfig
from rnnlab.errors import ConfigError
from rnnlab.sweep import MAX_TRIALS, SWEEPABLE, Sweep, SweepSpec, parse_param, parse_params
from rnnlab.sweep.space import NOT_SWEPT
from rnnlab.sweep.study import open_storage, trials_frame

FLOATS = [n for n in SWEEPABLE if FIELD_BY_NAME[n].kind is float]
INTS = [n for n in SWEEPABLE if FIELD_BY_NAME[n].kind is int]
CHOICES = [n for n in SWEEPABLE if FIELD_BY_NAME[n].choices]


def bounds(name):
    f = FIELD_BY_NAME[name]
    return f.low, f.high


@st.composite
def float_range(draw):
    name = draw(st.sampled_from(FLOATS))
    low, high = bounds(name)
    a = draw(st.floats(low, high, allow_nan=False))
    b = draw(st.floats(low, high, allow_nan=False))
    assume(a < b)
    return name, a, b


@given(float_range(), st.booleans())
def test_a_float_range_parses_to_its_bounds_and_back(drawn, log):
    name, low, high = drawn
    assume(not log or low > 0)
    text = f"{name}={low!r}:{high!r}" + (":log" if log else "")
    param = parse_param(text)
    assert (param.low, param.high, param.log, param.integer) == (low, high, log, False)
    assert parse_param(param.text) == param
    assert isinstance(param.distribution, optuna.distributions.FloatDistribution)


@given(st.sampled_from(INTS), st.data())
def test_an_int_setting_is_swept_over_whole_numbers(name, data):
    low, high = (int(x) for x in bounds(name))
    a = data.draw(st.integers(low, high))
    b = data.draw(st.integers(low, high))
    assume(a < b)
    param = parse_param(f"{name}={a}:{b}")
    assert param.integer and isinstance(param.distribution, optuna.distributions.IntDistribution)
    assert parse_param(param.text) == param == parse_param(f"{name}={a}:{b}:int")


@given(float_range())
def test_an_inverted_range_says_which_way_round(drawn):
    name, low, high = drawn
    with pytest.raises(ConfigError, match="inverted"):
        parse_param(f"{name}={high!r}:{low!r}")


@given(st.sampled_from(FLOATS + INTS), st.data())
def test_an_empty_range_is_refused(name, data):
    low, high = bounds(name)
    value = data.draw(st.integers(int(low), int(high)) if FIELD_BY_NAME[name].kind is int
                      else st.floats(low, high, allow_nan=False))
    with pytest.raises(ConfigError, match="empty range"):
        parse_param(f"{name}={value!r}:{value!r}")


@given(st.sampled_from(CHOICES), st.data())
def test_choices_keep_their_order_without_repeats(name, data):
    options = FIELD_BY_NAME[name].choices
    picked = data.draw(st.lists(st.sampled_from(options), min_size=2, max_size=6))
    assume(len(set(picked)) >= 2)
    param = parse_param(f"{name}={','.join(picked)}")
    assert param.choices == tuple(dict.fromkeys(picked))
    assert parse_param(param.text) == param


@given(st.text(max_size=60))
def test_any_text_is_a_param_or_a_sentence(text):
    try:
        parse_param(text)
    except ConfigError as exc:
        assert str(exc).endswith(".") or str(exc).endswith(")")


def test_out_of_bounds_values_name_the_limits():
    with pytest.raises(ConfigError, match="between"):
        parse_param("lr=1e-9:1e-1:log")


def test_an_unknown_setting_lists_the_sweepable_ones():
    with pytest.raises(ConfigError, match="Unknown setting 'learning_rate'.*lr"):
        parse_param("learning_rate=1e-3:1e-1")


@pytest.mark.parametrize("name", sorted(NOT_SWEPT))
def test_settings_that_change_the_measure_cannot_be_swept(name):
    with pytest.raises(ConfigError, match=f"{name} cannot be swept"):
        parse_param(f"{name}=1:2")


@pytest.mark.parametrize("text, says", [
    ("lr", "must look like"), ("lr=", "no values"), ("lr=0.1", "needs a range"), ("clip=0:10:log", "above 0"),
    ("lr=1e-3:1e-1:int", "not a whole number"), ("lr=1e-3:1e-1:cubic", "unknown modifier"),
    ("cell=lstm", "at least two"), ("cell=rnn,,gru", "empty choice"), ("cell=rnn:gru", "not a range"),
    ("cell=rnn,tree", "must be one of"), ("bidirectional=true,false,maybe", "0/1 or true/false"),
])
def test_malformed_params_get_a_sentence(text, says):
    with pytest.raises(ConfigError, match=says):
        parse_param(text)


def test_bool_and_numeric_lists_are_choices():
    assert parse_param("bidirectional=1,0").choices == (True, False)
    assert parse_param("hidden=8,16,32").choices == (8, 16, 32)


def test_each_setting_once_and_at_least_one():
    with pytest.raises(ConfigError, match="twice"):
        parse_params(["lr=1e-3:1e-1", "lr=1e-4:1e-2"])
    with pytest.raises(ConfigError, match="at least one"):
        parse_params([])


def base(**settings) -> RunConfig:
    return RunConfig.from_flat({"length": 400, "hidden": 8, "seq_len": 10, "batch": 8, "steps": 40,
                                "eval_every": 10} | settings)


@pytest.mark.parametrize("trials", [0, MAX_TRIALS + 1])
def test_a_sweep_has_a_trial_cap(trials):
    with pytest.raises(ConfigError, match=f"between 1 and {MAX_TRIALS}"):
        SweepSpec(base(), parse_params(["lr=1e-3:1e-1"]), trials=trials)


def test_a_range_reaching_an_invalid_run_is_refused_before_starting():
    wide = base(batch=256, seq_len=200)
    with pytest.raises(ConfigError, match="hidden=512 is not a valid run.*activations"):
        SweepSpec(wide, parse_params(["hidden=8:512"]))


def test_unknown_pruner_and_objective_are_named():
    with pytest.raises(ConfigError, match="--prune must be one of median, asha, none"):
        SweepSpec(base(), parse_params(["lr=1e-3:1e-1"]), pruner="hyper")
    with pytest.raises(ConfigError, match="--objective"):
        SweepSpec(base(), parse_params(["lr=1e-3:1e-1"]), objective="accuracy")


def test_a_file_that_is_not_a_database_is_refused(tmp_path):
    text = tmp_path / "notes.db"
    text.write_text("these are my notes, not a database\n" * 50)
    with pytest.raises(ConfigError, match="Cannot use the storage"):
        open_storage(f"sqlite:///{text}")
    assert text.read_text().startswith("these are my notes")


@pytest.mark.parametrize("url, says", [
    ("postgresql+psycopg://nobody:secret@127.0.0.1:1/none", "Cannot use the storage"),
    ("just-a-name", "must be a database URL"),
    ("sqlite:////no/such/folder/study.db", "does not exist"),
])
def test_unusable_storages_are_a_sentence(url, says):
    with pytest.raises(ConfigError, match=says) as caught:
        open_storage(url)
    assert "secret" not in str(caught.value)


def test_a_study_name_reused_with_other_params_is_refused_and_left_alone(tmp_path):
    url = f"sqlite:///{tmp_path / 'study.db'}"
    first = SweepSpec(base(), parse_params(["lr=1e-3:1e-1:log"]), trials=3, study="mine")
    Sweep(first, url)  # creates the study; no trial is run
    other = SweepSpec(base(), parse_params(["hidden=4:16"]), trials=3, study="mine")
    with pytest.raises(ConfigError, match="study 'mine' in this storage sweeps lr=0.001:0.1:log"):
        Sweep(other, url)
    fixed = SweepSpec(base(seq_len=12), parse_params(["lr=1e-3:1e-1:log"]), trials=3, study="mine")
    with pytest.raises(ConfigError, match=r"other fixed settings \(seq_len=10 there, 12 here\)"):
        Sweep(fixed, url)
    study = optuna.load_study(study_name="mine", storage=url)
    assert study.trials == [] and json.dumps(study.user_attrs["identity"]["params"]) == '["lr=0.001:0.1:log"]'
    assert trials_frame(study.trials, first.params).empty


@pytest.mark.parametrize("args, says", [
    (["--param", "lr=1e-1:1e-3"], "inverted"),
    (["--param", "colour=red,blue"], "Unknown setting 'colour'"),
    (["--param", "steps=10:100"], "steps cannot be swept"),
    (["--param", "lr=1e-3:1e-1", "--trials", "500"], "between 1 and 200"),
    (["--param", "lr=1e-3:1e-1", "--storage", "mysql://nowhere"], "Cannot use the storage|driver"),
])
def test_the_command_line_answers_bad_input_with_a_sentence_and_starts_nothing(tmp_path, capsys, args, says):
    from rnnlab.cli import main

    out = tmp_path / "sweep"
    assert main(["sweep", "--steps", "10", *args, "--out", str(out)]) == 2
    error = capsys.readouterr().err
    assert error.startswith("error: ") and "Traceback" not in error
    assert re.search(says, error)
    assert not (out / "trials.csv").exists()


@pytest.mark.parametrize("name, kind", [("median", optuna.pruners.MedianPruner),
                                        ("asha", optuna.pruners.SuccessiveHalvingPruner),
                                        ("none", optuna.pruners.NopPruner)])
def test_each_pruner_name_gives_its_optuna_pruner(name, kind):
    from rnnlab.sweep.study import make_pruner

    assert isinstance(make_pruner(SweepSpec(base(), parse_params(["lr=1e-3:1e-1"]), pruner=name)), kind)
