"""The Train page's controls and live view: buttons act on the session's run, a live feed draws it.

The job layer (rnnlab.jobs, which imports PyTorch: seconds) is imported on first use, not with the
page: a first visit draws the page while boot.py's warm-up imports it in the background."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import streamlit as st

from rnnlab.config import RunConfig
from rnnlab.figures import charts
from rnnlab.jobs.context import FORK_SERVER_UP
from rnnlab.jobs.phases import ACTIVE
from rnnlab.ui import feed, run_status, settings
from rnnlab.ui.live_chart import chart_frame, live_chart, live_metrics

if TYPE_CHECKING:
    from rnnlab.jobs.runner import LiveRun, RunView


def workspace():
    """The session's workspace (imports the job layer: call it when a run may exist or must start)."""
    from rnnlab.ui.session import workspace as session_workspace

    return session_workspace()


def current_run() -> LiveRun | None:
    """The session's run; None without importing anything while the job layer is not loaded (no run yet)."""
    if "rnnlab.ui.session" not in sys.modules:
        return None
    return workspace().current

LIVE_POINTS = 300  # points per loss trace: about one per pixel of the half-width plot area at 1400 px; 600
# drew a fuzz twice as dense and cost Chromium 0.03-0.05 cores more in raster and path work (measured)
SPEEDS = (1, 2, 5, 10, 20, 50, 200, "max")
SHORT_RUN = 200  # steps; a run this short plays at SHORT_RUN_SPEED unless a speed is chosen
SHORT_RUN_SPEED = 50.0


def _speed(config: RunConfig | None = None) -> float | None:
    """The chosen pace; short runs (the 75-step notebook) would be over before the first frame at full speed."""
    choice = st.session_state.get("speed", "max")
    if choice == "max":
        return SHORT_RUN_SPEED if config is not None and config.train.steps <= SHORT_RUN else None
    return float(choice)


# --- button callbacks: they run before the script, so the page drawn next already shows their effect. The
# ones that start a run read the sidebar's widgets at the click (settings.config_now); settings that cannot
# run start nothing, and the page drawn next says why with Train off.
def _train() -> None:
    config = settings.config_now()
    if config is None:
        return
    ws = workspace()
    ws.start(config, speed=_speed(config))
    _publish(ws)  # the open feed follows the new run now, before the page reruns


def _pause() -> None:
    run = workspace().current
    if run is not None:
        run.pause()
        run.wait_until(lambda v: v.phase not in ACTIVE, timeout=1.0)


def _resume() -> None:
    ws = workspace()
    run = ws.current
    if getattr(run, "resumable", False):  # a stored run (paused, interrupted): it trains again, from its weights
        from rnnlab.store import StoreError

        try:
            ws.resume(run.run_id).set_speed(_speed(run.config))
        except StoreError as exc:
            ws.say(str(exc))
    elif run is not None:
        run.resume()


def _step() -> None:
    ws = workspace()
    run = ws.current
    if run is None or run.view().phase in ("finished", "stopped", "error"):  # a new run, from the sidebar's
        config = settings.config_now()
        if config is None:
            return
        run = ws.start(config, paused=True, speed=_speed(config))
    target = run.view().step + 1
    run.step_once()
    run.wait_until(lambda v: v.step >= target or v.phase in ("finished", "error"), timeout=3.0)


def _reset() -> None:
    config = settings.config_now()
    if config is not None:
        workspace().start(config, paused=True, speed=_speed(config))


def _set_speed() -> None:
    run = workspace().current
    if run is not None:
        run.set_speed(_speed(run.config))


