"""A progress line on stderr for long scans: objects, bytes, rate and, when known, ETA."""

from __future__ import annotations

import os
import sys
import time
from typing import TextIO

_INTERVAL = 0.2


def wanted(mode: str, stream: TextIO | None = None) -> bool:
    """``auto`` shows progress only on a terminal and never in CI."""
    stream = stream or sys.stderr  # looked up now: tests and callers may swap sys.stderr
    if mode == "always":
        return True
    if mode == "never":
        return False
    return stream is not None and stream.isatty() and not os.environ.get("CI")


def show(stream: TextIO | None, text: str) -> bool:
    """Write ``text`` to ``stream``; False when it cannot be written (closed, or a pipe whose
    reader went away). A progress line is decoration: its failure must never cost the
    report, nor change the exit code (click ends with exit 1 on a broken pipe)."""
    if stream is None:
        return False
    try:
        stream.write(text)
        stream.flush()
    except (OSError, ValueError):
        return False
    return True


_SETTLED = 2.0  # seconds before an ETA is guessed (and 1 % of the work done)


class ProgressLine:
    def __init__(
        self, total: int | None = None, stream: TextIO | None = None, noun: str = "object"
    ) -> None:
        self.total, self.noun = total, noun
        self.stream: TextIO | None = stream or sys.stderr  # None: stderr is closed
        self.started = time.monotonic()
        self._last = 0.0
        self._shown = False

    def __call__(self, objects: int, size: int) -> None:
        now = time.monotonic()
        if now - self._last < _INTERVAL or self.stream is None:
            return
        self._last = now
        line = "\r" + self.render(objects, size, now - self.started) + "\033[K"
        self._shown = show(self.stream, line)
        if not self._shown:
            self.stream = None  # tried once: the rest of the scan goes on without it

    def render(self, objects: int, size: int, elapsed: float) -> str:
        rate = size / elapsed / 2**20 if elapsed > 0 else 0.0
        things = self.noun if objects == 1 else f"{self.noun}s"
        line = f"scanned {objects:,} {things}, {size / 2**20:,.1f} MiB, {rate:,.1f} MiB/s"
        if self.total and objects:
            line += f", {objects * 100 // self.total}% of ~{self.total:,}"
            if elapsed >= _SETTLED and objects * 100 >= self.total:  # a first guess misled
                left = max(self.total - objects, 0) * elapsed / objects  # (a newcomer review:
                line += f", ETA {int(left)} s"  # "ETA 472 s" for a run of 0.25 s)
        return line

    def close(self) -> None:
        if self._shown:
            show(self.stream, "\r\033[K")
