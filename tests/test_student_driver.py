"""The class benchmark's browserless student (bench/student.py) drives the Train page as a browser would:
the link's settings reach the run, the live feed brings steps and loss charts, the page's timed fragment and
the feed's `turned` rerun it, Pause stops the run. bench.class_load judges a class by these sessions, so a
student that trained the wrong settings or missed the page's own reruns would measure the wrong server."""

from __future__ import annotations

import time

import pytest
from browser_support import server_log, streamlit_server

from bench.student import Student

pytestmark = pytest.mark.browser


def _until(predicate, timeout: float, what: str) -> None:
    end = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > end:
            raise AssertionError(f"{what} within {timeout:.0f} s")
        time.sleep(0.05)


def test_a_student_trains_the_links_settings_watches_the_feed_and_pauses():
    with streamlit_server() as url, Student(url, "preset=udacity-sine&steps=1000000") as student:
        student.wait_for("btn_train")
        seen = student.seen
        assert seen.steps == [] and seen.loss == []  # nothing runs before the click
        student.click("btn_train")
        _until(lambda: len(seen.steps) > 5 and seen.steps[-1][1] > 100, 60, "no steps reached the student")
        # The link's steps, not the slider's default: the sidebar hands the widgets their values without the
        # browser sending them back.
        assert seen.steps_of_run == 1_000_000
        assert [s for _, s in seen.steps] == sorted(s for _, s in seen.steps)
        _until(lambda: seen.turned >= 1, 30, "the feed never said the run started computing")
        # the status slot's timed fragment (5 s while a run computes) is rerun by the student's clock
        _until(lambda: seen.fragment_runs_sent >= 1, 15, "no timed fragment was rerun")
        assert len(seen.loss) > 10
        student.click("btn_pause")
        time.sleep(1.5)
        paused_at = seen.steps[-1][1]
        time.sleep(1.5)
        assert seen.steps[-1][1] == paused_at  # a paused run sends no new step
        assert (seen.exceptions, seen.errors, seen.closed) == (0, 0, False)
        assert "Traceback" not in server_log(url)
