"""The live feed (rnnlab/ui/feed.py) and the Train page's frames (rnnlab/ui/live.py): what a stream sends,
when it sends nothing, how it ends, and that only the session that holds a token can read its view."""

from __future__ import annotations

import asyncio
import json
import threading

import pytest
from jobs_support import config, start_runs, wait_for, warm_fork_server

from rnnlab.ui import feed, live

warm = pytest.fixture(scope="module", autouse=True)(warm_fork_server)
runs = pytest.fixture(start_runs)


@pytest.fixture(autouse=True)
def clean_feeds(monkeypatch):
    monkeypatch.setattr(feed, "_sources", {})
    monkeypatch.setattr(feed, "PERIOD", 0.001)


class Request:
    """What the route reads of a request."""

    def __init__(self, token: str) -> None:
        self.path_params = {"token": token}


def read_stream(token: str) -> tuple[int, list[tuple[str, dict]]]:
    """(status, [(event, data)]) of the feed's response for `token`, read to its end."""

    async def read():
        response = await feed._stream(Request(token))
        if response.status_code != 200:
            return response.status_code, b""
        body = b""
        async for chunk in response.body_iterator:
            body += chunk.encode() if isinstance(chunk, str) else chunk
        return response.status_code, body

    status, body = asyncio.run(read())
    events = []
    for block in body.decode().split("\n\n"):
        if not block.strip():
            continue
        fields = dict(line.split(": ", 1) for line in block.splitlines())
        events.append((fields.get("event", "message"), json.loads(fields["data"])))
    return status, events


def counting_source(token: str, frames: int):
    """A source whose run moves `frames` times, says it turned with the last, then is withdrawn (the page left)."""
    state = {"n": 0}

    def source(sent: dict):
        state["n"] += 1
        if state["n"] > 2 * frames:
            feed.publish(token, None)
        if state["n"] % 2:  # every other look finds nothing new: nothing is sent then
            return None, False
        number = state["n"] // 2
        return {"n": number}, number == frames

    return source


def test_a_stream_sends_each_new_frame_once_says_when_the_run_turned_and_closes_when_withdrawn():
    token = feed.new_token()
    feed.publish(token, counting_source(token, 3))
    status, events = read_stream(token)
    assert status == 200
    assert events == [("message", {"n": 1}), ("message", {"n": 2}), ("message", {"n": 3}), ("turned", {}),
                      ("end", {})]


def test_an_unknown_or_withdrawn_token_reads_nothing():
    assert read_stream(feed.new_token())[0] == 404
    token = feed.new_token()
    feed.publish(token, counting_source(token, 1))
    feed.publish(token, None)
    assert read_stream(token)[0] == 404
    assert feed.next_frame(token, {}) == (None, False, True)


def read_within(token: str, seconds: float) -> list[tuple[str, dict]]:
    """The stream's events, read to its end; fails if that takes longer than `seconds`."""
    async def read():
        response = await feed._stream(Request(token))
        return [chunk async for chunk in response.body_iterator]

    chunks = asyncio.run(asyncio.wait_for(read(), seconds))
    return [block.split("\n")[0] for block in "".join(chunks).split("\n\n") if block.strip()]


def test_a_new_source_is_looked_at_as_soon_as_it_is_published(monkeypatch):
    # Between looks a stream waits PERIOD (here a minute); a Train click publishes the new run's source,
    # which must reach the stream at once, not at its next look.
    monkeypatch.setattr(feed, "PERIOD", 60.0)
    token = feed.new_token()
    feed.publish(token, lambda sent: (None, False))

    def the_click():
        def source(sent: dict):
            feed.publish(token, None)  # one frame, then the page is gone
            return {"run": 2}, False

        feed.publish(token, source)

    threading.Timer(0.2, the_click).start()
    assert read_within(token, 20.0) == ['data: {"run":2}', "event: end"]


def test_a_starting_run_is_looked_at_often_until_its_first_step(monkeypatch):
    monkeypatch.setattr(feed, "PERIOD", 60.0)
    token = feed.new_token()
    looks = {"n": 0}

    def source(sent: dict):
        looks["n"] += 1
        sent["starting"] = looks["n"] < 5  # four looks find the run starting, the fifth its first step
        if looks["n"] < 5:
            return None, False
        feed.publish(token, None)
        return {"step": 1}, False

    feed.publish(token, source)
    assert read_within(token, 20.0) == ['data: {"step":1}', "event: end"]


def test_tokens_cannot_be_guessed():
    tokens = {feed.new_token() for _ in range(1000)}
    assert len(tokens) == 1000 and min(len(t) for t in tokens) >= 24
    assert all(feed.url(t).endswith(t) for t in tokens)


