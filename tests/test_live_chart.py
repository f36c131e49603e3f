"""The live chart's Python side: the payload the browser gets, and when it carries a figure."""

import base64
import json

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from rnnlab.ui import live_chart


def decode(spec: dict) -> np.ndarray:
    dtype = {"f4": np.float32, "f8": np.float64, "i4": np.int32, "u1": np.uint8}[spec["dtype"]]
    array = np.frombuffer(base64.b64decode(spec["bdata"]), dtype=dtype)
    return array.reshape([int(n) for n in spec["shape"].split(",")]) if "shape" in spec else array


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_arrays_travel_as_typed_arrays_that_decode_to_the_same_values(seed):
    rng = np.random.default_rng(seed)
    y = rng.normal(size=37).astype(np.float32)
    z = rng.normal(size=(5, 9))
    steps = np.arange(37)  # int64: plotly.js has no 64-bit integer arrays
    figure = {"data": [{"type": "scatter", "x": steps, "y": y}, {"type": "heatmap", "z": z}],
              "layout": {"title": {"text": "t"}}}
    sent = json.loads(json.dumps(live_chart.payload(figure, "k", "1")))  # what the websocket carries
    x_spec, y_spec = sent["figure"]["data"][0]["x"], sent["figure"]["data"][0]["y"]
    assert y_spec["dtype"] == "f4" and np.array_equal(decode(y_spec), y)
    assert x_spec["dtype"] == "f8" and np.array_equal(decode(x_spec), steps)
    assert np.array_equal(decode(sent["figure"]["data"][1]["z"]), z)
    assert sent["figure"]["data"][1]["z"]["shape"] == "5,9"


def test_zoom_survives_updates_unless_the_figure_names_its_own_revision():
    mine = live_chart.payload({"data": [], "layout": {"height": 300}}, "loss_chart", "3")
    own = live_chart.payload({"data": [], "layout": {"uirevision": "loss"}}, "loss_chart", "3")
    assert mine["figure"]["layout"]["uirevision"] == "loss_chart" and mine["figure"]["layout"]["height"] == 300
    assert own["figure"]["layout"]["uirevision"] == "loss"
    assert live_chart.payload(None, "loss_chart", "3") == {"name": "loss_chart", "version": "3", "figure": None}


def test_the_figure_given_is_left_as_it_was():
    figure = {"data": [{"y": np.ones(3)}], "layout": {"height": 200}}
    live_chart.payload(figure, "k", "1")
    assert figure["layout"] == {"height": 200} and isinstance(figure["data"][0]["y"], np.ndarray)


def _script():
    import numpy as np
    import streamlit as st

    from rnnlab.ui import live_chart as lc

    built = st.session_state.setdefault("built", [])

    def figure():
        built.append(1)
        return {"data": [{"type": "scatter", "y": np.arange(4, dtype=np.float32) * st.session_state.get("v", 1)}],
                "layout": {"height": 300}}

    lc.live_chart(figure, key="loss_chart", version=st.session_state.get("v", 1))


def _sent(at: AppTest) -> tuple[str, dict]:
    element = at.get("bidi_component")[0]
    return element.proto.id, json.loads(element.proto.json)


def test_an_instance_keeps_its_id_and_sends_a_figure_only_when_its_version_moved(monkeypatch):
    # A stand-in for a fragment's timed rerun: AppTest has no clock. The script runs in this process.
    monkeypatch.setattr(live_chart, "_timed_rerun", lambda: bool(at.session_state["timed"]))
    at = AppTest.from_function(_script)
    at.session_state["timed"] = False
    at.run()
    first_id, sent = _sent(at)
    assert sent["version"] == "1" and sent["figure"]["data"][0]["y"]["dtype"] == "f4"

    at.session_state["timed"] = True  # a timed rerun, nothing changed: no figure built, none sent
    at.run()
    same_id, sent = _sent(at)
    assert same_id == first_id
    assert sent == {"name": "loss_chart", "version": "1", "figure": None, "feed": None, "grow": False, "live": False}
    assert len(at.session_state["built"]) == 1

    at.session_state["v"] = 2  # a timed rerun after a change: the new figure, same element id
    at.run()
    new_id, sent = _sent(at)
    assert new_id == first_id and sent["version"] == "2"
    assert decode(sent["figure"]["data"][0]["y"]).tolist() == [0.0, 2.0, 4.0, 6.0]

    at.session_state["timed"] = False  # a full page run may have a fresh chart: always the figure
    at.run()
    _, sent = _sent(at)
    assert sent["figure"] is not None and len(at.session_state["built"]) == 3


def test_the_committed_basic_plotly_js_is_the_same_version_as_the_wheels_full_build():
    # Train's charts draw with the basic build, Inside's heatmaps with the wheel's: one look needs one version.
    import re

    def version(path):
        return re.search(r"plotly\.js .*?v(\d+\.\d+\.\d+)", path.read_text(encoding="utf-8")[:300]).group(1)

    basic = live_chart.STATIC / live_chart.PLOTLY_BASIC_JS
    assert basic.exists(), "static/plotly-basic.min.js is committed with the repo"
    assert version(basic) == version(live_chart.ensure_plotly_js())
