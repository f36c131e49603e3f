"""A server-wide cap on jobs computing at once, first come first served.

Jobs hold a slot only while they compute a short chunk of steps, so a class of
students shares the cores in turns instead of the first two hogging them."""

from __future__ import annotations

import itertools
import os
import threading
from collections import deque


class ComputeSlots:
    """A fair counting semaphore that can tell a waiter its place in the queue."""

    def __init__(self, size: int) -> None:
        self.size = max(1, size)
        self._busy = 0
        self._queue: deque[int] = deque()
        self._tickets = itertools.count()
        self._cond = threading.Condition()

    def acquire(self, cancelled: threading.Event | None = None, timeout: float = 0.25) -> int | None:
        """Block until a slot is free and it is this caller's turn; None if `cancelled` is set meanwhile."""
        with self._cond:
            ticket = next(self._tickets)
            self._queue.append(ticket)
            try:
                while not (self._queue[0] == ticket and self._busy < self.size):
                    if cancelled is not None and cancelled.is_set():
                        return None
                    self._cond.wait(timeout)
                self._busy += 1
                return ticket
            finally:
                self._queue.remove(ticket)
                self._cond.notify_all()

    def release(self) -> None:
        with self._cond:
            self._busy -= 1
            self._cond.notify_all()

    @property
    def waiting(self) -> int:
        """Jobs queued for a slot right now."""
        with self._cond:
            return len(self._queue)

    @property
    def busy(self) -> int:
        with self._cond:
            return self._busy


def default_size() -> int:
    """One computing job per core: each job runs on one PyTorch thread."""
    return int(os.environ.get("RNNLAB_MAX_JOBS", "0")) or (os.cpu_count() or 1)


SLOTS = ComputeSlots(default_size())
