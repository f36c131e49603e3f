"""The shared sidebar: one widget per setting, derived from config.FIELDS, kept in sync with the URL."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import streamlit as st

from rnnlab import presets
from rnnlab.config import FIELD_BY_NAME, FIELDS, RunConfig, has_covariates, series_settings
from rnnlab.errors import ConfigError
from rnnlab.series.datasets import DATASETS
from rnnlab.series.generators import GENERATORS

PREFIX = "cfg_"
SECTION_TITLES = {"data": "Data details", "model": "Model", "train": "Training"}
PRIMARY = ("data",)  # drawn above the sections: the first thing a student chooses
LR_CHOICES = (1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 2e-3, 3e-3, 5e-3, 0.01, 0.02, 0.03, 0.05, 0.1, 0.3, 1.0, 3.0)
SEQ_LEN_CHOICES = (2, 5, 10, 15, 20, 24, 30, 40, 50, 60, 80, 100, 150, 200, 300, 500, 1000)
BATCH_CHOICES = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)
HIDDEN_CHOICES = (1, 2, 4, 8, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512)
STEPS_CHOICES = (10, 25, 50, 75, 100, 200, 500, 1000, 2000, 3000, 5000, 10_000, 20_000, 50_000, 100_000,
                 1_000_000, 10_000_000)


@dataclass(frozen=True)
class Widget:
    """How one setting is drawn: a slider over fixed choices, a select, a toggle or a number box."""

    kind: str  # "choices" | "select" | "toggle" | "number" | "slider"
    options: tuple = ()
    step: float | None = None


WIDGETS: dict[str, Widget] = {
    "data": Widget("select"), "scale": Widget("select"), "cell": Widget("select"), "head": Widget("select"),
    "regime": Widget("select"), "optimizer": Widget("select"), "loss": Widget("select"),
    "covariates": Widget("toggle"), "bidirectional": Widget("toggle"),
    "lr": Widget("choices", LR_CHOICES), "seq_len": Widget("choices", SEQ_LEN_CHOICES),
    "batch": Widget("choices", BATCH_CHOICES), "hidden": Widget("choices", HIDDEN_CHOICES),
    "steps": Widget("choices", STEPS_CHOICES),
    "layers": Widget("slider", step=1), "horizon": Widget("slider", step=1),
    "noise": Widget("slider", step=0.01), "dropout": Widget("slider", step=0.05),
    "val": Widget("slider", step=0.05), "test": Widget("slider", step=0.05),
    "momentum": Widget("slider", step=0.01), "clip": Widget("number", step=0.5),
    "length": Widget("number", step=100), "period": Widget("number", step=1.0), "seed": Widget("number", step=1),
    "eval_every": Widget("number", step=5), "patience": Widget("number", step=1),
}


def _irrelevant(name: str, values: dict[str, Any]) -> bool:
    """Settings that have no effect given the others are shown greyed out."""
    return {
        "batch": values.get("regime") == "streaming",
        "horizon": values.get("head") != "last",
        "dropout": values.get("layers", 1) < 2,
        "momentum": values.get("optimizer") == "adam",
        "length": values.get("data") not in GENERATORS,
        "covariates": not has_covariates(values.get("data") or ""),
    }.get(name, False)


def _apply(config: RunConfig) -> None:
    """Put a config's values into the widgets' session state."""
    for f in FIELDS:
        st.session_state[PREFIX + f.name] = config.get(f.name)
    st.session_state["preset_choice"] = config.preset


def _choose_series() -> None:
    """Picking a series applies the settings it brings, as a link or the command line naming it would."""
    preset = st.session_state.get("preset_choice") or ""
    for name, value in series_settings(st.session_state[PREFIX + "data"], preset).items():
        st.session_state[PREFIX + name] = value


def _choose_preset() -> None:
    name = st.session_state["preset_choice"]
    _apply(RunConfig.from_flat({"preset": name}) if name else RunConfig())
    st.session_state["config_notice"] = f"Loaded preset {presets.PRESETS[name].title}." if name else ""


def init_from_url() -> None:
    """Once per session: read the link's settings into the widgets, keeping its warnings for display."""
    if st.session_state.get("settings_ready"):
        return
    config, warnings = RunConfig.from_query({k: st.query_params.get_all(k) for k in st.query_params})
    _apply(config)
    st.session_state["link_warnings"] = warnings
    st.session_state["config"] = config
    st.session_state["settings_ready"] = True


