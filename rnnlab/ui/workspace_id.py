"""This browser's workspace id: random, kept in the browser's localStorage, sent to Python by a tiny component.

The id is the key to a browser's runs in the run store (rnnlab.store): whoever holds it holds them. So it
lives only in localStorage and in this session's state, never in the URL ("Share these settings" links
carry settings only), and a reload or a restarted server finds the same id again. Another browser, or a
private window, has its own storage and so its own workspace."""

from __future__ import annotations

import streamlit as st

from rnnlab.store import is_workspace_id, new_workspace_id

KEY = "rnnlab_workspace_component"  # the component instance's key (its state lives under it)
ID_KEY = "rnnlab_workspace_id"  # the id once known: a plain session value, kept on pages that skip the component
STORAGE_KEY = "rnnlab.workspace"  # the localStorage entry

# Read the stored id, or make one (24 random bytes, base64url: the same shape as new_workspace_id), and send
# it to Python when Python does not have it yet. A browser that refuses storage gets an id for this tab only.
_JS = """
export default function (component) {
    const { data, setStateValue } = component;
    const valid = (id) => typeof id === "string" && /^[A-Za-z0-9_-]{22,128}$/.test(id);
    let id = null;
    try {
        id = window.localStorage.getItem(data.storage_key);
    } catch (e) {
        id = null;
    }
    if (!valid(id)) {
        id = window.__rnnlabWorkspace;
    }
    if (!valid(id)) {
        const bytes = new Uint8Array(24);
        window.crypto.getRandomValues(bytes);
        id = btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
        try {
            window.localStorage.setItem(data.storage_key, id);
        } catch (e) {
            window.__rnnlabWorkspace = id;
        }
    }
    if (data.known !== id) {
        setStateValue("id", id);
    }
}
"""

_component = st.components.v2.component("rnnlab_workspace_id", js=_JS)


def known_workspace_id() -> str | None:
    """The id this session has learnt (from the browser, or the AppTest stand-in), without drawing anything."""
    known = st.session_state.get(ID_KEY)
    return known if is_workspace_id(known) else None


def workspace_id() -> str | None:
    """This browser's workspace id, or None on a new session's first run, before the browser has answered
    (the answer reruns the script within a moment). Call it on every run, from the entry script.

    Without a browser (AppTest sends no headers) a random id for this session stands in; a test may set
    st.session_state[ID_KEY] first to choose it."""
    if not st.context.headers:
        if not is_workspace_id(st.session_state.get(ID_KEY)):
            st.session_state[ID_KEY] = new_workspace_id()
        return st.session_state[ID_KEY]
    known = st.session_state.get(ID_KEY)
    result = _component(key=KEY, data={"storage_key": STORAGE_KEY, "known": known}, on_id_change=lambda: None,
                        height=0)
    answered = result.get("id")
    if is_workspace_id(answered):
        st.session_state[ID_KEY] = answered
    return st.session_state.get(ID_KEY) if is_workspace_id(st.session_state.get(ID_KEY)) else None
