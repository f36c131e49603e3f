"""The classroom link's glue: the projector view, hidden areas, and links to pages that may not exist yet.

What to hide and lock is decided in rnnlab.classroom (pure); the sidebar (settings.py) leaves out the
hidden controls and disables the locked ones; this module adds what only CSS can do."""

from __future__ import annotations

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from rnnlab.classroom import Classroom

# Projector mode: text and numbers readable from the back of a lecture hall, and the Train page within
# 1280x720 (less padding, no page title: the buttons and the charts are what the class looks at; the
# header's band turns see-through, its sidebar button stays).
# Plotly draws its text with inline sizes; a stylesheet's !important wins over them (not for the legend:
# Plotly sizes its box from the inline size, and larger text would be cut).
PRESENT_CSS = """
[data-testid='stMainBlockContainer']{padding-top:0!important;padding-bottom:0!important}
[data-testid='stMain'] [data-testid='stVerticalBlock']{gap:0.25rem}
[data-testid='stHeader']{background:transparent}
[data-testid='stMain'] p, [data-testid='stMain'] button p{font-size:1.1rem}
[data-testid='stMain'] [data-testid='stCaptionContainer'] p{font-size:1rem}
[data-testid='stMetricValue'], [data-testid='stMetricValue'] p{font-size:2.75rem!important;line-height:1.1}
[data-testid='stMetricLabel'] p{font-size:1.15rem!important}
.rnnlab-metric-value{font-size:2.75rem!important;line-height:1.1!important}
.rnnlab-metric-label{font-size:1.15rem!important;line-height:1.3!important}
[data-testid='stMain'] [data-testid='stAlertContainer']{padding-top:0.5rem;padding-bottom:0.5rem}
.js-plotly-plot .xtick text, .js-plotly-plot .ytick text{font-size:17px!important}
.js-plotly-plot .g-xtitle text, .js-plotly-plot .g-ytitle text{font-size:18px!important}
.js-plotly-plot .gtitle{font-size:23px!important}
"""
PRESENT_TRAIN_CSS = "[data-testid='stMain'] h1, [data-testid='stMain'] h2{display:none}"  # the Train page only
HIDE_PAGES_CSS = "[data-testid='stSidebarNav'],[data-testid='stSidebarNavSeparator']{display:none}"
# With the settings and the pages both hidden nothing is left in the sidebar: drop it and its toggle.
HIDE_SIDEBAR_CSS = ("[data-testid='stSidebar'],[data-testid='stSidebarCollapsedControl'],"
                    "[data-testid='stExpandSidebarButton']{display:none}")


def apply_view(room: Classroom) -> None:
    """Once per page run: the projector view and the hidden areas that are not widgets."""
    if room.present:
        st.set_page_config(initial_sidebar_state="collapsed")  # additive: dashboard.py's title and layout stay
    css = (PRESENT_CSS if room.present else "") + (HIDE_PAGES_CSS if "pages" in room.hidden else "")
    if room.present and current_url_path() == "":
        css += PRESENT_TRAIN_CSS
    if "pages" in room.hidden and "preset" in room.hidden and "share" in room.hidden:
        css += HIDE_SIDEBAR_CSS
    if css:
        st.html(f"<style>{css}</style>")


def page_path(url_path: str) -> str | None:
    """The script of the page registered at `url_path` ("" for the default page), or None when this app
    has no such page (the Teach page may not be there yet)."""
    ctx = get_script_run_ctx()
    if ctx is None:
        return None
    for page in ctx.pages_manager.get_pages().values():
        if page.get("url_pathname") == url_path:
            return page["script_path"]
    return None


def current_url_path() -> str | None:
    """The url path of the page this run draws ("" for the default page, Train)."""
    ctx = get_script_run_ctx()
    if ctx is None:
        return None
    page = ctx.pages_manager.get_pages().get(ctx.page_script_hash)
    return page.get("url_pathname") if page else None


def link(url_path: str, label: str, icon: str | None = None, container=None) -> bool:
    """A link to an app page, drawn only when the page exists; True if drawn."""
    path = page_path(url_path)
    if path is None:
        return False
    (container or st).page_link(path, label=label, icon=icon)
    return True
