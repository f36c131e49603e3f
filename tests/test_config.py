"""The settings table, validation and the URL / JSON round trips."""

import dataclasses
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rnnlab import presets
from rnnlab.config import (
    FIELD_BY_NAME,
    FIELDS,
    MAX_ACTIVATIONS_PER_STEP,
    SERIES_SETTING_NAMES,
    DataConfig,
    ModelConfig,
    RunConfig,
    TrainConfig,
    has_covariates,
    series_settings,
)
from rnnlab.errors import ConfigError

REQUIRED_NAMES = ("data noise seed cell hidden layers bidirectional dropout head horizon regime seq_len batch "
                  "optimizer lr loss clip steps").split()


def test_every_name_of_the_shared_vocabulary_is_a_setting():
    for name in REQUIRED_NAMES:
        assert name in FIELD_BY_NAME


def test_defaults_are_valid():
    config = RunConfig()
    assert config.model.cell == "lstm" and config.data.data == "sine"


def test_cell_accepts_all_four_cells():
    for cell in ("rnn", "rnn_relu", "lstm", "gru"):
        assert RunConfig.from_flat({"cell": cell}).model.cell == cell


def test_booleans_accept_digits_and_words():
    for text, value in (("1", True), ("0", False), ("true", True), ("false", False), ("True", True)):
        assert RunConfig.from_flat({"bidirectional": text, "head": "last"}).model.bidirectional is value


def test_data_names_include_sine_and_load():
    assert {"sine", "load"} <= set(FIELD_BY_NAME["data"].choices)


@pytest.mark.parametrize("name,value,fragment", [
    ("hidden", "0", "hidden must be between 1 and 512"),
    ("hidden", "513", "hidden must be between 1 and 512"),
    ("layers", "5", "layers must be between 1 and 4"),
    ("cell", "transformer", "cell must be one of rnn, rnn_relu, lstm, gru"),
    ("lr", "abc", "lr must be a number"),
    ("lr", "nan", "lr must be a finite number"),
    ("hidden", "3.5", "hidden must be a whole number"),
    ("bidirectional", "maybe", "bidirectional must be 0/1 or true/false"),
    ("steps", "0", "steps must be between 1 and"),
    ("seq_len", "", "seq_len was given an empty value"),
])
def test_bad_values_name_the_field_and_the_allowed_range(name, value, fragment):
    with pytest.raises(ConfigError, match=fragment.replace("(", r"\(")):
        RunConfig.from_flat({name: value})


def test_steps_allow_a_million():
    assert RunConfig.from_flat({"steps": "1000000"}).train.steps == 1_000_000


def test_horizon_needs_the_last_step_head():
    with pytest.raises(ConfigError, match="head=last"):
        RunConfig.from_flat({"horizon": 5, "head": "seq2seq"})
    assert RunConfig.from_flat({"horizon": 5, "head": "last"}).model.horizon == 5


def test_oversized_runs_are_refused_with_the_reason():
    with pytest.raises(ConfigError, match="activations per step"):
        RunConfig.from_flat({"hidden": 512, "layers": 4, "seq_len": 1000, "batch": 1024, "regime": "windowed"})
    config = RunConfig.from_flat({"hidden": 64, "seq_len": 50, "batch": 64, "layers": 2})
    assert config.effective_batch * 50 * 64 * 2 <= MAX_ACTIVATIONS_PER_STEP


def test_streaming_ignores_batch_for_the_cap():
    config = RunConfig.from_flat({"regime": "streaming", "batch": 1024, "seq_len": 1000, "hidden": 512, "layers": 4})
    assert config.effective_batch == 1


def test_unknown_setting_is_refused_in_strict_mode():
    with pytest.raises(ConfigError, match="Unknown setting 'colour'"):
        RunConfig.from_flat({"colour": "red"})


def test_json_round_trip_keeps_every_setting():
    config = RunConfig.from_flat({"preset": "lstm-load", "hidden": 48, "bidirectional": True, "lr": 0.003})
    again = RunConfig.from_json(config.to_json())
    assert again == config
    assert json.loads(config.to_json())["hidden"] == 48


def test_broken_json_is_a_config_error():
    with pytest.raises(ConfigError, match="not valid JSON"):
        RunConfig.from_json("{hidden: 3")
    with pytest.raises(ConfigError, match="JSON object"):
        RunConfig.from_json("[1, 2]")


def test_query_string_round_trip():
    config = RunConfig.from_flat({"cell": "gru", "hidden": 64, "layers": 2, "bidirectional": True,
                                  "head": "last", "dropout": 0.2, "lr": 0.0003, "steps": 123})
    query = config.to_query()
    assert query["cell"] == "gru" and query["hidden"] == "64" and query["bidirectional"] == "1"
    assert all(isinstance(v, str) for v in query.values())
    again, warnings = RunConfig.from_query(query)
    assert again == config and warnings == []


def test_query_string_carries_only_changes_from_the_preset():
    config = RunConfig.from_flat({"preset": "udacity-sine", "steps": 1_000_000})
    assert config.to_query() == {"preset": "udacity-sine", "steps": "1000000"}


