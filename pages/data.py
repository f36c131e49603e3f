"""Data: the series the settings describe, its train/validation/test split, and CSV upload."""

import streamlit as st

from rnnlab.errors import RnnlabError
from rnnlab.figures import charts
from rnnlab.series import data
from rnnlab.series.datasets import DATASETS
from rnnlab.series.generators import GENERATORS
from rnnlab.ui import current, settings, upload
from rnnlab.ui.boot import require_entry

require_entry()

config = st.session_state["config"]
st.title("Data")
settings.show_link_warnings()
upload.show_notice()

name = config.data.data
about = GENERATORS.get(name) or DATASETS.get(name)
if about is not None:
    st.markdown(f"**{about.title}.** " + about.description.replace("*", "\\*"))
    if name in DATASETS:
        st.caption(f"Source: {DATASETS[name].source}")

try:
    frame = current.series(config)
    prepared = data.prepare(config, frame)
except RnnlabError as exc:
    st.error(str(exc))
else:
    st.plotly_chart(charts.series_figure(frame, prepared.bounds, title=f"{prepared.target_name} and its split"),
                    key="series_chart", config={"displaylogo": False})
    counts = {part: end - start for part, (start, end) in prepared.bounds.items()}
    cols = st.columns(4)
    cols[0].metric("Rows", f"{len(frame):,}")
    cols[1].metric("Train", f"{counts['train']:,}")
    cols[2].metric("Validation", f"{counts['val']:,}")
    cols[3].metric("Test", f"{counts['test']:,}")
    st.caption(f"Target: **{prepared.target_name}**; input features ({prepared.input_size}): "
               f"{', '.join(prepared.feature_names)}. Scaling ({config.data.scale}) is fitted on the "
               "training part only, so nothing about the future leaks into training.")
    for note in frame.attrs.get("notes", []):
        st.info(note)
    st.dataframe(charts.readable_index(frame.head(20)), width="stretch")

upload.panel()
