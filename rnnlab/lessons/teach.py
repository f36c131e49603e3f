"""Class links (the Teach page): the current settings, the controls to hide and lock, a lesson and the
projector view, as one link. Pure: the page draws the checkboxes, this builds the query they give."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlencode

from rnnlab.config import RunConfig


def _names(chosen: Iterable[str]) -> str:
    """Comma-separated, each once, in the order given (the sidebar's order): what hide= and lock= take."""
    return ",".join(dict.fromkeys(name for name in chosen if name))


def class_query(config: RunConfig, hide: Iterable[str] = (), lock: Iterable[str] = (), lesson: str = "",
                present: bool = False) -> dict[str, str]:
    """The query of a class link: the settings as the share link writes them (only what differs from the
    preset or the defaults), then hide=, lock=, lesson= and view=present when asked for. A control both
    hidden and locked is only hidden: hiding wins, as the classroom link reads it."""
    hidden = _names(hide)
    locked = _names(name for name in lock if name not in hidden.split(","))
    query = config.to_query()
    extra = {"hide": hidden, "lock": locked, "lesson": lesson, "view": "present" if present else ""}
    return query | {key: value for key, value in extra.items() if value}


def app_root(url: str, url_path: str) -> str:
    """The app's address from a page's (st.context.url): a class link opens the Train page, not Teach."""
    base = url.split("?")[0].rstrip("/")
    if url_path and base.endswith("/" + url_path):
        base = base[: -len(url_path) - 1]
    return base + "/"


def class_link(root: str, config: RunConfig, **choices) -> str:
    """root + "?" + class_query(config, **choices), or the bare root when the query is empty."""
    query = urlencode(class_query(config, **choices))
    return f"{root}?{query}" if query else root