def test_link_settings_override_the_preset():
    config, warnings = RunConfig.from_query({"preset": "udacity-sine", "steps": "1000000"})
    assert warnings == []
    assert config.train.steps == 1_000_000
    assert config.model.cell == "rnn" and config.train.regime == "streaming" and config.model.hidden == 32


def test_bad_link_values_warn_and_fall_back():
    config, warnings = RunConfig.from_query({"hidden": "9999", "cell": "lstm", "lr": "fast", "bogus": "1"})
    assert config.model.hidden == FIELD_BY_NAME["hidden"].default
    assert config.train.lr == FIELD_BY_NAME["lr"].default
    assert any("hidden must be between 1 and 512" in w for w in warnings)
    assert any("lr must be a number" in w for w in warnings)
    assert any("unknown setting 'bogus'" in w for w in warnings)


def test_repeated_link_keys_take_the_last_value():
    config, warnings = RunConfig.from_query({"hidden": ["8", "16"]})
    assert config.model.hidden == 16 and warnings == []


def test_clashing_link_values_fall_back_to_the_preset():
    config, warnings = RunConfig.from_query({"preset": "udacity-sine", "horizon": "3"})
    assert config == RunConfig.from_flat({"preset": "udacity-sine"})
    assert warnings and "head=last" in warnings[0]


def test_unknown_preset_in_a_link_warns():
    config, warnings = RunConfig.from_query({"preset": "nope"})
    assert config == RunConfig() and "preset must be one of" in warnings[0]


def test_absurdly_long_values_are_refused_without_echoing_them():
    config, warnings = RunConfig.from_query({"cell": "x" * 100_000})
    assert config.model.cell == "lstm"
    assert len(warnings[0]) < 300


def test_every_preset_is_valid_and_described():
    for name, preset in presets.PRESETS.items():
        config = RunConfig.from_flat({"preset": name})
        assert config.preset == name and preset.description


def test_udacity_preset_is_the_classic_notebook():
    c = RunConfig.from_flat({"preset": "udacity-sine"})
    assert (c.model.cell, c.model.layers, c.model.hidden, c.train.seq_len) == ("rnn", 1, 32, 20)
    assert (c.train.regime, c.train.optimizer, c.train.lr, c.train.loss, c.train.steps) == (
        "streaming", "adam", 0.01, "mse", 75)


def test_lstm_load_preset_is_the_article():
    c = RunConfig.from_flat({"preset": "lstm-load"})
    assert (c.data.data, c.model.cell, c.train.seq_len, c.model.head) == ("load", "lstm", 24, "last")


def test_replace_changes_one_setting():
    config = RunConfig().replace(lr=0.5)
    assert config.train.lr == 0.5 and config.model == RunConfig().model


def _field_values(f):
    if f.choices:
        return st.sampled_from([c for c in f.choices if c != "upload"])
    if f.kind is bool:
        return st.booleans()
    if f.kind is int:
        return st.integers(int(f.low), int(min(f.high, 10**7)))
    return st.floats(f.low, f.high, allow_nan=False)


@settings(max_examples=200, deadline=None)
@given(st.fixed_dictionaries({f.name: _field_values(f) for f in FIELDS}))
def test_any_valid_or_refused_config_round_trips(values):
    try:
        config = RunConfig.from_flat(values)
    except ConfigError:
        return
    again, warnings = RunConfig.from_query(config.to_query())
    assert warnings == [] and again == config
    assert RunConfig.from_json(config.to_json()) == config


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from([f.name for f in FIELDS] + ["preset", "zzz"]),
                       st.one_of(st.text(max_size=30), st.lists(st.text(max_size=5), max_size=3))))
def test_any_query_string_gives_a_config_and_sentences(params):
    config, warnings = RunConfig.from_query(params)
    assert isinstance(config, RunConfig)
    assert all(isinstance(w, str) and w for w in warnings)


@pytest.mark.parametrize("name", [f.name for f in FIELDS])
@pytest.mark.parametrize("bad", ["", "   ", "abc", "-1e309", "1e309", "nan", "x" * 5000, ["1", ""], []])
def test_every_link_parameter_survives_bad_values(name, bad):
    config, warnings = RunConfig.from_query({name: bad})
    default = RunConfig()
    value = config.get(name)
    if value != default.get(name):  # only a value that really is valid may get through, e.g. "1" for a bool
        assert not warnings
        FIELD_BY_NAME[name].check(value)
    else:
        assert warnings, f"{name}={bad!r} fell back silently"
    assert all(len(w) < 400 for w in warnings)


@pytest.mark.parametrize("name", [f.name for f in FIELDS if f.kind in (int, float)])
def test_every_number_outside_its_range_is_refused_by_name(name):
    f = FIELD_BY_NAME[name]
    for outside in (f.low - 1, f.high * 10 + 1):
        config, warnings = RunConfig.from_query({name: str(outside)})
        assert config.get(name) == RunConfig().get(name)
        assert warnings and warnings[0].startswith(f"{name} must be between")


