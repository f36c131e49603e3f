"""The shared sidebar: one widget per setting, derived from config.FIELDS, kept in sync with the URL.

It never shows a value other than the one in use: settings that cannot run turn Train off (with the
reason beside it, live.controls reads config_error()) instead of silently keeping older values; a
classroom link's hidden and locked settings (rnnlab.classroom) keep the link's values."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import streamlit as st

from rnnlab import classroom, glossary, presets
from rnnlab.config import FIELD_BY_NAME, FIELDS, RunConfig, has_covariates, series_settings
from rnnlab.errors import ConfigError
from rnnlab.series.datasets import DATASETS
from rnnlab.series.generators import GENERATORS
from rnnlab.ui import classroom as classroom_ui
from rnnlab.ui.copy_link import copy_link

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
    "forget_bias": Widget("slider", step=0.5),
}


def _irrelevant(name: str, values: dict[str, Any]) -> str:
    """Why a setting has no effect given the others ("" when it has): it is shown greyed out, the reason
    in its help."""
    reasons = {
        "batch": (values.get("regime") == "streaming", "The streaming regime always feeds one window."),
        "horizon": (values.get("head") != "last", "Only the last-step head (head=last) predicts further ahead."),
        "dropout": (values.get("layers", 1) < 2, "Dropout acts between stacked layers: choose 2 or more."),
        "momentum": (values.get("optimizer") == "adam", "Adam keeps its own momentum: SGD and RMSprop use this."),
        "length": (values.get("data") not in GENERATORS, "Only a generated series has a length to choose."),
        "covariates": (not has_covariates(values.get("data") or ""), "This series has no covariate columns."),
        "forget_bias": (values.get("cell") != "lstm", "Only an LSTM has a forget gate: choose cell LSTM."),
    }
    applies, reason = reasons.get(name, (False, ""))
    return reason if applies else ""


def _room() -> classroom.Classroom:
    return st.session_state.get("classroom") or classroom.Classroom()


def _pins() -> dict[str, Any]:
    """The hidden and locked settings' values, as the opened link (or its preset) set them."""
    return st.session_state.get("pins", {})


def apply_config(config: RunConfig, note: str | None = None) -> None:
    """Put a config's values into the widgets' session state (a classroom link's pinned ones stay), as
    choosing a preset does; `note` is shown once above the settings. Call it from a widget's callback (or
    before the sidebar is drawn): widgets take session-state values only before they are created."""
    for f in FIELDS:
        st.session_state[PREFIX + f.name] = _pins().get(f.name, config.get(f.name))
    st.session_state["preset_choice"] = config.preset
    if note is not None:
        st.session_state["config_notice"] = note


def _choose_series() -> None:
    """Picking a series applies the settings it brings, as a link or the command line naming it would."""
    preset = st.session_state.get("preset_choice") or ""
    for name, value in series_settings(st.session_state[PREFIX + "data"], preset).items():
        st.session_state[PREFIX + name] = _pins().get(name, value)


def _choose_preset() -> None:
    name = st.session_state["preset_choice"]
    loaded = RunConfig.from_flat({"preset": name}) if name else RunConfig()
    apply_config(loaded)
    kept = [f"{n} {_text(v)}" for n, v in _pins().items() if v != loaded.get(n)]
    st.session_state["config_notice"] = (
        (f"Loaded preset {presets.PRESETS[name].title}." if name else "")
        + (f" Kept {', '.join(kept)}: the link you opened fixes them." if kept else ""))


def init_from_url() -> None:
    """Once per session: read the link's settings (and its classroom part) into the widgets, keeping
    its warnings for display. A bare `/` opens the landing preset, the classic notebook."""
    if st.session_state.get("settings_ready"):
        return
    params = {k: st.query_params.get_all(k) for k in st.query_params}
    room, room_warnings = classroom.parse(params)
    if classroom.is_landing(params):
        config, warnings = RunConfig.from_flat({"preset": classroom.LANDING_PRESET}), []
        st.session_state["landing"] = config
    else:
        config, warnings = RunConfig.from_query(classroom.settings_params(params))
    st.session_state["classroom"] = room
    st.session_state["pins"] = {name: config.get(name) for name in room.pinned}
    apply_config(config)
    st.session_state["link_warnings"] = warnings + room_warnings
    st.session_state["config"] = config
    st.session_state["settings_ready"] = True


