"""The Sweep page's glue: what to sweep (widgets derived from the settings table), Start/Stop, and a fragment
that draws the study live. The sweep belongs to the browser session, as its runs do."""

from __future__ import annotations

import hashlib
import logging
import threading
import weakref
from dataclasses import dataclass, field
from pathlib import Path

import streamlit as st

from rnnlab.config import FIELD_BY_NAME, RunConfig
from rnnlab.errors import ConfigError
from rnnlab.figures import sweep as figures
from rnnlab.sweep import MAX_TRIALS, OBJECTIVES, PRUNERS, SWEEPABLE, Sweep, SweepSpec, parse_param
from rnnlab.sweep.study import curves, importances
from rnnlab.ui import page_turn, settings
from rnnlab.ui.live_chart import live_chart

REDRAW_SECONDS = 1.0  # a trial lasts seconds; the table and charts need not move faster
IMPORTANCE_AFTER = 5  # complete trials before importance means anything
LABEL = OBJECTIVES["val_loss"]
TRAIN_PAGE = Path(__file__).resolve().parents[2] / "pages" / "train.py"


@dataclass(eq=False)
class SweepSession:
    """One session's sweep (at most one at a time), in memory: it lives as long as the session."""

    sweep: Sweep | None = None
    count: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self, spec: SweepSpec, workers: int) -> Sweep:
        with self._lock:
            self._stop()
            self.count += 1
            self.sweep = Sweep(spec, None, workers=workers).start()
            return self.sweep

    def stop(self) -> None:
        with self._lock:
            self._stop()

    def _stop(self) -> None:
        if self.sweep is not None and self.sweep.alive:
            self.sweep.stop()

    @property
    def active(self) -> bool:
        return self.sweep is not None and self.sweep.alive


# Every session's sweep, for tests; weak, so a released session's goes away.
SESSIONS: weakref.WeakSet[SweepSession] = weakref.WeakSet()


@st.cache_resource(scope="session", on_release=lambda session: session.stop(), show_spinner=False)
def sweep_session() -> SweepSession:
    created = SweepSession()
    SESSIONS.add(created)
    return created


# --- choosing what to sweep ----------------------------------------------------------------------
def _draw_param(name: str, config: RunConfig) -> None:
    """The widgets of one swept setting: its choices, or a range around the sidebar's value."""
    f = FIELD_BY_NAME[name]
    key = f"sweep_{name}"
    if f.choices or f.kind is bool:
        options = list(f.choices) if f.choices else [True, False]
        # Up to four: every cell type (rnn, rnn_relu, lstm, gru), not the first three only.
        st.multiselect(f.title, options, default=options[:4], key=key, help=f.help)
        return
    current = config.get(name)
    # Around the sidebar's value: a decade either side for a number, half to double for a count.
    spread = 10 if f.kind is float else 2
    low, high = max(f.low, current / spread), min(f.high, current * spread)
    if not low < high:
        low, high = f.low, f.high
    cols = st.columns([2, 2, 1])
    cols[0].number_input(f"{f.title}: from", f.kind(f.low), f.kind(f.high), f.kind(low), key=key + "_lo",
                         format="%g" if f.kind is float else "%d")
    cols[1].number_input("to", f.kind(f.low), f.kind(f.high), f.kind(high), key=key + "_hi",
                         format="%g" if f.kind is float else "%d")
    cols[2].checkbox("log", value=name == "lr", key=key + "_log", help="Sample evenly in the exponent.")


def _param_text(name: str) -> str:
    """The --param text that setting's widgets hold now (the command line's grammar, and its checks)."""
    f, key, state = FIELD_BY_NAME[name], f"sweep_{name}", st.session_state
    if f.choices or f.kind is bool:
        return f"{name}={','.join(str(v).lower() for v in state[key])}"
    return f"{name}={state[key + '_lo']!r}:{state[key + '_hi']!r}" + (":log" if state[key + "_log"] else "")


def _spec_now(config: RunConfig) -> SweepSpec:
    """The sweep the page's widgets describe at this moment (ConfigError says what cannot run). Read from the
    widgets' state, not bound to the button: a click that interrupts the run a change started gets what the
    page shows, not the run before."""
    names = st.session_state["sweep_names"]
    if not names:
        raise ConfigError("Choose at least one setting to sweep.")
    return SweepSpec(config, tuple(parse_param(_param_text(name)) for name in names),
                     trials=int(st.session_state["sweep_trials"]), pruner=st.session_state["sweep_pruner"],
                     study=f"sweep {sweep_session().count + 1}")


def _start() -> None:
    config = settings.config_now()
    try:
        spec = _spec_now(config) if config is not None else None
    except (ConfigError, KeyError):  # KeyError: a setting added as the click came, its range not drawn yet
        spec = None
    if spec is None:  # the page drawn next says why, or shows the new setting's range
        st.session_state["sweep_notice"] = "The sweep did not start: check the settings below, then press " \
                                           "**Start sweep** again."
        return
    drawn = st.session_state.get("config")
    if drawn is not None and drawn != config:  # a setting changed with the click; the log says which (it named
        # the sidebar's defaults when the browser lost the link's values, see settings._draw_widget)
        logging.getLogger("rnnlab.jobs").info("sweep started with settings other than the page drew: %s",
                                              settings.differences(drawn, config.to_flat()))
    sweep_session().start(spec, int(st.session_state["sweep_workers"]))