# --- the dataclasses and the table ------------------------------------------------------------

@pytest.mark.parametrize("section, kind", [("data", DataConfig), ("model", ModelConfig), ("train", TrainConfig)])
def test_each_dataclass_holds_its_sections_fields_of_the_table_in_order_with_its_types_and_defaults(section, kind):
    table = [f for f in FIELDS if f.section == section]
    fields = dataclasses.fields(kind)
    assert [f.name for f in fields] == [f.name for f in table]
    assert [f.type for f in fields] == [f.kind.__name__ for f in table]
    assert [f.default for f in fields] == [f.default for f in table]


# --- series settings: one merge for links, files, the command line and the sidebar -------------

def test_naming_a_series_brings_its_settings():
    assert RunConfig.from_flat({"data": "load"}).data.period == 24.0
    assert RunConfig.from_flat({"data": "load"}).data.length == 2016
    assert RunConfig.from_flat({"data": "echo"}).train.seq_len == 60
    assert RunConfig.from_flat({"data": "nile"}).train.seq_len == 10
    assert RunConfig.from_flat({"data": "co2"}).train.seq_len == 24
    assert RunConfig.from_flat({"data": "sine"}) == RunConfig()


def test_explicit_settings_override_the_series_settings():
    config = RunConfig.from_flat({"data": "load", "period": 12, "seq_len": 48})
    assert (config.data.period, config.data.length, config.train.seq_len) == (12.0, 2016, 48)


def test_a_presets_settings_count_as_explicit_over_the_series_settings():
    config = RunConfig.from_flat({"preset": "long-memory"})  # echo, but period 24 and seq_len 26
    assert (config.data.data, config.data.period, config.train.seq_len) == ("echo", 24.0, 26)
    switched = RunConfig.from_flat({"preset": "udacity-sine", "data": "load"})  # the preset sets period 40
    assert (switched.data.period, switched.data.length) == (40.0, 2016)


def test_series_settings_cover_every_setting_some_series_sets():
    assert set(SERIES_SETTING_NAMES) == {"period", "length", "seq_len"}
    assert series_settings("sine") == {"length": 1000, "period": 40.0, "seq_len": 20}
    assert series_settings("load") == {"length": 2016, "period": 24.0, "seq_len": 20}
    assert series_settings("sine", "lstm-load") == {"length": 2016, "period": 24.0, "seq_len": 24}


def test_a_link_writes_only_what_differs_from_the_series_settings():
    assert RunConfig.from_flat({"data": "load"}).to_query() == {"data": "load"}
    assert RunConfig.from_flat({"data": "load", "period": 40}).to_query() == {"data": "load", "period": "40"}
    assert RunConfig.from_flat({"preset": "long-memory"}).to_query() == {"preset": "long-memory"}


def test_a_bad_link_value_falls_back_to_the_series_setting():
    config, warnings = RunConfig.from_query({"data": "load", "period": "often"})
    assert config.data.period == 24.0
    assert warnings == ["period must be a number (got 'often'). Using 24."]


def test_which_series_have_covariates():
    assert has_covariates("load") and has_covariates("echo") and has_covariates("upload")
    assert not has_covariates("sine") and not has_covariates("nile")


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(["", *presets.PRESETS]),
       st.dictionaries(st.sampled_from([f.name for f in FIELDS]), st.just(None), max_size=6),
       st.data())
def test_any_partial_settings_round_trip_through_a_link_and_a_file(preset, names, draw):
    values = {name: draw.draw(_field_values(FIELD_BY_NAME[name])) for name in names}
    try:
        config = RunConfig.from_flat({"preset": preset, **values} if preset else values)
    except ConfigError:
        return
    again, warnings = RunConfig.from_query(config.to_query())
    assert warnings == [] and again == config
    assert RunConfig.from_json(config.to_json()) == config


@pytest.mark.parametrize("regime", ["windowed", "streaming"])
def test_bidirectional_with_a_prediction_at_every_step_is_refused_with_the_reason(regime):
    # Its backward half has read x[t+1], the target of step t: it would learn to copy (issue 15).
    with pytest.raises(ConfigError, match="sees step t\\+1 while predicting it.*head=last"):
        RunConfig.from_flat({"bidirectional": True, "head": "seq2seq", "regime": regime})


def test_bidirectional_cannot_carry_state_between_windows():
    with pytest.raises(ConfigError, match="cannot carry its state.*regime=windowed"):
        RunConfig.from_flat({"bidirectional": True, "head": "last", "regime": "streaming"})
    config = RunConfig.from_flat({"bidirectional": True, "head": "last", "horizon": 3, "regime": "windowed"})
    assert config.directions == 2


def test_a_link_that_would_peek_warns_and_falls_back():
    config, warnings = RunConfig.from_query({"bidirectional": "1", "head": "seq2seq", "hidden": "8"})
    assert not (config.model.bidirectional and config.model.head == "seq2seq")
    assert len(warnings) == 1 and "sees step t+1 while predicting it" in warnings[0]
