"""Runs: every run of this session, compared, diffed, exported; and models imported back."""

import streamlit as st

from rnnlab.analysis import compare as runs
from rnnlab.jobs.runner import ACTIVE
from rnnlab.ui import exports, settings
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


def status(run) -> str:
    view = run.view()
    return view.status if view.phase == "finished" else view.phase


def draw(was_active: bool) -> None:
    all_runs = ws.runs()
    if not all_runs:
        st.info("No runs yet: press **Train** on the Train page, or compare the three cells above.")
        return
    records = [runs.RunRecord(r.name, r.config, r.history, status(r)) for r in all_runs]
    event = st.dataframe(runs.summary(records), hide_index=True, width="stretch", key="runs_table",
                         on_select="rerun", selection_mode="multi-row",
                         column_config={"lr": st.column_config.TextColumn("lr", help="Learning rate and its changes"),
                                        "loss (last 50 steps)": st.column_config.NumberColumn(
                                            format="%.4g", help="Mean training loss of the last 50 steps"),
                                        "best validation": st.column_config.NumberColumn(format="%.4g"),
                                        "seconds": st.column_config.NumberColumn(format="%.1f")})
    chosen = sorted(i for i in event.selection.rows if i < len(all_runs))
    chosen = chosen or list(range(max(0, len(all_runs) - 3), len(all_runs)))
    st.caption("Select rows to compare them; without a selection the latest three are shown.")
    log_y = st.session_state["runs_log"]
    live_chart(lambda: runs.overlay_figure([records[i] for i in chosen], log_y=log_y), key="runs_chart",
               version=(tuple((all_runs[i].number, all_runs[i].view().version) for i in chosen), log_y))
    if len(chosen) == 2:
        first, second = (all_runs[i] for i in chosen)
        diff = runs.config_diff(first.config, second.config)
        st.subheader(f"What differs: {first.name} vs {second.name}")
        if diff.empty:
            st.caption("Same settings.")
        else:
            st.dataframe(diff.astype(str), hide_index=True, width="stretch")
    target = all_runs[chosen[-1]]
    st.subheader(f"Export {target.name}")
    exports.download_buttons(target, key="runs_export")
    if was_active and not any(r.view().phase in ACTIVE for r in all_runs):
        st.rerun()  # everything finished: one full redraw, and the clock stops


active = any(r.view().phase in ACTIVE for r in ws.runs())
st.fragment(run_every=0.5 if active else None)(draw)(active)

with st.expander("Import a model"):
    exports.import_panel(config)
