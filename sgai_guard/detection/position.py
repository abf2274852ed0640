"""1-based line and column of byte offsets, computed only when a match needs them."""

from __future__ import annotations

import bisect

LONG_LINE = 64 * 1024  # inline markers and line regexes look this far around a key


class Lines:
    """Maps byte offsets in one blob to (line, column) and the text of a line."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._starts: list[int] | None = None
        self._last = (-1, 0, 0)  # (line index, offset, column) of the last answer

    def _line_starts(self) -> list[int]:
        if self._starts is None:
            starts = [0]
            find = self._data.find
            pos = find(b"\n")
            while pos != -1:
                starts.append(pos + 1)
                pos = find(b"\n", pos + 1)
            self._starts = starts
        return self._starts

    def locate(self, offset: int) -> tuple[int, int]:
        """Line and column, both 1-based; the column counts characters, not bytes."""
        starts = self._line_starts()
        index = bisect.bisect_right(starts, offset) - 1
        line, since, column = self._last
        if line != index or offset < since:  # else count on from the last offset on this line:
            since, column = starts[index], 1  # many keys on one long line cost linear time
        # offsets are where a key (ASCII) starts, so no UTF-8 sequence is cut between calls
        column += len(self._data[since:offset].decode("utf-8", "replace"))
        self._last = (index, offset, column)
        return index + 1, column

    def around(self, offset: int) -> tuple[bytes, bytes]:
        """The line holding ``offset`` (see ``text``) and the line before it; no line before
        it when either is longer than LONG_LINE: what is cut off may hold a break an editor
        shows (a lone CR), and a marker on the line before would then allow a key on
        another line on screen (found by an attacker review: 70,000 spaces after the
        marker, then 40 CR-separated lines, then the key)."""
        line = bisect.bisect_right(self._line_starts(), offset)
        long = self._length(line) > LONG_LINE or self._length(line - 1) > LONG_LINE
        return self.text(line, offset), b"" if long else self.text(line - 1)

    def _length(self, line: int) -> int:
        start, end = self._bounds(line)
        return end - start

    def _bounds(self, line: int) -> tuple[int, int]:
        """Where a 1-based line starts and ends (before its "\n"); (0, 0) out of range."""
        starts = self._line_starts()
        if line < 1 or line > len(starts):
            return 0, 0
        return starts[line - 1], starts[line] - 1 if line < len(starts) else len(self._data)

    def text(self, line: int, near: int | None = None) -> bytes:
        """The bytes of a 1-based line, without its line ending; empty when out of range. A
        line longer than LONG_LINE is cut to the LONG_LINE / 2 bytes either side of ``near``
        (a key in it), so a file that is one huge line holds no copy of it per key."""
        start, end = self._bounds(line)
        if end - start > LONG_LINE:
            at = start if near is None else near
            start, end = max(start, at - LONG_LINE // 2), min(end, at + LONG_LINE // 2)
        return self._data[start:end].rstrip(b"\r")
