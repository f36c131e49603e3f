"""A student without a browser: one session of the Train page driven over Streamlit's own protocol.

Why: on this 2-core machine a class of Chromium tabs shares the cores with the server and its training jobs,
and the browsers' threads preempt the jobs; in a lecture hall the browsers are on the students' laptops. A
Student does, towards the server, what the page in a browser does, and nothing else, so that a class of them
measures the server and the jobs as a lecture hall has them (bench/class_load.py):
- opens the websocket (`/_stcore/stream`) and asks for the page (BackMsg `rerun_script` with the query string);
- reruns each timed fragment the server announces (ForwardMsg `auto_rerun`) at its interval, until the next
  full run, as Streamlit's browser side does;
- clicks a button by its key: a rerun whose widget state triggers the button's id. Other widgets are not
  sent: the sidebar hands every widget its value from the session on each run (settings._draw_widget);
- reads the page's live feed (server-sent events at the address the page's components carry), keeps the
  Step each frame shows and the time of each frame that carries a loss chart, and on `turned` sends the
  metrics component's trigger, as the page's script (rnnlab/ui/live_chart.py) does;
- counts exceptions and error alerts the server draws, and a socket that closed.
What it does not do: paint. Its redraws are loss-chart frames delivered; the Chromium class counts pixels.
Threads, not asyncio: a class is at most a few dozen sockets, and the bench script's own CPU is counted apart.
"""

from __future__ import annotations

import json
import re
import threading
import time
import urllib.request
from contextlib import ExitStack
from dataclasses import dataclass, field

# At import, in one thread: importing them from the student's threads at once races streamlit's own imports.
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState
from websockets.sync.client import connect

FEED = re.compile(rb"api/live/[A-Za-z0-9_-]{16,}")
METRICS = "live_metrics"  # the component whose trigger says `turned` (live_chart.live_metrics)


@dataclass
class Seen:
    """What one student's page received, timed with time.monotonic()."""

    steps: list[tuple[float, int]] = field(default_factory=list)  # each change of the Step metric
    loss: list[float] = field(default_factory=list)  # each feed frame carrying the loss chart
    frames: int = 0  # feed frames of any kind
    page_runs: int = 0  # script runs finished (full and fragment)
    fragment_runs_sent: int = 0
    turned: int = 0
    exceptions: int = 0
    errors: int = 0
    closed: bool = False
    steps_of_run: int | None = None  # the run's length as the Step metric's help says ("of N in this run")