def _draw_widget(name: str, values: dict[str, Any]) -> Any:
    f = FIELD_BY_NAME[name]
    spec = WIDGETS.get(name, Widget("number"))
    key, why_not = PREFIX + name, _irrelevant(name, values)
    label, disabled = f.title, bool(why_not)
    value = values[name] if values[name] is not None else st.session_state["config"].get(name)
    if _room().locks(name):
        disabled, help_text, value = True, f"{f.help} Locked by the link you opened.", _pins()[name]
    else:
        help_text = f"{f.help} **Off now:** {why_not}" if why_not else f.help
    # Every run hands the widget its value, which Streamlit then sends to the browser, not only the run after a
    # link, preset or lesson set it. The browser loads a kind of widget's script on first use; a slider whose
    # script arrived after a newer run had replaced the one carrying its value showed its default (seq_len 2)
    # and sent it back with the next click, which trained it (cold servers; tests/test_sidebar_browser.py).
    st.session_state[key] = value
    if spec.kind == "select":
        return st.selectbox(label, f.choices, key=key, help=help_text, disabled=disabled,
                            format_func=_choice_label(name), on_change=_choose_series if name == "data" else None)
    if spec.kind == "toggle":
        return st.toggle(label, key=key, help=help_text, disabled=disabled)
    if spec.kind == "choices":
        options = sorted(set(spec.options) | {st.session_state[key]})
        return st.select_slider(label, options, key=key, help=help_text, disabled=disabled,
                                format_func=lambda v: f"{v:g}" if isinstance(v, float) else f"{v:,}")
    if spec.kind == "slider":
        return st.slider(label, f.kind(f.low), f.kind(f.high), key=key, step=f.kind(spec.step), help=help_text,
                         disabled=disabled)
    return st.number_input(label, f.kind(f.low), f.kind(f.high), key=key, step=f.kind(spec.step or 1),
                           help=help_text, disabled=disabled)


def _choice_label(name: str):
    """Human words with the code name beside them, "last step (head=last)"; series by title."""
    if name != "data":
        return lambda value: glossary.option_label(name, value).replace("`", "")

    def label(value: str) -> str:
        if value in GENERATORS:
            return f"{GENERATORS[value].title} (generated)"
        if value in DATASETS:
            return f"{DATASETS[value].title} (real data)"
        return "Uploaded CSV"

    return label


def sidebar() -> RunConfig:
    """Draw every setting in the sidebar and return the config in use: the sidebar's when it can run;
    when it cannot, the last one that could, with config_error() saying why (Train is then off)."""
    init_from_url()
    room = _room()
    with st.sidebar:
        if room.shows("preset"):
            st.session_state["preset_choice"] = st.session_state.get("preset_choice") or ""  # see _draw_widget
            st.selectbox("Preset", [""] + list(presets.PRESETS), key="preset_choice", on_change=_choose_preset,
                         format_func=lambda n: presets.PRESETS[n].title if n else "(none: my own settings)",
                         help="A named starting point; the sliders below can change any of it.",
                         disabled=room.locks("preset"))
        notice = st.session_state.pop("config_notice", "")
        if notice:
            st.caption(notice)
        values = {f.name: st.session_state.get(PREFIX + f.name) for f in FIELDS}
        for name in PRIMARY:
            if room.shows(name):
                values[name] = _draw_widget(name, values)
        for section, title in SECTION_TITLES.items():
            shown = [f.name for f in FIELDS if f.section == section and f.name not in PRIMARY and room.shows(f.name)]
            if shown:
                with st.expander(title, expanded=section != "data"):
                    for name in shown:
                        values[name] = _draw_widget(name, values)
        flat = _flat(values)
        st.session_state["sidebar_values"] = values | _pins()
        try:
            config, error = RunConfig.from_flat(flat, use_preset=False), ""
        except ConfigError as exc:
            config, error = st.session_state["config"], str(exc) + _fixes(flat)
            st.error(f"These settings cannot run: {error} **Train** is off until they can.")
        st.session_state["config_error"] = error
        classroom_ui.link("glossary", "Glossary: the words explained", icon=":material/menu_book:")
    st.session_state["config"] = config
    if not error:  # the URL and the share link carry settings that run
        _write_url(config)
    if room.shows("share"):
        share_link(config)
    classroom_ui.apply_view(room)
    return config


def _flat(values: dict[str, Any]) -> dict[str, Any]:
    """The flat settings that `values` (setting name -> widget value) make, with the preset and the link's pins."""
    return {"preset": st.session_state.get("preset_choice") or ""} | values | _pins()


def config_now() -> RunConfig | None:
    """The config the sidebar's widgets hold at this moment (None when it cannot run), for a button's callback.
    A callback runs before the script; a config bound to the button as an argument comes from the last run
    that drew the button, older than the widgets when the click interrupted the run a slider started."""
    try:
        return RunConfig.from_flat(_flat({f.name: st.session_state.get(PREFIX + f.name) for f in FIELDS}),
                                   use_preset=False)
    except ConfigError:
        return None