def controls(config: RunConfig) -> LiveRun | None:
    """The five buttons, the speed select and the learning-rate follow-up; returns the session's run."""
    run = current_run()
    view = run.view() if run else None
    phase = view.phase if view else "idle"
    # One row that wraps when narrow (125% zoom, a projector): a fixed grid of columns cut labels to "Tr…".
    bar = st.container(horizontal=True, vertical_alignment="bottom", gap="small")
    # Settings that cannot run turn off what would start a run with them; the reason goes beside Train.
    error = settings.config_error()
    bar.button("Train", type="primary", on_click=_train, key="btn_train", disabled=bool(error),
               help="Start a new run with the settings in the sidebar.", width="content")
    bar.button("Pause", on_click=_pause, key="btn_pause", disabled=phase not in ACTIVE, width="content")
    bar.button("Resume", on_click=_resume, key="btn_resume",
               disabled=phase != "paused" and not getattr(run, "resumable", False), width="content")
    bar.button("Step", on_click=_step, key="btn_step",
               disabled=phase in ACTIVE or bool(error) and phase != "paused",
               help="One optimisation step, then pause.", width="content")
    bar.button("Reset", on_click=_reset, key="btn_reset", disabled=bool(error),
               help="Back to step 0: fresh weights, same settings.", width="content")
    bar.select_slider("Speed (steps/s)", SPEEDS, value="max", key="speed", on_change=_set_speed,
                      help="Slow training down so a class can watch each step.",
                      format_func=lambda s: "max" if s == "max" else str(s), width=240)
    bar.toggle("Log scale", value=True, key="log_y", help="Show the loss on a logarithmic axis.", width="content")
    if error:
        st.error(f"**Train** is off: these settings cannot run. {error}")
    # On a projector the room sees the run play slowly; the note would push the charts below 720 px.
    projected = getattr(st.session_state.get("classroom"), "present", False)
    if config.train.steps <= SHORT_RUN and st.session_state.get("speed", "max") == "max" and not projected:
        st.caption(f"Runs of {SHORT_RUN} steps or fewer play at {SHORT_RUN_SPEED:g} steps/s so you can watch "
                   "them; pick a speed to change that.")
    if run is not None and not error:
        _follow_settings(run, config, live=phase in ACTIVE + ("paused",), note=settings.change_note(run.config, config))
    return run


def _follow_settings(run: LiveRun, config: RunConfig, live: bool, note: str) -> None:
    """The learning rate follows the sidebar during a run; anything else waits for the next Train, and
    the page says so whether or not the run is still going (its charts stay on the page).

    The run's config stays as it started: a rate changed live is recorded in its history's lr column,
    at the step where it took effect, and the exports replay it from there."""
    if live and config.replace(lr=run.config.train.lr) == run.config:
        if config.train.lr != run.view().lr:  # resent until a step has used it: harmless, the job just sets it
            run.set_lr(config.train.lr)
    elif note:
        st.info(note + (" The learning rate alone changes live." if live else ""))


def live_view(run: LiveRun | None) -> None:
    """Metrics and charts of the session's run, fed frame by frame while it computes (rnnlab.ui.feed).

    The page itself runs when a run starts and when it stops, not on a clock: the feed (open as long as
    the page is) sends the charts and metrics what changed and tells the browser to rerun the page once
    when the run starts or stops computing. The status and verdict are a slow fragment. The same elements
    in the same places with or without a run, so the Train click updates the empty charts in place (a
    chart whose place moves is remounted)."""
    view = run.view() if run is not None else None
    active = view is not None and view.phase in ACTIVE
    address = _publish(workspace() if "rnnlab.ui.session" in sys.modules else None,
                       (id(run), view.phase) if view is not None else None)
    live_metrics(_metric_rows(view) if view is not None else [], key="live_metrics", feed=address,
                 stamp=_stamp(run, view))
    st.fragment(run_every=STATUS_SECONDS if active else None)(_status_slot)(run)
    left, right = st.columns(2)
    with left:
        if run is None:
            live_chart(_EMPTY_LOSS, key="loss_chart", version=EMPTY, feed=address)
        else:
            marks = run_status.lr_changes(run)
            log_y = st.session_state.get("log_y", True)
            live_chart(lambda: _loss_figure(run, view, log_y, marks), key="loss_chart",
                       version=_loss_version(run, view, log_y, marks), feed=address, grow=True, live=active)
    with right:
        if run is None:
            live_chart(_EMPTY_WINDOW, key="window_chart", version=EMPTY, feed=address)
        else:
            live_chart(lambda: _window_figure(run, view), key="window_chart", version=_window_version(run, view),
                       feed=address)


