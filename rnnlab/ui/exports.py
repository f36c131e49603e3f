"""The download buttons for one run, and importing a model back from exported files."""

from __future__ import annotations

import streamlit as st

from rnnlab.config import RunConfig
from rnnlab.errors import RnnlabError
from rnnlab.export.names import export_filename, notebook_filename
from rnnlab.learn.history import lr_changes
from rnnlab.ui.session import workspace
from rnnlab.ui.stored import AnyRun, StoredRun


def _export():
    """The exporters, imported when a button is clicked: they import PyTorch (a second or two), which a
    cold server's first run must not wait for."""
    from rnnlab.export import script

    return script


def _notebook():
    from rnnlab.export import notebook

    return notebook


def download_buttons(run: AnyRun, key: str) -> None:
    """History (CSV), config (JSON), weights (state_dict) and a standalone PyTorch script, built on click."""
    no_weights = run.weights_missing if isinstance(run, StoredRun) else ""
    frame = _series(run)
    no_series = ("This run trained on an uploaded CSV that was not kept, so the script and notebook cannot "
                 "carry its series." if run.config.data.data == "upload" and frame is None else "")
    stem = run.name.replace(" ", "-")
    cols = st.columns(4)
    cols[0].download_button("Download history", lambda: _export().history_csv(run.history_frame()),
                            file_name=f"{stem}-history.csv", mime="text/csv", key=f"{key}_history",
                            on_click="ignore", width="stretch")
    cols[1].download_button("Download config", lambda: _export().config_json(_as_trained(run)),
                            file_name=f"{stem}-config.json", mime="application/json", key=f"{key}_config",
                            on_click="ignore", width="stretch")
    cols[2].download_button("Download weights", lambda: _export().weights_bytes(run.model_copy()),
                            file_name=f"{stem}-weights.pt", mime="application/octet-stream",
                            key=f"{key}_weights", on_click="ignore",
                            disabled=run.view().phase == "error" or bool(no_weights),
                            width="stretch",
                            help="The model's state_dict; load it with torch.load(..., weights_only=True).")
    cols[3].download_button("Export PyTorch script", lambda: _export().export_script(_as_trained(run), frame),
                            file_name=export_filename(run.config), mime="text/x-python",
                            key=f"{key}_script", on_click="ignore", width="stretch", disabled=bool(no_series),
                            help="One readable .py file with plain torch: data, model and training loop. "
                                 "Running it reproduces this run's loss curve.")
    cols[3].download_button("Export notebook", lambda: _notebook().export_notebook(_as_trained(run), frame),
                            file_name=notebook_filename(run.config), mime="application/x-ipynb+json",
                            key=f"{key}_notebook", on_click="ignore", width="stretch", disabled=bool(no_series),
                            help="The same code as a Jupyter notebook: a cell per part with its explanation, "
                                 "and the loss and prediction plots. Run All reproduces this run.")
    for sentence in (no_weights, no_series):
        if sentence:
            st.caption(sentence)


def _series(run: AnyRun):
    """The uploaded series the run trained on (a stored run keeps its own; today's upload may be another)."""
    if run.config.data.data != "upload":
        return None
    return run.upload if isinstance(run, StoredRun) else workspace().upload


def _as_trained(run: AnyRun) -> RunConfig:
    """The run's config with the learning-rate changes made while it trained, which the exports replay."""
    return run.config.replace(lr_schedule=lr_changes(run.history_frame(), run.config.train.lr))


def import_panel(sidebar_config: RunConfig) -> None:
    """Load a config.json and weights.pt exported earlier as this session's current (paused) run."""
    st.caption("Continue or inspect a model exported earlier: its config (JSON) and its weights (.pt). "
               "Weights are loaded as plain tensors only, never as arbitrary Python objects.")
    left, right = st.columns(2)
    config_file = left.file_uploader("Config (.json)", type=["json"], key="import_config")
    weights_file = right.file_uploader("Weights (.pt)", type=["pt", "pth", "bin"], key="import_weights")
    if config_file is None or weights_file is None:
        return
    try:
        config = RunConfig.from_json(config_file.getvalue())
        if config.lr_schedule:  # the weights are those of the end of that run: go on at its last rate
            config = config.replace(lr=config.lr_schedule[-1][1], lr_schedule=())
        from rnnlab.ui import current

        input_size = current.series(config).shape[1]
        weights = _export().load_weights(weights_file.getvalue(), config, input_size)
    except RnnlabError as exc:
        st.error(str(exc))
        return
    st.success(f"{weights_file.name} fits {config_file.name}: {len(weights)} tensors.")
    st.button("Load as the current run (paused)", type="primary", key="import_load",
              on_click=lambda: workspace().start(config, paused=True, weights=weights))
