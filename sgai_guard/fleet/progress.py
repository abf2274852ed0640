"""Progress of a fleet run on stderr (repositories done of total, findings so far, time
left), shown on a terminal or with --progress always; and the final line, always shown."""

from __future__ import annotations

import sys
import time
from typing import NamedTuple, TextIO

from sgai_guard import progress as line_out
from sgai_guard.display import message

_INTERVAL = 0.2


class Tally(NamedTuple):
    total: int
    scanned: int = 0
    unchanged: int = 0  # skipped: a complete result for this state is already written
    failed: int = 0
    incomplete: int = 0
    findings: int = 0
    blocking: int = 0

    @property
    def done(self) -> int:
        return self.scanned + self.unchanged + self.failed

    def line(self, seconds: float) -> str:
        """The final summary: one line, whatever happened."""
        parts = [f"{self.scanned} audited", f"{self.unchanged} unchanged since the last run"]
        parts += [f"{self.failed} failed"] * bool(self.failed)
        parts += [f"{self.incomplete} incomplete"] * bool(self.incomplete)
        return (
            f"sgai-guard: {self.done} of {self.total} repositories ({', '.join(parts)}): "
            f"{self.findings} finding(s), {self.blocking} blocking, in {seconds:.1f} s"
        )


class FleetProgress:
    def __init__(self, total: int, show: bool, stream: TextIO | None = None) -> None:
        self.started = time.monotonic()
        self.show = show
        self.stream: TextIO | None = stream or sys.stderr  # None: stderr is closed
        self._last = 0.0
        self._shown = False
        self.total = total

    def update(self, tally: Tally) -> None:
        now = time.monotonic()
        if not self.show or (now - self._last < _INTERVAL and tally.done < tally.total):
            return
        self._last = now
        elapsed = now - self.started
        line = f"{tally.done}/{tally.total} repositories, {tally.findings} finding(s)"
        if tally.scanned:
            left = (tally.total - tally.done) * elapsed / tally.done
            line += f", about {int(left)} s left"
        self._shown = line_out.show(self.stream, "\r" + message(line) + "\033[K")
        self.show = self._shown  # a line that cannot be written is not tried again

    def clear(self) -> None:
        """Take the line away, so that a line said now starts on a line of its own."""
        if self._shown:
            self._shown = not line_out.show(self.stream, "\r\033[K")
            self._last = 0.0  # shown again at the next update

    def close(self) -> float:
        """Clear the line; the seconds since the start."""
        if self._shown:
            line_out.show(self.stream, "\r\033[K")
        return time.monotonic() - self.started