def _fixes(flat: dict[str, Any]) -> str:
    """ " For example batch 256 (or hidden 192) would run.": for each sized setting, the largest of its
    sidebar choices below the current value that makes these settings run, everything else as it is."""
    found = []
    for name in ("batch", "seq_len", "hidden"):
        if name in _pins() or _irrelevant(name, flat):
            continue
        for value in sorted((c for c in WIDGETS[name].options if c < flat[name]), reverse=True):
            try:
                RunConfig.from_flat(flat | {name: value}, use_preset=False)
            except ConfigError:
                continue
            found.append(f"{name} {_text(value)}")
            break
    if not found:
        return ""
    return f" For example {found[0]}" + (f" (or {' or '.join(found[1:])})" if found[1:] else "") + " would run."


def config_error() -> str:
    """Why the sidebar's settings cannot run ("" when they can): Train is off and says this beside it."""
    return st.session_state.get("config_error", "")


def _text(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else f"{value:g}" \
        if isinstance(value, float) else str(value)


def differences(old: RunConfig, new: Mapping[str, Any], limit: int = 4) -> str:
    """ "cell lstm → gru, hidden 32 → 64 and 3 more": the settings in `new` ({name: value}) that differ."""
    changed = [f"{f.name} {_text(old.get(f.name))} → {_text(new[f.name])}" for f in FIELDS
               if f.name in new and old.get(f.name) != new[f.name]]
    more = f" and {len(changed) - limit} more" if len(changed) > limit else ""
    return ", ".join(changed[:limit]) + more


def preset_caption(config: RunConfig) -> str:
    """The preset's description, and what the settings changed from it: a description that says "75 steps"
    over a run of a million would not be the truth."""
    changed = differences(RunConfig.from_flat({"preset": config.preset}), config.to_flat())
    return presets.PRESETS[config.preset].description + (f" Changed from the preset: {changed}." if changed else "")


def change_note(run_config: RunConfig, config: RunConfig) -> str:
    """What the Train page says when the sidebar no longer describes the run its charts show."""
    changes = differences(run_config, config.to_flat())
    if not changes:
        return ""
    return (f"The charts show the previous run; the sidebar's settings differ from it ({changes}). "
            "Press **Train** to start a new run with the sidebar's settings.")


def _query(config: RunConfig, carried: tuple[tuple[str, str], ...]) -> dict[str, str]:
    return config.to_query() | dict(carried)


def _write_url(config: RunConfig) -> None:
    """The settings, plus the opened link's classroom part (a reload must keep a class link's view)."""
    query = _query(config, _room().carried)
    current = {k: st.query_params.get(k) for k in st.query_params}
    if current != query:
        st.query_params.from_dict(query)


def share_link(config: RunConfig) -> None:
    """The link that reproduces these settings, with a copy button (rnnlab.ui.copy_link).

    It carries hide=, lock= and lesson= only when the opened link had them: a student passing a class
    link on passes the class's view, and a plain link never grows a teacher's restrictions (the Teach
    page builds those). view=present stays out: the projector's view is not for the student's screen."""
    base = (st.context.url or "").split("?")[0]
    carried = tuple((k, v) for k, v in _room().carried if k != "view")
    query = urlencode(_query(config, carried))
    with st.sidebar.expander("Share these settings", expanded=False):
        st.caption("Anyone opening this link gets exactly these settings (uploads stay with you).")
        copy_link(f"{base}?{query}" if query else base or "/", key="share_link")


def show_link_warnings() -> None:
    """Warnings about a shared link's bad values, shown once on the page the link opened; on every page,
    settings that cannot run (what this page shows instead); on a first visit, where to start."""
    for warning in st.session_state.pop("link_warnings", []):
        st.warning(f"Link: {warning}")
    error, on_train = config_error(), classroom_ui.current_url_path() == ""
    if error and not on_train:  # the Train page says it beside its Train button
        shown = differences(st.session_state["config"], st.session_state["sidebar_values"])
        st.warning(f"The sidebar's settings cannot run ({error}) This page shows the last settings that could"
                   + (f" (the sidebar says {shown})." if shown else "."))
    if on_train and landing_shown():
        left, right = st.columns([4, 1], vertical_alignment="center")
        left.info("Press **Train** to run the classic PyTorch sine notebook and watch a small RNN learn a sine; "
                  "the sidebar changes anything, the lessons walk you through it.")
        with right:
            classroom_ui.link("teach", "Lessons", icon=":material/school:")  # drawn once the Teach page exists


def landing_shown() -> bool:
    """Whether the Train page opens with the landing line (a bare `/`, its settings as opened, no run yet):
    the live view then leaves out its own "press Train" box, which would say the same."""
    return st.session_state.get("landing") == st.session_state.get("config") and not _has_run()


def _has_run() -> bool:
    from rnnlab.ui.live import current_run  # the live view imports this module

    return current_run() is not None
