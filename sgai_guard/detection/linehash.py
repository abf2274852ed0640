"""GitHub code scanning's line hash (``primaryLocationLineHash``), computed where the content is.

GitHub tracks an alert across commits by a rolling hash of the 100 characters (spaces and tabs
left out, line endings made ``\\n``) that start the alert's line, plus ``:n`` for the n-th line of
the file with that same hash. The upload action computes it from the checkout, which holds no
file of an older commit, so the engine computes it from the blob it scans.
"""

from __future__ import annotations

from array import array

BLOCK = 100
_MOD = 37
_MASK = (1 << 64) - 1
_EOF = 0xFFFF
_DROP = {ord(" "): None, ord("\t"): None}


def line_hashes(data: bytes, lines: set[int]) -> dict[int, str]:
    """The hash of each 1-based line in ``lines`` (lines past the end are left out)."""
    units = _code_units(data)
    starts = _line_starts(units, max(lines, default=0))
    seen: dict[bytes, int] = {}
    out: dict[int, str] = {}
    for number, start in enumerate(starts, 1):
        window = units[start : start + BLOCK].tobytes()
        seen[window] = seen.get(window, 0) + 1
        if number in lines:
            out[number] = f"{_hash(units, start):x}:{seen[window]}"
    return out


def _code_units(data: bytes) -> array[int]:
    """The text as GitHub's hasher reads it: UTF-16 code units, blanks dropped, ``\\r\\n`` and
    ``\\r`` made ``\\n``, then the end-of-file mark and padding."""
    text = data.decode("utf-8", "replace").replace("\r\n", "\n").replace("\r", "\n")
    units = array("H")
    units.frombytes(text.translate(_DROP).encode("utf-16-le"))
    units.append(_EOF)
    units.extend(bytes(BLOCK))  # zeros: enough for a full window at the last line
    return units


def _line_starts(units: array[int], last: int) -> list[int]:
    """Where each line starts, up to line ``last``: a line starts after every ``\\n``."""
    raw = units.tobytes()
    starts = [0]
    newline = b"\n\x00"
    at = raw.find(newline)
    while at != -1 and len(starts) < last:
        if at % 2 == 0:
            starts.append(at // 2 + 1)
        at = raw.find(newline, at + 1)
    return starts  # as in GitHub's hasher, the end-of-file mark after a last \n starts a line


def _hash(units: array[int], start: int) -> int:
    value = 0
    for unit in units[start : start + BLOCK]:
        value = (value * _MOD + unit) & _MASK
    return value