def test_views_nobody_reads_are_forgotten(monkeypatch):
    clock = {"now": 1000.0}
    monkeypatch.setattr(feed.time, "monotonic", lambda: clock["now"])
    old, kept = feed.new_token(), feed.new_token()
    feed.publish(old, counting_source(old, 1))
    feed.publish(kept, counting_source(kept, 1))
    clock["now"] += feed.STALE_SECONDS / 2
    feed.next_frame(kept, {})  # read: still wanted
    clock["now"] += feed.STALE_SECONDS / 2 + 1
    feed.publish(feed.new_token(), lambda sent: (None, False))  # any publish sweeps
    assert not feed.known(old) and feed.known(kept)


def test_the_train_frames_carry_metrics_and_only_the_charts_that_moved(runs):
    run = runs(config(steps=60, eval_every=20))
    source = live._source(lambda: run, log_y=True)
    sent: dict = {}
    wait_for(lambda: run.view().phase == "finished", timeout=60)
    frame, turned = source(sent)
    assert not turned  # this stream never saw it compute
    assert frame["active"] is False
    shown = {row["label"]: row["value"] for row in frame["metrics"]}
    assert shown["Step"] == "60" and shown["Steps/s"] == "–"  # finished: no rate
    loss = frame["charts"]["loss_chart"]["figure"]
    assert loss["layout"]["yaxis"]["type"] == "log"
    assert [trace["name"] for trace in loss["data"]] == ["train", "validation"]
    assert frame["charts"]["window_chart"]["figure"]["data"][0]["name"] == "target"
    json.dumps(frame)  # what the stream sends
    assert source(sent) == (None, False)  # nothing moved: nothing sent, no figure built


def test_no_run_no_frames_and_a_new_run_is_followed_at_once(runs):
    current = {"run": None}
    source = live._source(lambda: current["run"], log_y=False)
    sent: dict = {}
    assert source(sent) == (None, False)
    current["run"] = runs(config(), paused=True)
    wait_for(lambda: current["run"].view().phase == "paused", timeout=60)
    frame, turned = source(sent)
    assert frame is not None and not turned


def test_a_stream_follows_a_run_through_resume_and_says_turned_at_pause(runs):
    run = runs(config(), paused=True)
    wait_for(lambda: run.view().phase == "paused", timeout=60)
    source = live._source(lambda: run, log_y=False)
    sent: dict = {}
    assert source(sent)[1] is False  # paused when the stream opened: nothing turned
    run.resume()
    wait_for(lambda: run.view().step > 0, timeout=60)
    frame, turned = source(sent)
    assert frame["active"] and not turned  # a resume: its own click reran the page
    run.pause()
    wait_for(lambda: run.view().phase == "paused", timeout=10)
    last, turned = source(sent)
    assert turned and not last["active"] and last["metrics"][0]["value"] == f"{run.view().step:,}"
    assert source(sent) == (None, False)  # said once


def test_frames_stamp_their_metrics_and_a_run_before_its_first_step_keeps_the_empty_charts(runs):
    run = runs(config(), paused=True)
    wait_for(lambda: run.view().phase == "paused", timeout=60)
    source = live._source(lambda: run, log_y=True)
    sent: dict = {}
    frame, _ = source(sent)
    assert frame["stamp"] == (str(id(run)), 0)
    # The page drew the empty charts with this version: the browser does not redraw them for a new run.
    assert {chart["version"] for chart in frame["charts"].values()} == {repr(live.EMPTY)}
    run.step_once()
    wait_for(lambda: run.view().step == 1, timeout=10)
    frame, _ = source(sent)
    assert frame["stamp"] == (str(id(run)), 1)
    assert frame["charts"]["loss_chart"]["version"] != repr(live.EMPTY)


def test_a_run_that_the_page_drew_starting_turns_once_at_its_first_steps(runs):
    """The page drew "Starting..." and its buttons; the feed asks for one rerun once steps come, even when the
    stream had looked at the run before the page was drawn (the status slot never reruns the page itself)."""
    run = runs(config(), paused=True)
    wait_for(lambda: run.view().phase == "paused", timeout=60)
    sent: dict = {}
    assert live._source(lambda: run, log_y=False)(sent)[1] is False  # an older source saw it paused
    source = live._source(lambda: run, log_y=False, drawn=(id(run), "starting"))
    run.resume()
    wait_for(lambda: run.view().step > 0, timeout=60)
    assert source(sent)[1] is True  # the page showed it starting: one rerun for its buttons and status
    assert source(sent)[1] is False
    still = live._source(lambda: run, log_y=False, drawn=(id(run), "running"))
    assert still(sent)[1] is False  # drawn computing, computing now: nothing to redraw


def test_every_stream_looks_on_one_server_wide_clock():
    # Two streams whose last looks fell anywhere within the same tick wake together at its end, at most one
    # period later: a class's streams cost the server one wake-up per tick, not one each.
    for now in (1000.0, 1000.01, 1000.05, 1234.5678):
        tick = feed._next_tick(now)
        assert now < tick <= now + feed.PERIOD + 1e-9
        assert feed._next_tick(tick - feed.PERIOD * 0.01) == tick
        assert feed._next_tick(tick - feed.PERIOD * 0.99) == tick
