"""A series brings its own settings (load: period 24, length 2,016; ...) the same way whichever route names it:
a link, the command line, a JSON file or the sidebar; explicit settings and a preset's still win."""

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from rnnlab import cli
from rnnlab.config import FIELDS, RunConfig
from rnnlab.series.datasets import DATASETS
from rnnlab.series.generators import GENERATORS

ENTRY = Path(__file__).resolve().parent / "app_entry.py"
# Every series that brings settings of its own, then one that brings none (back to the table's defaults).
SERIES = [name for name, spec in {**GENERATORS, **DATASETS}.items() if spec.settings] + ["sine"]


def by_link(query: dict[str, str]) -> RunConfig:
    config, warnings = RunConfig.from_query(query)
    assert warnings == []
    return config


def by_command_line(args: list[str]) -> RunConfig:
    return cli.config_from_args(cli._settings_parser("test").parse_args(args))


def test_the_series_that_bring_settings_are_the_ones_the_sidebar_used_to_know():
    assert set(SERIES) == {"load", "echo", "nile", "sunspots", "co2", "sine"}


@pytest.mark.parametrize("name", SERIES)
def test_a_link_the_command_line_and_a_json_file_agree(name, tmp_path):
    link = by_link({"data": name})
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"data": name}))
    assert by_command_line(["--data", name]) == link
    assert by_command_line(["--config", str(path)]) == link
    assert RunConfig.from_json(path.read_text()) == link
    own = {**GENERATORS, **DATASETS}[name].settings
    assert all(link.get(setting) == value for setting, value in own.items())


def test_explicit_flags_and_link_values_override_the_series_settings(tmp_path):
    link = by_link({"data": "load", "period": "12", "seq_len": "30"})
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"data": "load", "period": 12}))
    assert by_command_line(["--data", "load", "--period", "12", "--seq-len", "30"]) == link
    assert by_command_line(["--config", str(path), "--seq_len", "30"]) == link
    assert (link.data.period, link.data.length, link.train.seq_len) == (12.0, 2016, 30)


def test_a_file_written_by_the_app_is_read_back_as_it_was(tmp_path):
    config = RunConfig.from_flat({"data": "load", "period": 40})  # explicit: not the series' 24
    path = tmp_path / "c.json"
    path.write_text(config.to_json())
    assert by_command_line(["--config", str(path)]) == config


def test_a_preset_on_the_command_line_counts_as_explicit():
    config = by_command_line(["--preset", "long-memory"])
    assert (config.data.data, config.data.period, config.train.seq_len) == ("echo", 24.0, 26)
    assert by_command_line(["--preset", "udacity-sine", "--data", "load"]) == by_link(
        {"preset": "udacity-sine", "data": "load"})


def _sidebar_config(at: AppTest) -> RunConfig:
    return RunConfig.from_flat({f.name: at.session_state["cfg_" + f.name] for f in FIELDS})


def test_picking_each_series_in_the_sidebar_gives_what_a_link_gives():
    at = AppTest.from_file(str(ENTRY), default_timeout=60).run()
    assert not at.exception, at.exception
    at.selectbox(key="preset_choice").set_value("").run()  # a bare visit opens the sine notebook's preset
    for name in SERIES:  # one after another: a series' settings must not linger into the next
        at.selectbox(key="cfg_data").set_value(name).run()
        assert not at.exception, at.exception
        assert at.session_state["config"] == by_link({"data": name}), name
        assert _sidebar_config(at) == by_link({"data": name})
    at.selectbox(key="preset_choice").set_value("lstm-load").run()
    at.selectbox(key="cfg_data").set_value("sine").run()
    assert at.session_state["config"] == by_link({"preset": "lstm-load", "data": "sine"})
