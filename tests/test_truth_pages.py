"""The pages tell the truth about the run and explain themselves (issue 14), through Streamlit's AppTest:
equations on Shapes and Inside, the layer choice on Inside."""

from __future__ import annotations

import pytest

from tests.test_pages import app, no_job_left_behind  # noqa: F401 (the fixture stops every job after a test)

GATE_ORDER = {"lstm": ["i_t", "f_t", "g_t", "o_t"], "gru": ["r_t", "z_t", "n_t"]}


def _latex(at) -> str:
    return " ".join(element.value for element in at.latex)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_shapes_page_shows_the_chosen_cells_equations_with_gates_in_pytorchs_order(cell):
    at = app({"cell": cell, "head": "last"}, page="pages/shapes.py")
    text = _latex(at)
    assert "h_t" in text
    order = GATE_ORDER.get(cell, [])
    assert [text.index(gate) for gate in order] == sorted(text.index(gate) for gate in order)
    others = {name for c, names in GATE_ORDER.items() if c != cell for name in names}
    assert not any(f"{name} &=" in text for name in others)  # only the chosen cell
    if cell == "rnn":
        assert r"\tanh" in text and r"\sigma" not in text


def test_shapes_page_has_no_warning_for_a_combination_the_config_refuses():
    at = app({"bidirectional": "1", "head": "last"}, page="pages/shapes.py")
    assert not at.warning


def test_inside_page_shows_the_equations_of_the_cell_it_probes():
    at = app({"cell": "gru", "layers": "2"}, page="pages/inside.py")
    text = _latex(at)
    assert "r_t" in text and "z_t" in text and "c_t" not in text


def test_inside_layer_choice_changes_the_probed_layer():
    at = app({"cell": "lstm", "layers": "3", "seq_len": "12"}, page="pages/inside.py")
    layer = next(s for s in at.selectbox if s.label == "Layer")
    assert layer.value == 2  # the top one by default
    assert any("layer 3 of 3" in c.value for c in at.caption)
    top = [c.proto.json for c in at.main.get("bidi_component")]
    layer.set_value(0).run()
    assert not at.exception
    assert any("layer 1 of 3" in c.value for c in at.caption)
    bottom = [c.proto.json for c in at.main.get("bidi_component")]
    assert "layer 1" in bottom[0] and "layer 3" in top[0]  # the heatmap's title names its layer
    assert bottom[-1] != top[-1]  # another gradient curve


def test_inside_layer_choice_is_off_for_a_single_layer():
    at = app({"cell": "gru", "layers": "1"}, page="pages/inside.py")
    assert next(s for s in at.selectbox if s.label == "Layer").disabled


def test_an_uploaded_daily_series_shows_dates_and_no_caption_asking_to_choose_it_again():
    rows = "\n".join(f"2024-01-{d:02d},{10 + d % 7}.5,{d}" for d in range(1, 29))
    csv = f"date,sales,promo\n{rows}\n".encode()
    at = app({"seq_len": "5", "val": "0.2", "test": "0.2"}, page="pages/data.py")
    at.file_uploader(key="csv_upload").set_value(("sales.csv", csv, "text/csv")).run()
    preview = at.dataframe[-1].value
    assert list(preview.index[:2]) == ["2024-01-01", "2024-01-02"]  # not "2024-01-01 00:00:00"
    at.button(key="csv_use").click().run()
    assert not at.exception
    table = at.dataframe[0].value
    assert list(table.index[:2]) == ["2024-01-01", "2024-01-02"]
    captions = " ".join(c.value for c in at.caption)
    assert "Train trains on it" in captions and "choose *Uploaded CSV*" not in captions


def test_an_uploaded_dated_series_has_its_dates_on_the_train_and_forecast_charts():
    import json

    from tests.test_pages import step_count, wait_until

    rows = "\n".join(f"2024-{1 + d // 28:02d}-{1 + d % 28:02d},{10 + d % 7}.5" for d in range(200))
    at = app({"seq_len": "10", "steps": "30"}, page="pages/data.py")
    at.file_uploader(key="csv_upload").set_value(("daily.csv", f"date,sales\n{rows}\n".encode(), "text/csv")).run()
    at.button(key="csv_use").click().run()
    at.switch_page("../pages/train.py").run()
    at.button(key="btn_train").click().run()
    wait_until(at, lambda a: step_count(a) >= 30, timeout=60)
    window = next(c for c in at.get("bidi_component") if "window_chart" in str(c.proto))
    x = json.loads(window.proto.json)["figure"]["data"][0]["x"]
    assert isinstance(x, list) and x[0].startswith("2024-") and len(x[0]) == 10  # a date, not a row number
    at.switch_page("../pages/forecast.py").run()
    assert not at.exception
    truth = at.get("plotly_chart")[0].proto.spec
    assert '"2024-' in truth


def test_the_preset_caption_names_what_the_settings_changed_from_it():
    plain = app({"preset": "udacity-sine"})
    assert any("notebook exactly" in c.value and "Changed" not in c.value for c in plain.caption)
    changed = app({"preset": "udacity-sine", "steps": "1000", "hidden": "64"})
    note = next(c.value for c in changed.caption if "notebook exactly" in c.value)
    assert "Changed from the preset: hidden 32 → 64, steps 75 → 1,000." in note
