"""GitHub code scanning's line hash (``primaryLocationLineHash``), computed where the content is.

GitHub tracks an alert across commits by a rolling hash of the 100 characters (spaces and tabs
left out, line endings made ``\\n``) that start the alert's line, plus ``:n`` for the n-th line of
the file with that same hash. The upload action computes it from the checkout, which holds no
file of an older commit, so the engine computes it from the blob it scans.
"""

from __future__ import annotations

from collections.abc import Iterator
from hashlib import blake2b

BLOCK = 100
_MOD = 37
_MASK = (1 << 64) - 1
_EOF = 0xFFFF
# what follows the text: the end-of-file mark, then zeros (a full window at the last line)
_TAIL = _EOF.to_bytes(2, "little") + bytes(2 * BLOCK)


def line_hashes(data: bytes, lines: set[int]) -> dict[int, str]:
    """The hash of each 1-based line in ``lines`` (lines past the end are left out). Memory
    grows with ``lines``, not with the file: only the windows those lines start with are
    counted (a file of a million distinct lines holds no million windows)."""
    raw = _code_units(data)
    last = max(lines, default=0)
    counted = {_window(raw, start): 0 for n, start in _line_starts(raw, last) if n in lines}
    out: dict[int, str] = {}
    for number, start in _line_starts(raw, last):
        window = _window(raw, start)
        if window in counted:
            counted[window] += 1
            if number in lines:
                out[number] = f"{_hash(raw, start):x}:{counted[window]}"
    return out


def _units(raw: bytes, start: int) -> memoryview:
    """The BLOCK code units from ``start``, the end-of-file mark and zeros past the text."""
    part = memoryview(raw)[2 * start : 2 * (start + BLOCK)]
    if len(part) < 2 * BLOCK:  # the last lines: copied, with what follows the text
        part = memoryview(bytes(part) + _TAIL[: 2 * BLOCK - len(part)])
    return part


def _window(raw: bytes, start: int) -> bytes:
    """The window from ``start`` as a 16-byte digest: lines are told apart by their windows,
    and a digest keeps a file of 100,000 asked lines from holding them."""
    return blake2b(_units(raw, start), digest_size=16).digest()


def _code_units(data: bytes) -> bytes:
    """The text as GitHub's hasher reads it, as UTF-16-LE code units: ``\r\n`` and ``\r``
    made ``\n``, then blanks dropped. One copy of the text at a time (each ``replace`` that
    finds nothing makes none), and no copy of the code units to append the end: a file of
    100,000 keys held five copies at once."""
    text = data.decode("utf-8", "replace")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = text.replace(" ", "").replace("\t", "")
    return text.encode("utf-16-le")


def _line_starts(raw: bytes, last: int) -> Iterator[tuple[int, int]]:
    """Each line's number and the code unit it starts at, up to line ``last``: a line starts
    after every ``\\n``."""
    yield 1, 0
    number, newline = 1, b"\n\x00"
    at = raw.find(newline)
    while at != -1 and number < last:
        if at % 2 == 0:
            number += 1
            yield number, at // 2 + 1
        at = raw.find(newline, at + 1)
    # as in GitHub's hasher, the end-of-file mark after a last \n starts a line


def _hash(raw: bytes, start: int) -> int:
    value = 0
    for unit in _units(raw, start).cast("H"):
        value = (value * _MOD + unit) & _MASK
    return value