def _publish(ws, drawn: tuple[int, str] | None = None) -> str:
    """Serve this session's view on its feed (the workspace's current run, whichever it is when the stream
    looks; none before the job layer is loaded) and return the feed's address. drawn: see _source."""
    token = st.session_state.setdefault(_FEED_TOKEN, feed.new_token())
    feed.publish(token, _source((lambda: ws.current) if ws is not None else (lambda: None),
                                st.session_state.get("log_y", True), drawn))
    return feed.url(token)


_FEED_TOKEN = "_live_feed_token"
WINDOW_SECONDS = 1.0  # the window chart's pace in the feed (the loss chart takes every frame)
STATUS_SECONDS = 5.0  # the verdict's own pace while a run computes (it re-reads the history once a second)


# Before a run's first step its charts show the same empty axes as before any run: the same version, so
# a chart that shows them already is not redrawn. A Train click's full redraw of both (100-200 ms of the
# browser's main thread) landed just as the first steps came in and delayed them (measured with a trace).
EMPTY = "empty"


def _loss_version(run: LiveRun, view: RunView, log_y: bool, marks: tuple) -> tuple | str:
    if not view.step:
        return EMPTY
    return run.number, view.version, log_y, marks


def _loss_figure(run: LiveRun, view: RunView, log_y: bool, marks: tuple) -> dict:
    # Before the first step: the empty axes, not a log axis over nothing.
    if not view.step:
        return _EMPTY_LOSS
    return charts.loss_figure(*run.loss_curves(LIVE_POINTS), log_y=log_y, lr_changes=marks)


def _window_version(run: LiveRun, view: RunView) -> tuple | str:
    # The window's own contents, not id(): a new snapshot may reuse a collected one's id (a stale chart)
    snap = view.snapshot
    if snap is None:
        return EMPTY
    return run.number, hash(snap.input_time.tobytes() + snap.predictions.tobytes())


def _window_figure(run: LiveRun, view: RunView) -> dict:
    # a dated series (an upload) shows its dates, not row numbers
    if view.snapshot is None:
        return _EMPTY_WINDOW
    return charts.window_figure(view.snapshot, index=run.frame.index)


def _stage(phase: str) -> str:
    """What the page's buttons and status follow: a run starting, computing, or still (paused, ended)."""
    return phase if phase == "starting" else "computing" if phase in ACTIVE else "still"


def _source(current: Callable[[], LiveRun | None], log_y: bool, drawn: tuple[int, str] | None = None) -> feed.Source:
    """The frames of the session's current run for the feed: metrics every time the run moved, a chart when
    its version did, and `turned` once when the run leaves the stage (_stage) the page last showed for it,
    starting or computing: the browser then reruns the page once. The page itself never reruns from a fragment: a timed
    fragment run that called st.rerun() as a class's runs started left Streamlit's browser side (1.67) with
    the status drawn over the charts, which vanished (seen in 8 tabs on one server, most runs).
    drawn: (id of the run, its phase) as the page publishing this source drew them.
    Runs on the feed's clock, not in a script run: no st.* here (the lr marks come from the run)."""
    marks = {"at": 0.0, "found": (), "run": None}
    shown = {"run": drawn[0], "stage": _stage(drawn[1])} if drawn is not None else {}

    def frame(sent: dict) -> tuple[dict | None, bool]:
        run = current()
        if run is None:
            return None, False
        view = run.view()
        active = view.phase in ACTIVE
        if shown:  # this source's first look: the stage the page drew, not what an older source saw
            sent.update(run=shown.pop("run"), stage=shown.pop("stage"))
        before, now = (sent.get("stage") if sent.get("run") == id(run) else None), _stage(view.phase)
        # Started (its first steps) or stopped. A resume needs no rerun: its own click reran the page.
        turned = before in ("starting", "computing") and now not in (before, "starting")
        sent.update(run=id(run), stage=now, starting=active and not view.step)
        if sent.get("view") == (id(run), run.number, view.version) and not turned:
            return None, False
        sent["view"] = (id(run), run.number, view.version)
        stale = marks["run"] != id(run) or time.monotonic() - marks["at"] > run_status.REFRESH_SECONDS
        if not active or stale:  # a column scan: once a second
            marks.update(at=time.monotonic(), found=run_status.lr_changes(run), run=id(run))
        found = {"loss_chart": chart_frame(lambda: _loss_figure(run, view, log_y, marks["found"]), "loss_chart",
                                           _loss_version(run, view, log_y, marks["found"]), sent)}
        # The window moves along the series with every snapshot, so each is a full redraw of its axes and
        # markers (about 90 ms of a core in Chromium without a GPU): once a second, as fast as a reader
        # takes in a new window.
        if not active or time.monotonic() - sent.get("window at", 0.0) >= WINDOW_SECONDS:
            found["window_chart"] = chart_frame(lambda: _window_figure(run, view), "window_chart",
                                                _window_version(run, view), sent)
            if found["window_chart"]:
                sent["window at"] = time.monotonic()
        return {"active": active, "metrics": _metric_rows(view), "stamp": _stamp(run, view),
                "charts": {k: v for k, v in found.items() if v}}, turned

    return frame


