"""Zip entries that no central directory lists: a local header and its data, which unzip and
Python's zipfile never see and Java's ZipInputStream (reading from the start) does (found by
an attacker review: a key in a jar's hidden entry, exit 0).

Where each listed entry's data lies is worked out from both its records (``span``); every
local header outside them is tried (``unlisted``), each try and each byte it inflates
charged to the archive's byte budget, so that no arrangement of headers costs more than the
budget allows.
"""

from __future__ import annotations

import zlib
from bisect import bisect_left, bisect_right
from collections.abc import Iterator

from sgai_guard.detection.containers import (
    CHUNK,
    STREAM_COST,
    Budget,
    Member,
    over_members,
    over_ratio,
    over_total,
)

LOCAL = b"PK\x03\x04"
_SIGNATURES = (LOCAL, b"PK\x01\x02", b"PK\x05\x06")
_LONGEST_NAME = 200  # of an unlisted entry's name, shown
_DESCRIPTOR = 0x8  # flag: sizes in a descriptor after the data
_DEFLATED = 8
_MOST_MADE = 1024  # bytes made per byte read, past which a stream is not followed to its end

Span = tuple[int, int]


def span(data: bytes, at: int, compressed: int) -> Span:
    """Where the listed entry whose local header is at ``at`` lies: its header, name, extra
    field and data, as both its records say.

    - Sizes in the local header: the smaller of the two (a central record claiming more
      covered a hidden entry right behind the 6 bytes that Java reads).
    - Sizes in a descriptor (the `jar` tool's way): the central record's, unless the entry
      is deflated and those bytes hold a local header's signature: then up to where its
      stream ends (a stored zip inside a jar keeps its headers in the stream's stored
      blocks, and they were taken for entries of the jar: a review).
    A descriptor after the data is not counted: a hidden header may start right after one."""
    flags = _field(data, at + 6, 2)
    names, extra = _field(data, at + 26, 2), _field(data, at + 28, 2)
    start = at + 30 + names + extra
    if not flags & _DESCRIPTOR:
        return at, start + min(compressed, _field(data, at + 18, 4))
    end = start + compressed
    if _field(data, at + 8, 2) != _DEFLATED or data.find(LOCAL, start, end) == -1:
        return at, end  # Java stops at a stored entry with a descriptor: nothing after it
    return at, _stream_end(data, start, end)


def _field(data: bytes, at: int, size: int) -> int:
    return int.from_bytes(data[at : at + size], "little")


def _stream_end(data: bytes, start: int, end: int) -> int:
    """Where the deflate stream from ``start`` ends, at most ``end``; ``start`` when it is
    no stream (what is in there is then tried), ``end`` when it makes too much to follow
    (a bomb: the central record's size is all there is to go by). Its output is dropped."""
    inflater = zlib.decompressobj(-15)
    pending: bytes | memoryview = memoryview(data)[start:end]
    made, most = 0, _MOST_MADE * (end - start) + CHUNK
    try:
        while pending and not inflater.eof:
            made += len(inflater.decompress(pending, CHUNK))
            if made > most:
                return end
            pending = inflater.unconsumed_tail
    except zlib.error:
        return start
    return end - len(inflater.unused_data) if inflater.eof else start


def unlisted(data: bytes, budget: Budget, held: list[Span], counted: list[int]) -> Iterator[Member]:
    """Each local header outside the listed entries' spans (``held``), read as its header
    says when it is a stored or deflated entry, and counted as a member; what reads as
    neither is no entry (a self-extractor's program holds these 4 bytes). The central
    directory is not skipped: a local header may sit in a record's comment, where a listed
    entry's local size runs (found by a review)."""
    held.sort()
    starts = [start for start, _ in held]
    headers = _Headers(data)
    at = data.find(LOCAL)
    while at != -1:
        n = bisect_right(starts, at) - 1
        if n >= 0 and at < held[n][1]:
            at = data.find(LOCAL, held[n][1])  # inside a listed entry: on past it
            continue
        if not budget.take(STREAM_COST):  # each try costs, found or not (a review: 4,000
            yield Member("", None, over_total(budget))  # headers on one 10 MB stream of
            return  # empty blocks took minutes)
        found = _entry(data, at, budget, headers)
        if found is not None:
            counted[0] += 1
            if counted[0] > budget.limits.members:
                yield Member("", None, over_members(budget, counted[0]))
                return
            yield found[0]
        at = data.find(LOCAL, max(found[1] if found else 0, at + 4))


class _Headers:
    """Where every signature is, found once when first asked for: a stored entry with a
    descriptor runs to the next one (a search to the end for each of thousands of headers
    took minutes: a review)."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._at: list[int] | None = None

    def after(self, start: int) -> int:
        if self._at is None:
            self._at = sorted(at for sig in _SIGNATURES for at in _all(self._data, sig))
        n = bisect_left(self._at, start)
        return self._at[n] if n < len(self._at) else len(self._data)


def _all(data: bytes, sig: bytes) -> Iterator[int]:
    at = data.find(sig)
    while at != -1:
        yield at
        at = data.find(sig, at + 1)


def _entry(data: bytes, at: int, budget: Budget, headers: _Headers) -> tuple[Member, int] | None:
    """The entry whose local header is at ``at``, and where it ends, as far as it tells."""
    if at + 30 > len(data):
        return None
    flags, method, compressed = _field(data, at + 6, 2), _field(data, at + 8, 2), 0
    names, extra = _field(data, at + 26, 2), _field(data, at + 28, 2)
    compressed = _field(data, at + 18, 4)
    start = at + 30 + names + extra
    raw = data[at + 30 : at + 30 + min(names, _LONGEST_NAME)]
    name = raw.decode("utf-8" if flags & 0x800 else "cp437", "replace")
    name = (name + ("..." if names > _LONGEST_NAME else "")) or "(no name)"
    if method == 0:  # sized as the header says (0: an empty file), unless a descriptor follows
        end = headers.after(start) if flags & _DESCRIPTOR else start + compressed
        if end > len(data):
            return None  # a size past the end: no entry (four bytes of a program, say)
        content = data[start:end]
        problem = None if budget.take(len(content)) else over_total(budget)
        return Member(name, content, problem), end
    if method == _DEFLATED:
        return _inflated(name, data, start, budget)
    return None


def _inflated(name: str, data: bytes, start: int, budget: Budget) -> tuple[Member, int] | None:
    """A deflated entry read to the end of its stream, whatever its header claims; None when
    not a byte of it inflates (no entry at all). What it reads counts as well as what it
    makes: a stream of empty blocks makes nothing."""
    inflater = zlib.decompressobj(-15)
    view, parts, at, size = memoryview(data), list[bytes](), start, 0
    try:
        while not inflater.eof and at < len(data):
            piece = view[at : at + CHUNK]
            chunk = inflater.decompress(piece, CHUNK)
            left = len(inflater.unconsumed_tail)
            left += len(inflater.unused_data) if inflater.eof else 0
            at += len(piece) - left
            if not budget.take(len(piece) - left):
                return Member(name, b"".join(parts), over_total(budget)), at
            parts.append(chunk)
            size += len(chunk)
            if not budget.take(len(chunk)):
                return Member(name, b"".join(parts), over_total(budget)), at
            if size > budget.limits.ratio * max(at - start, 1):
                return Member(name, b"".join(parts), over_ratio(budget)), at
    except zlib.error:
        if not size:
            return None
    return Member(name, b"".join(parts)), at
