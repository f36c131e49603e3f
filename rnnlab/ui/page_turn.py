"""The page reruns once, from the browser, when the work it watches has stopped.

A page that watches runs (Runs) or a sweep (Sweep) redraws them from a timed fragment, whose clock the next
full run of the page stops. Calling st.rerun() from that fragment as the work ended is the pattern that, on
the Train page, left Streamlit 1.67's browser side drawing the fragment over the page's charts when a class's
runs turned together (rnnlab/ui/live.py). Here the live feed says `turned` as the work stops, and the browser
reruns the page, as the Train page does."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from rnnlab.ui import feed
from rnnlab.ui.live_chart import live_metrics


def rerun_when_done(key: str, active: Callable[[], bool]) -> None:
    """While `active()` (looked at on the feed's clock, so thread-safe and cheap, no st.* in it) is true, keep
    an invisible listener on the page that reruns the whole page once it turns false. Call it from the page's
    body, outside any fragment: a trigger inside a fragment would rerun only the fragment."""
    token = st.session_state.setdefault(f"_page_turn_{key}", feed.new_token())
    watching = active()
    feed.publish(token, _until_done(active) if watching else None)
    live_metrics([], key=key, feed=feed.url(token) if watching else None)


def _until_done(active: Callable[[], bool]) -> feed.Source:
    """No frames; `turned` once, the first time the work is found stopped."""
    said = {"done": False}

    def frame(sent: dict) -> tuple[None, bool]:
        if said["done"] or active():
            return None, False
        said["done"] = True
        return None, True

    return frame
