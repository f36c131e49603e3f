"""Teach: build a class link. The sidebar's settings, a checkbox per control to hide or lock it, a lesson
to open beside the Train page, the projector view; the link to share, with a copy button."""

import streamlit as st

from rnnlab import lessons
from rnnlab.config import FIELDS
from rnnlab.lessons.teach import app_root, class_link
from rnnlab.ui import settings
from rnnlab.ui.boot import require_entry

require_entry()

config = st.session_state["config"]
st.header("Teach: a link for your class")
settings.show_link_warnings()
st.caption("The link opens rnnlab with the sidebar's current settings. Hidden controls disappear for the class "
           "(their values still apply); locked ones are shown but cannot be changed.")

OTHERS = {"preset": "Preset choice", "share": "The share link", "pages": "The page navigation",
          "sidebar": "The whole sidebar"}


def row(name: str, label: str, value: str, lockable: bool) -> tuple[bool, bool]:
    """One control: its name, the value the link carries, and the hide / lock checkboxes."""
    cols = st.columns([3, 2, 1, 1], vertical_alignment="center")
    cols[0].markdown(label)
    cols[1].caption(value)
    hide = cols[2].checkbox("hide", key=f"teach_hide_{name}", label_visibility="collapsed")
    lock = cols[3].checkbox("lock", key=f"teach_lock_{name}", label_visibility="collapsed",
                            disabled=hide or not lockable)
    return hide, lock


hidden: list[str] = []
locked: list[str] = []


def choose(name: str, label: str, value: str = "", lockable: bool = True) -> None:
    hide, lock = row(name, label, value, lockable)
    hidden.extend([name] if hide else [])
    locked.extend([name] if lock else [])


left, right = st.columns([3, 2], gap="large")
with left:
    for col, text in zip(st.columns([3, 2, 1, 1]), ("**Control**", "**Value**", "**Hide**", "**Lock**"), strict=True):
        col.markdown(text)
    for section, area in (("data", "data"), ("model", "model"), ("train", "training")):
        with st.expander(f"{area.capitalize()} settings", expanded=section == "train"):
            choose(area, f"**All {area} settings** (`{area}`)" + (", the series too" if area == "data" else ""))
            for f in FIELDS:
                # `data` names the whole area in hide= and lock=: the series goes with its area
                if f.section == section and f.name != "data":
                    choose(f.name, f"{f.title} (`{f.name}`)", str(config.get(f.name)))
    with st.expander("Other controls"):
        for name, label in OTHERS.items():
            choose(name, f"{label} (`{name}`)", lockable=name in ("preset", "sidebar"))

with right:
    catalogue = lessons.load_lessons()
    lesson = st.selectbox("Lesson beside the Train page", [""] + list(catalogue), key="teach_lesson",
                          format_func=lambda n: catalogue[n].title if n else "(no lesson)")
    if lesson:
        st.caption(catalogue[lesson].summary)
    present = st.toggle("Projector view (view=present)", key="teach_present",
                        help="Larger text on charts and metrics, the sidebar collapsed: for the lecture hall's screen.")
    link = class_link(app_root(st.context.url or "", "teach"), config, hide=hidden, lock=locked, lesson=lesson,
                      present=present)
    st.markdown("**Your class link** (the copy button is at its top right):")
    st.code(link, language=None, wrap_lines=True)
