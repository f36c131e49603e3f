"""This browser's workspace id: random, kept in the browser's localStorage and a same-site cookie.

The id is the key to a browser's runs in the run store (rnnlab.store): whoever holds it holds them. So it
lives only in the browser's storage and in this session's state, never in the URL ("Share these settings"
links carry settings only), and a reload or a restarted server finds the same id again. Another browser,
or a private window, has its own storage and so its own workspace.

The first script run of a visit must know the id without a round trip to the browser (waiting for the
browser's answer cost about two seconds of a first visit, measured): the cookie brings it with the page's
own connection. A browser seen for the first time gets a fresh id from the server, which the browser then
keeps; a browser whose cookie is gone but whose localStorage holds an id sends that id, and the page
reruns in that workspace a moment later."""

from __future__ import annotations

import streamlit as st

from rnnlab.store import is_workspace_id, new_workspace_id

KEY = "rnnlab_workspace_component"  # the component instance's key (its state lives under it)
COOKIE = "rnnlab_workspace"  # the cookie: the id at the first script run of a visit
ID_KEY = "rnnlab_workspace_id"  # the id once known: a plain session value, kept on pages that skip the component
STORAGE_KEY = "rnnlab.workspace"  # the localStorage entry

# The stored id wins; without one, the id the server offered is kept. Either way the cookie carries it to
# the next visit's first run, and Python hears of it only when it differs from what Python has. A browser
# that refuses storage keeps an id for this tab only.
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
    if (!valid(id) && valid(data.known)) {
        id = data.known;
        try {
            window.localStorage.setItem(data.storage_key, id);
        } catch (e) {
            window.__rnnlabWorkspace = id;
        }
    }
    if (!valid(id)) {
        return;
    }
    document.cookie = `${data.cookie}=${id}; path=/; max-age=31536000; SameSite=Strict`;
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


def workspace_id() -> str:
    """This browser's workspace id: the session's, else the cookie's, else a fresh one that the browser will
    keep (see the module docstring). Call it on every run, from the entry script.

    Without a browser (AppTest sends no headers) a random id for this session stands in; a test may set
    st.session_state[ID_KEY] first to choose it."""
    if not is_workspace_id(st.session_state.get(ID_KEY)):
        cookie = st.context.cookies.get(COOKIE) if st.context.headers else None
        st.session_state[ID_KEY] = cookie if is_workspace_id(cookie) else new_workspace_id()
    if not st.context.headers:
        return st.session_state[ID_KEY]
    result = _component(key=KEY, data={"storage_key": STORAGE_KEY, "cookie": COOKIE,
                                       "known": st.session_state[ID_KEY]},
                        on_id_change=lambda: None, height=0)
    answered = result.get("id")
    if is_workspace_id(answered) and answered != st.session_state[ID_KEY]:
        st.session_state[ID_KEY] = answered  # the browser's stored id: this run already uses it
    return st.session_state[ID_KEY]
