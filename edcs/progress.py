"""What ``edcs submit --wait`` shows while it waits: records validated and posted.

On a terminal, one line redrawn in place with a bar; otherwise (a pipe, a log file) a plain line
each time the counts change, at most every few seconds. Always on standard error, so
``--format json`` keeps standard output for the job alone.
"""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO

WIDTH = 30
PLAIN_EVERY = 5.0  # seconds between plain lines


class Progress:
    """Draws the progress of one job."""

    def __init__(self, out: TextIO | None = None, tty: bool | None = None) -> None:
        self.out = out or sys.stderr
        self.tty = self.out.isatty() if tty is None else tty
        self.last: tuple[Any, ...] | None = None
        self.last_at = 0.0

    @staticmethod
    def counts(job: dict[str, Any]) -> tuple[int, int | None, int, int, str]:
        """(validated, records or None while unknown, posted, with errors, status)."""
        return (int(job.get("staged") or 0), job.get("records"), int(job.get("posted") or 0),
                int(job.get("rejected") or 0), str(job.get("status")))

    def line(self, job: dict[str, Any]) -> str:
        """The progress of the job in words (and a bar on a terminal)."""
        validated, records, posted, errors, status = self.counts(job)
        total = f"{records}" if records is not None else "?"
        text = (f"job {job['id']} {status}: {validated} of {total} records validated, "
                f"{posted} posted, {errors} with errors")
        if not self.tty:
            return text
        done = validated / records if records else 0.0
        filled = int(WIDTH * min(done, 1.0))
        return f"[{'#' * filled}{'.' * (WIDTH - filled)}] {text}"

    def __call__(self, job: dict[str, Any]) -> None:
        state = self.counts(job)
        now = time.monotonic()
        if state == self.last:
            return
        if self.tty:
            self.out.write("\r\x1b[2K" + self.line(job))
            if job.get("final"):
                self.out.write("\n")
        elif job.get("final") or now - self.last_at >= PLAIN_EVERY or self.last is None:
            self.out.write(self.line(job) + "\n")
            self.last_at = now
        else:
            return
        self.out.flush()
        self.last = state