def _status_slot(run: LiveRun | None) -> None:
    """Where the run's status and verdict go; a slow fragment while the run computes (the feed's `turned`
    reruns the page when the run starts or stops computing: see _source)."""
    if run is None:
        from rnnlab.ui.settings import landing_shown

        # the landing line above says it already; an empty slot keeps the charts' place (no remount)
        if landing_shown():
            st.empty()
        else:
            st.info("Pick settings in the sidebar (or a preset) and press **Train** to watch the network learn.")
        return
    with st.container():
        _status(run, run.view())


_EMPTY_LOSS = charts.empty_figure("Loss", "step", "loss")
_EMPTY_WINDOW = charts.empty_figure("Prediction vs target, current window", "time step", "value")


def _stamp(run: LiveRun | None, view: RunView | None) -> tuple[str, int] | None:
    """Which run and step the metrics show (live_chart.live_metrics keeps a later step of the same run)."""
    return None if run is None or view is None else (str(id(run)), view.step)


def _metric_rows(view: RunView) -> list[dict[str, str]]:
    """Step, losses and speed as the metrics row shows them (live_chart.live_metrics)."""
    left = run_status.time_left(view)
    return [
        {"label": "Step", "value": f"{view.step:,}", "help": f"of {view.steps:,} in this run"},
        {"label": "Loss", "value": _number(view.loss)},
        {"label": "Validation loss", "value": _number(view.val_loss)},
        {"label": "Steps/s", "value": run_status.rate_text(view), "note": "" if left == "–" else f"{left} left",
         "help": "Steps over about the last second; a dash when no step is being taken (paused, finished). "
                 "Below it, for longer runs, the time left at that rate."},
    ]


def _number(value: float | None) -> str:
    return "–" if value is None else f"{value:.3g}"  # three digits fit the metric's width at 125% zoom


def _status(run: LiveRun, view: RunView) -> None:
    if view.phase == "starting":
        st.caption("Starting the training process..." if FORK_SERVER_UP.is_set() else
                   "Starting the training process... This server has just started: its jobs are still loading "
                   "PyTorch (a few seconds, once).")
        return
    if view.phase == "queued":
        st.warning(f"Waiting for a free CPU: the server is busy with other runs ({view.queue_position} waiting).")
    elif view.phase == "paused":
        st.caption(f"Paused at step {view.step:,}. **Resume** continues, **Step** takes one step.")
    elif view.phase == "error":
        st.error(view.message)
        return
    elif view.phase == "stopped":
        st.caption(view.message)
    if view.phase in ACTIVE and view.val_loss is None:
        # Nothing to judge before the first validation; and judging prepares the series' reference answers
        # (a tenth of a second of the server's interpreter) just when the run's first frames should go out.
        return
    # What the curves say, with the evidence: green only for a finished run that learned.
    run_status.show_verdict(run, view)
