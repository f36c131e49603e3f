"""The live feed: a running job's frames streamed straight to its charts and metrics (server-sent events).

Why not reruns: a Streamlit rerun repaints the whole app in the browser, about 50 ms of a core even for a
fragment that holds one line of text (measured in Chromium on a 2-core machine), so a view redrawn by
reruns ten times a second costs half a core per watching tab before any chart is drawn, and a script
run on the server for each. With the feed the page runs when a run starts and when it stops; in
between the server sends each chart only what changed, at most eleven times a second, and nothing
while nothing changes. When the run has started or stopped computing the stream says `turned` (the
browser reruns the page once, for its buttons and verdict) and stays open for the session's next run, so a Train click's
first steps reach the charts without waiting for the page to rerun.

A page publishes a view under a token kept in its session (`publish`); its components open
`/api/live/<token>` (app.py mounts the route). The token is random and sent only to that session, so it
is the key to the view: another browser cannot guess it. Sources run on the server's event loop between
two looks (a look that finds nothing new costs microseconds; a frame about half a millisecond), never in
a script run, so they must not use st.* (no session state there)."""

from __future__ import annotations

import asyncio
import json
import secrets
import threading
import time
from collections.abc import Callable
from typing import Any

PERIOD = 1 / 11  # seconds between looks at the run: eleven a second, so ten or more reach the screen
STARTING_PERIOD = 0.015  # between looks while a run starts (sent["starting"]): its first step shows at once
STALE_SECONDS = 900.0  # a view nobody published or read for this long is forgotten (its session is gone)
PREFIX = "api/live/"

Frame = dict[str, Any]
# Given what this stream has sent so far (a dict the source keeps its versions in), the next frame or None
# when nothing changed, and whether the run has just started or stopped computing (the page then reruns once).
Source = Callable[[dict], tuple[Frame | None, bool]]

_lock = threading.Lock()
_sources: dict[str, tuple[Source, float]] = {}  # token -> (source, last published or read, monotonic)
_wakers: dict[str, Callable[[], None]] = {}  # token -> wakes its open stream (a new source looks at once)


def new_token() -> str:
    return secrets.token_urlsafe(18)


def url(token: str) -> str:
    """The feed's address, relative to the page (the browser resolves it against the app's base URL)."""
    return PREFIX + token


def publish(token: str, source: Source | None) -> None:
    """Serve `source` under `token` from now on (a new run replaces the old one); None withdraws it."""
    now = time.monotonic()
    with _lock:
        for stale in [t for t, (_, at) in _sources.items() if now - at > STALE_SECONDS]:
            del _sources[stale]
        if source is None:
            _sources.pop(token, None)
        else:
            _sources[token] = (source, now)
        wake = _wakers.get(token)
    if wake is not None:
        wake()


def next_frame(token: str, sent: dict) -> tuple[Frame | None, bool, bool]:
    """(frame or None, turned, gone) of `token`'s view for a stream that has sent `sent`: turned when the run
    has just started or stopped computing, gone when the view was withdrawn or forgotten (the stream closes)."""
    with _lock:
        entry = _sources.get(token)
        if entry is None:
            return None, False, True
        _sources[token] = (entry[0], time.monotonic())
    frame, turned = entry[0](sent)
    return frame, turned, False


def known(token: str) -> bool:
    with _lock:
        return token in _sources


async def _stream(request: Any) -> Any:
    from starlette.responses import PlainTextResponse, StreamingResponse

    token = request.path_params["token"]
    if not known(token):
        return PlainTextResponse("No live view under this address (its run has stopped).", status_code=404)

    loop, woken = asyncio.get_running_loop(), asyncio.Event()

    def wake() -> None:  # from a script run's thread (publish)
        loop.call_soon_threadsafe(woken.set)

    async def events():
        sent: dict = {}
        clock = time.monotonic()
        with _lock:
            _wakers[token] = wake
        try:
            while True:
                frame, turned, gone = next_frame(token, sent)
                if frame is not None:
                    yield "data: " + json.dumps(frame, separators=(",", ":")) + "\n\n"
                if turned:
                    yield "event: turned\ndata: {}\n\n"
                if gone:
                    yield "event: end\ndata: {}\n\n"
                    return
                # On a fixed clock, so building and sending a frame does not slow the pace; never a burst to
                # catch up. A new source (a Train click) is looked at as soon as it is published.
                clock = (max(clock + STARTING_PERIOD, time.monotonic()) if sent.get("starting")
                         else _next_tick(time.monotonic()))
                woken.clear()
                try:
                    await asyncio.wait_for(woken.wait(), clock - time.monotonic())
                    clock = time.monotonic()
                except TimeoutError:
                    pass
        finally:
            with _lock:
                if _wakers.get(token) is wake:
                    del _wakers[token]

    # no-store: a proxy must not cache a live stream; X-Accel-Buffering: nginx must not hold it back.
    return StreamingResponse(events(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


def _next_tick(now: float) -> float:
    """The server-wide clock every stream looks on: a class's streams wake the server together, once per
    tick, not each on its own phase (8 students: their jobs preempted 40-44 times a second instead of 55-56)."""
    return (int(now / PERIOD) + 1) * PERIOD


def routes() -> list[Any]:
    """The feed's route, for st.App (app.py)."""
    from starlette.routing import Route

    return [Route("/" + PREFIX + "{token}", _stream)]