class Student:
    """One session of `url`/?`query`, driven without a browser. Use as a context manager."""

    def __init__(self, url: str, query: str) -> None:
        self.url, self.query = url.rstrip("/"), query
        self.seen = Seen()
        self._ids: dict[str, str] = {}  # widget key -> Streamlit's element id
        self._token: str | None = None  # the live feed's address (api/live/...)
        self._fragments: dict[str, tuple[float, float]] = {}  # fragment id -> (interval s, next due)
        self._lock = threading.Lock()
        self._ran = threading.Event()  # a script run finished
        self._stop = threading.Event()
        self._page_hash = ""
        self._socket = None
        self._stack = ExitStack()
        self._threads: list[threading.Thread] = []

    # --- the websocket -------------------------------------------------------------------------------
    def __enter__(self) -> Student:
        ws_url = "ws" + self.url[len("http"):] + "/_stcore/stream"
        self._socket = self._stack.enter_context(connect(ws_url, subprotocols=["streamlit"], max_size=None,
                                                         open_timeout=30))
        for target in (self._receive, self._fragment_clock, self._read_feed):
            thread = threading.Thread(target=target, daemon=True)
            thread.start()
            self._threads.append(thread)
        self._rerun()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._ran.set()
        try:
            self._stack.close()
        except Exception:  # already closed by the server: nothing to release
            pass
        for thread in self._threads:
            thread.join(timeout=2)

    def _rerun(self, widgets: list | None = None, fragment_id: str = "", auto: bool = False) -> None:
        msg = BackMsg()
        state = msg.rerun_script
        state.query_string = self.query
        state.page_script_hash = self._page_hash
        state.fragment_id = fragment_id
        state.is_auto_rerun = auto
        for widget in widgets or []:
            state.widget_states.widgets.append(widget)
        with self._lock:
            if self.seen.closed:
                return
            try:
                self._socket.send(msg.SerializeToString())
            except Exception:  # the server closed the socket: counted in `closed`
                self.seen.closed = True

    def _receive(self) -> None:
        while not self._stop.is_set():
            try:
                data = self._socket.recv()
            except Exception:  # closed (by us on exit, or by the server: a disconnect)
                if not self._stop.is_set():
                    self.seen.closed = True
                return
            if isinstance(data, str):
                continue
            msg = ForwardMsg()
            msg.ParseFromString(data)
            self._handle(msg, data)

    def _handle(self, msg, raw: bytes) -> None:
        kind = msg.WhichOneof("type")
        if kind == "new_session":
            self._page_hash = msg.new_session.page_script_hash
            if not msg.metadata.run.fragment_ids:  # a full run: its timed fragments announce themselves again
                with self._lock:
                    self._fragments.clear()
        elif kind == "stop_auto_rerun":
            with self._lock:
                for fragment in msg.stop_auto_rerun.fragment_ids:
                    self._fragments.pop(fragment, None)
        elif kind == "auto_rerun":
            with self._lock:
                self._fragments[msg.auto_rerun.fragment_id] = (msg.auto_rerun.interval,
                                                               time.monotonic() + msg.auto_rerun.interval)
        elif kind == "script_finished":
            self.seen.page_runs += 1
            self._ran.set()
        elif kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
            self._element(msg.delta.new_element, raw)

    def _element(self, element, raw: bytes) -> None:
        kind = element.WhichOneof("type")
        if kind == "exception":
            self.seen.exceptions += 1
        elif kind == "alert" and element.alert.format == element.alert.ERROR:
            self.seen.errors += 1
        widget = getattr(element, kind, None)
        element_id = getattr(widget, "id", "") if widget is not None else ""
        if isinstance(element_id, str) and element_id.startswith("$$ID-"):
            self._ids[element_id.rsplit("-", 1)[-1]] = element_id
        if kind == "bidi_component":
            found = FEED.search(raw)
            if found:
                self._token = found.group().decode()

    # --- what the browser does on its own ------------------------------------------------------------
    def _fragment_clock(self) -> None:
        while not self._stop.wait(0.05):
            now = time.monotonic()
            with self._lock:
                due = [f for f, (_, at) in self._fragments.items() if at <= now]
                for f in due:
                    interval = self._fragments[f][0]
                    self._fragments[f] = (interval, now + interval)
            for f in due:
                self.seen.fragment_runs_sent += 1
                self._rerun(fragment_id=f, auto=True)

    def _read_feed(self) -> None:
        while not self._stop.is_set():
            self._ran.wait()
            self._ran.clear()
            token = self._token
            if token is None or self._stop.is_set():
                continue
            try:
                with urllib.request.urlopen(f"{self.url}/{token}", timeout=30) as stream:
                    self._follow(stream)
            except Exception:  # withdrawn (404) or closed: opened again after the next page run
                pass

    def _follow(self, stream) -> None:
        event = "message"
        for line in stream:
            if self._stop.is_set():
                return
            line = line.decode().rstrip("\n")
            if line.startswith("event: "):
                event = line[len("event: "):]
            elif line.startswith("data: "):
                if event == "message":
                    self._frame(json.loads(line[len("data: "):]))
                elif event == "turned":
                    self.seen.turned += 1
                    self._trigger_turned()
                elif event == "end":
                    return
                event = "message"

    def _frame(self, frame: dict) -> None:
        now = time.monotonic()
        self.seen.frames += 1
        if "loss_chart" in frame.get("charts", {}):
            self.seen.loss.append(now)
        for row in frame.get("metrics", []):
            if row.get("label") == "Step":
                step = int(re.sub(r"[^0-9]", "", row["value"]) or 0)
                if not self.seen.steps or self.seen.steps[-1][1] != step:
                    self.seen.steps.append((now, step))
                total = re.search(r"of ([\d,]+)", row.get("help", ""))
                if total:
                    self.seen.steps_of_run = int(total.group(1).replace(",", ""))

    def _trigger_turned(self) -> None:
        element_id = self._ids.get(METRICS)
        if element_id is None:
            return
        widget = WidgetState(id=element_id + "__events",
                             json_trigger_value=json.dumps([{"event": "turned", "value": int(time.time() * 1000)}]))
        self._rerun([widget])

    # --- what the student does ----------------------------------------------------------------------
    def wait_for(self, key: str, timeout: float = 60.0) -> None:
        """Until the page has drawn the widget `key` and the live feed's address."""
        end = time.monotonic() + timeout
        while key not in self._ids or self._token is None:
            if time.monotonic() > end or self.seen.closed:
                raise TimeoutError(f"the page drew no {key!r} within {timeout:.0f} s (closed: {self.seen.closed})")
            time.sleep(0.05)

    def click(self, key: str) -> None:
        self._rerun([WidgetState(id=self._ids[key], trigger_value=True)])
