"""How long files wait at the posting barrier (``edcs_post_barrier_wait_seconds``).

The post worker notes when it first stages a record of a file and, when it claims the file for
posting, observes the time since. The clock is this process's: with several post workers, the
one that posts measures from the first record *it* staged. Bounded, so files that another
worker posts are forgotten in time.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict

from shared.metrics import BARRIER_WAIT

REMEMBERED = 10_000  # files whose first staged record is remembered


class BarrierClock:
    """First-staged times of the files this worker stages, by submission id."""

    def __init__(self) -> None:
        self._first: OrderedDict[int, float] = OrderedDict()
        self._lock = threading.Lock()  # the handler and the watchdog run in threads

    def staged(self, submission_id: int) -> None:
        """A batch of the file was staged now (only the first one counts)."""
        with self._lock:
            if submission_id not in self._first:
                self._first[submission_id] = time.monotonic()
                while len(self._first) > REMEMBERED:
                    self._first.popitem(last=False)

    def claimed(self, submission_id: int) -> None:
        """The file passed the barrier: observe how long it waited."""
        with self._lock:
            first = self._first.pop(submission_id, None)
        if first is not None:
            BARRIER_WAIT.observe(time.monotonic() - first)


CLOCK = BarrierClock()
