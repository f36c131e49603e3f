"""The server's run store, opened once, without PyTorch (so the first page of a visit does not wait for it).

Opening it also marks the runs a crashed or killed server left behind as interrupted (resumable from their
last saved weights): the first opening in a server process is the server's start as far as runs go."""

from __future__ import annotations

import os
import sys

import streamlit as st

from rnnlab.store import RunStore, StoreError


@st.cache_resource(show_spinner=False)
def run_store() -> RunStore:
    """The run store in RNNLAB_HOME; raises StoreError with a sentence when it cannot be opened (not cached
    then: the next page view tries again)."""
    store = RunStore()
    store.mark_interrupted_on_startup()
    return store


def grace_seconds() -> float:
    """How long a workspace's runs go on training with no tab open (RNNLAB_GRACE_SECONDS, default 180)."""
    try:
        return max(0.0, float(os.environ.get("RNNLAB_GRACE_SECONDS", "180")))
    except ValueError:
        return 180.0


def load_workspace_if_kept(workspace: str) -> None:
    """Load the workspaces (and so the job layer, PyTorch) now when this browser has runs kept: a returning
    visitor's Train page then shows the last run at once, even on a server that has just started (the
    pages look for a run only once the job layer is loaded). A new visitor pays nothing here."""
    if "rnnlab.ui.session" in sys.modules:
        return
    try:
        kept = bool(run_store().list_runs(workspace))
    except StoreError:
        return  # the Runs page says why
    if kept:
        import rnnlab.ui.session  # noqa: F401
