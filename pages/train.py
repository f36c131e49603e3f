"""Train: press Train and watch the loss and the prediction move while the network learns."""

import streamlit as st

from rnnlab.ui import lesson, live, settings
from rnnlab.ui.boot import require_entry

require_entry()

config = st.session_state["config"]
st.header("Train a recurrent network")
settings.show_link_warnings()
lesson.pane()  # a lesson=NAME link's steps (rnnlab/lessons)
if config.preset:
    st.caption(settings.preset_caption(config))
run = live.controls(config)
live.live_view(run)
if run is not None:
    from rnnlab.ui import exports  # PyTorch and the exporters: only once there is a run to export

    with st.expander("Export this run"):
        exports.download_buttons(run, key="train_export")