def _open_best(config: RunConfig) -> None:
    settings.apply_config(config)  # runs before the sidebar is drawn: its widgets take the best trial's values
    st.session_state["config_notice"] = "Loaded the best trial of the sweep."
    st.session_state["sweep_open_best"] = True


def controls(config: RunConfig) -> None:
    """What to sweep, how many trials, the pruner; Start / Stop. Bad choices get a sentence."""
    session = sweep_session()
    names = st.multiselect("Settings to sweep", SWEEPABLE, default=["lr", "hidden", "cell"], key="sweep_names",
                           format_func=lambda n: FIELD_BY_NAME[n].title,
                           help="The sidebar's values are the fixed ones; these vary from trial to trial.")
    for name in names:
        _draw_param(name, config)
    cols = st.columns(3)
    cols[0].number_input("Trials", 1, MAX_TRIALS, 20, key="sweep_trials")
    cols[1].selectbox("Pruner", PRUNERS, key="sweep_pruner",
                      help="median: stop a trial worse than the median so far; asha: successive halving.")
    cols[2].number_input("At once", 1, 2, 2, key="sweep_workers", help="Trials trained at the same time.")
    try:
        spec = _spec_now(config)
    except ConfigError as exc:
        spec = None
        st.warning(str(exc))
    notice = st.session_state.pop("sweep_notice", "")
    if notice and spec is not None:
        st.info(notice)
    left, right = st.columns(2)
    left.button("Start sweep", type="primary", key="sweep_start", disabled=spec is None or session.active,
                on_click=_start, width="stretch")
    right.button("Stop sweep", key="sweep_stop", disabled=not session.active, on_click=session.stop,
                 width="stretch")


# --- the live study -----------------------------------------------------------------------------
def live_view() -> None:
    session = sweep_session()
    if session.sweep is None:
        st.info("Choose settings and ranges above and press **Start sweep**: each trial is a training run.")
        return
    st.fragment(run_every=REDRAW_SECONDS if session.active else None)(_draw)(session.sweep)
    # the sweep ended: the whole page once (its buttons), and the clock stops
    page_turn.rerun_when_done("sweep_page_turn", lambda: session.active)


def _draw(sweep: Sweep) -> None:
    if st.session_state.pop("sweep_open_best", False):
        st.switch_page(TRAIN_PAGE)  # the best trial's settings are in the sidebar already (_open_best)
    trials = sweep.trials()
    table = sweep.table()
    live = sweep.live()
    params = sweep.spec.params
    done = int(table["state"].isin(("complete", "pruned", "failed")).sum())
    queued = [n for n, view in live.items() if view.phase == "queued"]
    status = f"{done} of {sweep.spec.trials} trials done, {len(live)} training"
    if queued:
        status += f"; waiting for a free core (place {max(live[n].queue_position for n in queued)} in the queue)"
    st.caption(status + ("." if sweep.alive else "; the sweep has ended."))
    for error in sweep.errors:
        st.error(error)
    best = sweep.best_config()
    cols = st.columns(2)
    if best is not None:
        cols[0].button("Open the best in Train", key="sweep_open", on_click=_open_best, args=(best[1],),
                       help=f"Trial {best[0].number}: {LABEL} {best[0].value:.4g}.")
    cols[1].download_button("Download trials", table.to_csv(index=False), "trials.csv", "text/csv",
                            key="sweep_download")
    st.dataframe(table, hide_index=True, width="stretch", key="sweep_table",
                 column_config={"value": st.column_config.NumberColumn(LABEL, format="%.4g"),
                                "seconds": st.column_config.NumberColumn(format="%.1f"),
                                # a sampled rate reads 0.01815, not 0.018152840172717476
                                **{p.name: st.column_config.NumberColumn(format="%.4g") for p in params
                                   if not p.choices and not p.integer}})
    # Charts that update in place on the clock (a st.plotly_chart is rebuilt each time: a blank flash), and
    # only when the trials moved.
    moved = hashlib.sha1(table.to_csv(index=False).encode()).hexdigest()
    reported = curves(trials)
    left, right = st.columns(2)
    with left:
        live_chart(lambda: figures.best_so_far_figure(table, LABEL), key="sweep_best", version=moved)
    with right:
        live_chart(lambda: figures.curves_figure(reported, LABEL, best[0].number if best else None),
                   key="sweep_curves", version=(moved, tuple((c.number, len(c.steps)) for c in reported)))
    live_chart(lambda: figures.parallel_figure(table, params, LABEL), key="sweep_parallel", version=moved)
    live_chart(lambda: figures.scatter_figure(table, params, LABEL), key="sweep_scatter", version=moved)
    if (table["state"] == "complete").sum() >= IMPORTANCE_AFTER and len(params) > 1:
        found = importances(sweep.study, IMPORTANCE_AFTER)
        if found:
            live_chart(figures.importance_figure(found), key="sweep_importance", version=tuple(found.items()))
