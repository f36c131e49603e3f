"""Runs: every run of this browser's workspace, kept across reloads and restarts; compared, opened,
resumed, renamed, pinned, deleted, downloaded; runs and models imported back."""

import streamlit as st

from rnnlab.analysis import compare as runs
from rnnlab.ui import exports, page_turn, run_list, settings
from rnnlab.ui.boot import require_entry
from rnnlab.ui.live_chart import live_chart
from rnnlab.ui.session import workspace

require_entry()

st.title("Runs")
settings.show_link_warnings()
config = st.session_state["config"]
ws = workspace()

st.button("Compare RNN, LSTM and GRU", type="primary", key="runs_compare",
          on_click=lambda: ws.start_side_by_side(runs.cell_variants(config), "compare"),
          help="Trains three runs at once with the sidebar's settings, differing only in the cell.")
st.toggle("Log scale", value=True, key="runs_log")


def draw() -> None:
    run_list.messages(ws)
    found = run_list.rows(ws)
    if not found:
        st.info("No runs yet: press **Train** on the Train page, or compare the three cells above.")
        return
    event = st.dataframe(run_list.table(found), hide_index=True, width="stretch", key="runs_table",
                         on_select="rerun", selection_mode="multi-row", column_config=run_list.COLUMNS)
    chosen = sorted(i for i in event.selection.rows if i < len(found))
    chosen = chosen or list(range(max(0, len(found) - 3), len(found)))
    st.caption("Select rows to compare them; without a selection the latest three are shown. "
               "The buttons below act on the last one selected.")
    log_y = st.session_state["runs_log"]
    shown = [found[i] for i in chosen]
    live_chart(lambda: run_list.overlay_figure(shown, log_y), key="runs_chart",
               version=(tuple((r.id, r.info.updated, r.live.view().version if r.live else 0) for r in shown), log_y))
    if len(shown) == 2:
        first, second = shown
        diff = runs.config_diff(first.config, second.config)
        st.subheader(f"What differs: {first.name} vs {second.name}")
        if diff.empty:
            st.caption("Same settings.")
        else:
            st.dataframe(diff.astype(str), hide_index=True, width="stretch")
    target = shown[-1]
    run_list.actions(ws, target)
    with st.expander(f"Export {target.name} as files"):
        exports.download_buttons(target.live or ws.run(target.id), key="runs_export")


def computing() -> bool:
    return any(run.view().phase in run_list.ACTIVE for run in ws.runs())


active = computing()
st.fragment(run_every=0.5 if active else None)(draw)()

with st.expander("Import a run"):
    run_list.import_panel(ws)
with st.expander("Import a model"):
    exports.import_panel(config)
# Last on the page: its empty place adds no gap between the sections above.
page_turn.rerun_when_done("runs_page_turn", computing)  # everything finished: one full redraw, and the clock stops
