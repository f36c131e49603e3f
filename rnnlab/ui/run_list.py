"""The Runs page's parts: every run of the browser's workspace from the run store (live ones read live),
the overlaid losses of the chosen runs, and what can be done to one run (open, resume, rename, notes,
pin, delete with undo, download) or brought in (a run's zip, or a `train --out` folder zipped).

Every store fault becomes a sentence on the page; the store is left as it was."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pandas as pd
import streamlit as st

from rnnlab.analysis import compare
from rnnlab.figures import charts
from rnnlab.jobs.phases import ACTIVE
from rnnlab.jobs.runner import LiveRun
from rnnlab.learn.history import History
from rnnlab.store import RunInfo, StoreError
from rnnlab.ui.runstore import run_store
from rnnlab.ui.session import Workspace

PAGES = Path(__file__).resolve().parent.parent.parent / "pages"
ERROR_KEY = "runs_error"  # a sentence from the last action, shown once
DONE_KEY = "runs_done"  # what the last action did, shown once
DELETED_KEY = "runs_deleted"  # (run id, name) of the last run deleted, for Undo


@st.cache_resource(max_entries=200, show_spinner=False)
def _stored_history(workspace: str, run_id: str, updated: float) -> History:
    """A run's history as the store holds it at `updated` (a new write is a new entry)."""
    return run_store().load_history(workspace, run_id)


class Row:
    """One run of the list: its index entry, and its live run when this server trains it."""

    def __init__(self, workspace: str, info: RunInfo, live: LiveRun | None) -> None:
        self.workspace, self.info, self.live = workspace, info, live
        self.id, self.name, self.config = info.id, info.name, info.config

    @property
    def active(self) -> bool:
        return self.live is not None and self.live.view().phase in ACTIVE

    @property
    def status(self) -> str:
        if self.live is not None and self.live.alive:
            view = self.live.view()
            return view.status if view.phase == "finished" else view.phase
        return self.info.status

    @property
    def history(self) -> History:
        if self.live is not None:
            return self.live.history
        try:
            return _stored_history(self.workspace, self.id, self.info.updated)
        except StoreError:  # a missing or damaged folder: listed without curves (opening it says why)
            return History()


def rows(ws: Workspace) -> list[Row]:
    live = {run.run_id: run for run in ws.runs() if run.run_id is not None}
    return [Row(ws.id, info, live.get(info.id)) for info in ws.stored_runs()]


def table(found: list[Row]) -> pd.DataFrame:
    """The comparison summary (analysis.compare) with what the store adds: pin, size, when, notes."""
    frame = compare.summary([compare.RunRecord(r.name, r.config, r.history, r.status) for r in found])
    frame.insert(2, "pinned", [r.info.pinned for r in found])
    frame["MB"] = [r.info.bytes / 1e6 for r in found]
    frame["started"] = [datetime.fromtimestamp(r.info.created).strftime("%d %b %H:%M") for r in found]
    frame["notes"] = [r.info.notes.splitlines()[0][:60] if r.info.notes else "" for r in found]
    return frame


COLUMNS = {
    "pinned": st.column_config.CheckboxColumn("pinned", help="Pinned runs are never removed to make room",
                                              width="small"),
    "lr": st.column_config.TextColumn("lr", help="Learning rate and its changes"),
    # text (compare.loss_text): a dash when not measured yet, "diverged", never "None" or "Infinity"
    "loss (last 50 steps)": st.column_config.TextColumn(help="Mean training loss of the last 50 steps"),
    "best validation": st.column_config.TextColumn(help="Lowest validation loss so far"),
    "seconds": st.column_config.NumberColumn(format="%.1f"),
    "MB": st.column_config.NumberColumn(format="%.2f", help="Space on disk"),
}


def overlay_figure(found: list[Row], log_y: bool) -> charts.Figure:
    """Training losses (solid) and validation losses (dashed, same colour) of the chosen runs."""
    return compare.overlay_figure([compare.RunRecord(r.name, r.config, r.history, r.status) for r in found],
                                  log_y=log_y)


# --- actions: button callbacks, each fault a sentence ---------------------------------------------------
def _act(action: Callable[[], object], done: str = "") -> None:
    try:
        action()
    except StoreError as exc:
        st.session_state[ERROR_KEY] = str(exc)
        return
    if done:
        st.session_state[DONE_KEY] = done


def _delete(ws: Workspace, row: Row) -> None:
    def delete() -> None:
        if row.live is not None and row.live.alive:
            row.live.stop()
        ws.store.delete(ws.id, row.id)
        if getattr(ws.current, "run_id", None) == row.id:
            ws.current = None
        st.session_state[DELETED_KEY] = (row.id, row.name)

    _act(delete)


def _undo(ws: Workspace) -> None:
    run_id, name = st.session_state.pop(DELETED_KEY)
    _act(lambda: ws.store.undo_delete(ws.id, run_id), f"Restored {name!r}.")