def _draw_widget(name: str, values: dict[str, Any]) -> Any:
    f = FIELD_BY_NAME[name]
    spec = WIDGETS.get(name, Widget("number"))
    key, disabled = PREFIX + name, _irrelevant(name, values)
    label = f.title
    if spec.kind == "select":
        return st.selectbox(label, f.choices, key=key, help=f.help, disabled=disabled,
                            format_func=_choice_label(name), on_change=_choose_series if name == "data" else None)
    if spec.kind == "toggle":
        return st.toggle(label, key=key, help=f.help, disabled=disabled)
    if spec.kind == "choices":
        options = sorted(set(spec.options) | {st.session_state[key]})
        return st.select_slider(label, options, key=key, help=f.help, disabled=disabled,
                                format_func=lambda v: f"{v:g}" if isinstance(v, float) else f"{v:,}")
    if spec.kind == "slider":
        return st.slider(label, f.kind(f.low), f.kind(f.high), key=key, step=f.kind(spec.step), help=f.help,
                         disabled=disabled)
    return st.number_input(label, f.kind(f.low), f.kind(f.high), key=key, step=f.kind(spec.step or 1),
                           help=f.help, disabled=disabled)


def _choice_label(name: str):
    if name != "data":
        return str

    def label(value: str) -> str:
        if value in GENERATORS:
            return f"{GENERATORS[value].title} (generated)"
        if value in DATASETS:
            return f"{DATASETS[value].title} (real data)"
        return "Uploaded CSV"

    return label


def sidebar() -> RunConfig:
    """Draw every setting in the sidebar and return the validated config (the last valid one on a clash)."""
    init_from_url()
    with st.sidebar:
        st.selectbox("Preset", [""] + list(presets.PRESETS), key="preset_choice", on_change=_choose_preset,
                     format_func=lambda n: presets.PRESETS[n].title if n else "(none: my own settings)",
                     help="A named starting point; the sliders below can change any of it.")
        notice = st.session_state.pop("config_notice", "")
        if notice:
            st.caption(notice)
        values = {f.name: st.session_state.get(PREFIX + f.name) for f in FIELDS}
        for name in PRIMARY:
            values[name] = _draw_widget(name, values)
        for section, title in SECTION_TITLES.items():
            with st.expander(title, expanded=section != "data"):
                for f in FIELDS:
                    if f.section == section and f.name not in PRIMARY:
                        values[f.name] = _draw_widget(f.name, values)
    flat = {"preset": st.session_state.get("preset_choice") or ""} | values
    try:
        config = RunConfig.from_flat(flat, use_preset=False)
    except ConfigError as exc:
        st.sidebar.error(f"{exc} Keeping the last valid settings.")
        config = st.session_state["config"]
    st.session_state["config"] = config
    _write_url(config)
    share_link(config)
    return config


def _write_url(config: RunConfig) -> None:
    query = config.to_query()
    current = {k: st.query_params.get(k) for k in st.query_params}
    if current != query:
        st.query_params.from_dict(query)


def share_link(config: RunConfig) -> None:
    """The link that reproduces these settings, with a copy button (st.code has one)."""
    base = (st.context.url or "").split("?")[0]
    query = urlencode(config.to_query())
    with st.sidebar.expander("Share these settings", expanded=False):
        st.caption("Anyone opening this link gets exactly these settings (uploads stay with you).")
        st.code(f"{base}?{query}" if query else base or "/", language=None, wrap_lines=True)


def show_link_warnings() -> None:
    """Warnings about a shared link's bad values, shown once on the page the link opened."""
    for warning in st.session_state.pop("link_warnings", []):
        st.warning(f"Link: {warning}")