def _save_details(ws: Workspace, row: Row) -> None:
    name, notes = st.session_state[f"runs_name_{row.id}"], st.session_state[f"runs_notes_{row.id}"]

    def save() -> None:
        if name != row.name:
            ws.store.rename(ws.id, row.id, name)
        if notes != row.info.notes:
            ws.store.set_notes(ws.id, row.id, notes)

    _act(save, "Saved.")


def _import(ws: Workspace) -> None:
    file = st.session_state.get("runs_import_file")
    if file is None:
        return
    created = None

    def bring_in() -> None:
        nonlocal created
        created = ws.store.import_zip(ws.id, file.getvalue(), name=Path(file.name).stem)

    _act(bring_in)
    if created is not None:
        st.session_state[DONE_KEY] = f"Imported {file.name} as {ws.store.get(ws.id, created.run_id).name!r}."
        for sentence in created.left_out:
            ws.say(sentence)
        if created.evicted:
            ws.say(f"To make room, the oldest unpinned runs were removed: "
                   f"{', '.join(repr(r.name) for r in created.evicted)}.")


def messages(ws: Workspace) -> None:
    """What the last action did or why it failed, the workspace's notices, and Undo after a delete."""
    if ws.problem:
        st.warning(ws.problem)
    for notice in ws.notices:
        st.info(notice)
    for run in ws.runs():
        if run.recorder is not None and run.recorder.problem:
            st.warning(f"{run.name}: {run.recorder.problem}")
    ws.notices = []
    if ERROR_KEY in st.session_state:
        st.error(st.session_state.pop(ERROR_KEY))
    if DONE_KEY in st.session_state:
        st.success(st.session_state.pop(DONE_KEY))
    if DELETED_KEY in st.session_state:
        left, right = st.columns([4, 1])
        left.info(f"Deleted {st.session_state[DELETED_KEY][1]!r}. You can bring it back for ten minutes.")
        right.button("Undo", key="runs_undo", on_click=_undo, args=(ws,), width="stretch")


def actions(ws: Workspace, row: Row) -> None:
    """What can be done to one run."""
    st.subheader(row.name)
    if row.info.message:
        st.caption(row.info.message)
    cols = st.columns(5)
    cols[0].button("Open", key="runs_open", type="primary", width="stretch",
                   help="Make it the current run: Train, Inside and Forecast show it.",
                   on_click=_act, args=(lambda: ws.open(row.id), f"Opened {row.name!r}: see it on Train, Inside "
                                        "and Forecast."))
    held = row.live is not None and row.live.alive  # this server still holds its job: it goes on where it is
    resumable = row.status == "paused" if held else row.info.resumable
    where = "where it paused" if held else "its last saved weights (step " + \
        f"{row.info.weights_step if row.info.weights_step is not None else '-'})"
    cols[1].button("Resume", key="runs_resume", width="stretch", disabled=not resumable,
                   help=f"Go on training from {where}, as the current run.",
                   on_click=_act, args=(lambda: ws.go_on(row.id), f"Resumed {row.name!r}: it trains on the "
                                        "Train page."))
    pinned = row.info.pinned
    cols[2].button("Unpin" if pinned else "Pin", key="runs_pin", width="stretch",
                   help="A pinned run is never removed to make room for new ones.",
                   on_click=_act, args=(lambda: ws.store.pin(ws.id, row.id, not pinned),))
    cols[3].button("Delete", key="runs_delete", width="stretch", on_click=_delete, args=(ws, row))
    cols[4].download_button("Download run", lambda: ws.store.export_zip(ws.id, row.id),
                            file_name=f"{row.name.replace(' ', '-')}.zip", mime="application/zip",
                            key="runs_download", on_click="ignore", width="stretch",
                            disabled=not ws.store.folder(row.id).path.is_dir(),
                            help="A zip of its folder (config, history, weights); Import run brings it back.")
    links = st.columns(3)
    for col, (page, title) in zip(links, (("train", "Train"), ("inside", "Inside"), ("forecast", "Forecast")),
                                  strict=True):
        col.page_link(PAGES / f"{page}.py", label=f"{title} page", icon=":material/arrow_forward:")
    with st.form(f"runs_details_{row.id}", border=False):
        st.text_input("Name", row.name, key=f"runs_name_{row.id}", max_chars=200)
        st.text_area("Notes", row.info.notes, key=f"runs_notes_{row.id}", height=80,
                     placeholder="What you tried, what you saw...")
        st.form_submit_button("Save name and notes", key="runs_save", on_click=_save_details, args=(ws, row))


def import_panel(ws: Workspace) -> None:
    st.caption("A zip from **Download run**, or a zipped folder written by `python -m rnnlab train --out DIR`.")
    st.file_uploader("Run (.zip)", type=["zip"], key="runs_import_file")
    st.button("Import run", key="runs_import", on_click=_import, args=(ws,),
              disabled=st.session_state.get("runs_import_file") is None)
