"""Zip entries that no central directory lists: a local header and its data, which unzip and
Python's zipfile never see and Java's ZipInputStream (reading from the start) does (found by
an attacker review: a key in a jar's hidden entry, exit 0).

Where each listed entry's data lies is worked out from both its records (``Spans``); every
local header outside them is tried (``unlisted``), each try and each byte it inflates
charged to the archive's byte budget, so that no arrangement of headers costs more than the
budget allows. Listed members read as their local header says (``read_local``) share the
same header finder. Last, the entries are read as ZipInputStream reads them, one local
header after the other from the first byte (``sequential``), skipping what was read already.
"""

from __future__ import annotations

import struct
import zlib
from bisect import bisect_right
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
_EXTSIG = b"PK\x07\x08"  # a descriptor may start with it
_MAGIC = 0xFFFFFFFF  # a size in a zip64 extra field
_HEADER = struct.Struct("<6xHH8xIIHH")  # a local header's flags, method, sizes, name and extra
_SIGNATURES = (LOCAL, b"PK\x01\x02", b"PK\x05\x06")
_LONGEST_NAME = 200  # of an unlisted entry's name, shown
_DESCRIPTOR = 0x8  # flag: sizes in a descriptor after the data
_DEFLATED = 8
_FIRST_PIECE = 64 * 1024  # of a stream whose size is not told
_SMALL_STEP = 512  # input fed at a time to a broken stream, to keep what comes before the error

Span = tuple[int, int]


class Spans:
    """Where the listed entries of one file lie (``held``), worked out with a bound on the
    deflate output followed to find streams' ends, whatever the number of records pointing
    at one stream (a review: 100 records on one 100 KB stream of zeros took 18 s)."""

    def __init__(self, data: bytes, limit: int) -> None:
        self.data, self.held, self._left = data, list[Span](), limit
        self._ends: dict[tuple[int, int], int] = {}
        # what was read from a local header: a stored entry's (header, data's end), and
        # where a deflated entry's stream ends, by header (so ``sequential`` reads it once)
        self.stored, self.streams = set[Span](), dict[int, int]()
        self.headers = _Headers(data)  # one for the file: a new one a record searched to
        # the end of the file for each (a review: 10,000 records, 162 s)

    def add(self, at: int, compressed: int) -> None:
        if is_local(self.data, at):  # else no local header is there: it covers nothing
            self.held.append(self._span(at, compressed))

    def _span(self, at: int, compressed: int) -> Span:
        """Where the listed entry whose local header is at ``at`` lies: its header, name,
        extra field and data, as both its records say.

        - Sizes in the local header: the smaller of the two (a central record claiming more
          covered a hidden entry right behind the 6 bytes that Java reads).
        - Sizes in a descriptor (the `jar` tool's way): the central record's, unless the
          entry is deflated and those bytes hold a local header's signature: then up to
          where its stream ends (a stored zip inside a jar keeps its headers in the
          stream's stored blocks, and they were taken for entries of the jar: a review).
        A descriptor after the data is not counted: a hidden header may start right after
        one."""
        data = self.data
        flags = _field(data, at + 6, 2)
        names, extra = _field(data, at + 26, 2), _field(data, at + 28, 2)
        start = at + 30 + names + extra
        if not flags & _DESCRIPTOR:
            return at, start + min(compressed, _field(data, at + 18, 4))
        end = start + compressed
        if _field(data, at + 8, 2) != _DEFLATED or data.find(LOCAL, start, end) == -1:
            return at, end  # Java stops at a stored entry with a descriptor: nothing after it
        if (start, end) not in self._ends:
            self._ends[start, end] = self._stream_end(start, end)
        return at, self._ends[start, end]

    def _stream_end(self, start: int, end: int) -> int:
        """Where the deflate stream from ``start`` ends, at most ``end``; ``start`` when it
        is no stream (what is in there is then tried), ``end`` once more output than the
        limit was followed in this file (the central record's size is then all there is to
        go by). The output is dropped."""
        inflater = zlib.decompressobj(-15)
        pending: bytes | memoryview = memoryview(self.data)[start:end]
        try:
            while pending and not inflater.eof:
                made = len(inflater.decompress(pending, CHUNK))
                self._left -= max(made, len(pending) - len(inflater.unconsumed_tail))
                if self._left < 0:  # what is read counts when it makes nothing (a review)
                    return end
                pending = inflater.unconsumed_tail
        except zlib.error:
            return start
        return end - len(inflater.unused_data) if inflater.eof else start


def _field(data: bytes, at: int, size: int) -> int:
    return int.from_bytes(data[at : at + size], "little")


def unlisted(spans: Spans, budget: Budget, counted: list[int]) -> Iterator[Member]:
    """Each local header outside the listed entries' spans, read as its header says when it
    is a stored or deflated entry, and counted as a member; what reads as neither is no
    entry (a self-extractor's program holds these 4 bytes). The central directory is not
    skipped: a local header may sit in a record's comment, where a listed entry's local
    size runs (found by a review)."""
    data, held = spans.data, sorted(spans.held)
    starts = [start for start, _ in held]
    at = data.find(LOCAL)
    while at != -1:
        n = bisect_right(starts, at) - 1
        if n >= 0 and at < held[n][1]:
            at = data.find(LOCAL, held[n][1])  # inside a listed entry: on past it
            continue
        if not budget.take(STREAM_COST):  # each try costs, found or not (a review: 4,000
            yield Member("", None, over_total(budget))  # headers on one 10 MB stream of
            return  # empty blocks took minutes)
        found = _entry(spans, at, budget)
        if found is not None:
            counted[0] += 1
            if counted[0] > budget.limits.members:
                yield Member("", None, over_members(budget, counted[0]))
                return
            yield found[0]
            if budget.left < 0:
                return  # said with the member: over the archive's byte budget (exactly
                # spent, the next header's try says it: a review)
        # every later header is tried, inside a found entry too: a header planted in a
        # descriptor claimed a stored entry that ran over the real one after it (a review)
        at = data.find(LOCAL, at + 4)


class _Headers:
    """Where the next signature is: a stored entry with a descriptor runs to it. Each search
    is kept as (from, found), and a new one stops where a kept one begins, so no byte is
    searched twice for a kind, in whatever order records ask (reviews: a search to the end
    for each of thousands of headers took minutes; two headers taken in turn, 69 s; a list
    of every place, 13 times the file's size in memory)."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._known: dict[bytes, list[tuple[int, int]]] = {sig: [] for sig in _SIGNATURES}

    def after(self, start: int) -> int:
        return min(self._place(sig, start) for sig in _SIGNATURES)

    def _place(self, sig: bytes, start: int) -> int:
        """The next ``sig`` at or after ``start`` (the file's length for none)."""
        known = self._known[sig]
        n = bisect_right(known, (start, len(self._data) + 1))
        if n and start <= known[n - 1][1]:
            return known[n - 1][1]  # found before, from at most ``start``
        until = known[n][0] if n < len(known) else len(self._data)
        found = self._data.find(sig, start, until + len(sig) - 1)
        if found == -1:
            found = known[n][1] if n < len(known) else len(self._data)
        known.insert(n, (start, found))
        return found


def is_local(data: bytes, at: int) -> bool:
    """Whether a local header starts at ``at`` (a central record may point anywhere; one
    pointing into a member's data planted a span over a real entry: a review)."""
    return at >= 0 and data[at : at + 4] == LOCAL


def disagree(data: bytes, at: int, info: object) -> bool:
    """Whether the local header at ``at`` (checked: ``is_local``) tells another story than
    the central record ``info`` (a zipfile.ZipInfo): another method, or other sizes or CRC
    where the local header gives them. Every tool writes the two alike."""
    method = _field(data, at + 8, 2)
    if method != getattr(info, "compress_type", method):
        return True
    if _field(data, at + 6, 2) & _DESCRIPTOR:
        return False  # the sizes come after the data
    told = (_field(data, at + 14, 4), _field(data, at + 18, 4), _field(data, at + 22, 4))
    central = (
        getattr(info, "CRC", 0),
        getattr(info, "compress_size", 0),
        getattr(info, "file_size", 0),
    )
    return told != central and told[1:] != (0xFFFFFFFF, 0xFFFFFFFF)  # zip64: in the extra


def read_local(spans: Spans, at: int, budget: Budget) -> Member | None:
    """A listed entry read as its local header, and its deflate stream, say (what Java's
    ZipInputStream and unzip read): None when no entry is there."""
    if not is_local(spans.data, at) or not budget.take(STREAM_COST):
        return None
    found = _entry(spans, at, budget)
    return None if found is None else found[0]


def data_start(data: bytes, at: int) -> int:
    """Where the data of the entry whose local header is at ``at`` starts."""
    return at + 30 + _field(data, at + 26, 2) + _field(data, at + 28, 2)


def _name(data: bytes, at: int, flags: int) -> str:
    names = _field(data, at + 26, 2)
    raw = data[at + 30 : at + 30 + min(names, _LONGEST_NAME)]
    name = raw.decode("utf-8" if flags & 0x800 else "cp437", "replace")
    return (name + ("..." if names > _LONGEST_NAME else "")) or "(no name)"


def _entry(spans: Spans, at: int, budget: Budget) -> tuple[Member, int] | None:
    """The entry whose local header is at ``at``, and where it ends, as far as it tells;
    what was read is noted in ``spans``."""
    data = spans.data
    if at + 30 > len(data):
        return None
    flags, method, compressed = (
        _field(data, at + 6, 2),
        _field(data, at + 8, 2),
        _field(data, at + 18, 4),
    )
    start, name = data_start(data, at), _name(data, at, flags)
    if method == 0:  # sized as the header says (0: an empty file), unless a descriptor follows
        end = spans.headers.after(start) if flags & _DESCRIPTOR else start + compressed
        if end > len(data):
            return None  # a size past the end: no entry (four bytes of a program, say)
        spans.stored.add((at, end))
        return _stored(name, data, start, end, budget), end
    if method == _DEFLATED:
        told = 0 if flags & _DESCRIPTOR else compressed  # where the stream likely ends
        found = _inflated(name, data, start, budget, told)
        if found is not None:
            spans.streams[at] = found[1]
        return found
    return None


def _stored(name: str, data: bytes, start: int, end: int, budget: Budget) -> Member:
    room = max(budget.left, 0)  # no more is cut out than the budget allows (a review)
    content = data[start : min(end, start + room)]
    return Member(name, content, None if budget.take(end - start) else over_total(budget))


def sequential(spans: Spans, budget: Budget, counted: list[int]) -> Iterator[Member]:
    """The entries Java's ZipInputStream reads: a local header at the first byte, its data,
    its descriptor, the next local header right after, and so on, until a header it cannot
    read on. Each entry not read already is counted as a member. A central record, or
    another reader, may tell the entries' places otherwise: a stored entry's local zip64
    sizes, which zipfile never reads, hid the entry after it (a review). Where Java's
    versions read on from different places (a zip64 descriptor), each is followed."""
    todo, seen, limit = [0], set[int](), budget.limits.members
    while todo:
        at = todo.pop()
        if at in seen or not is_local(spans.data, at):
            continue
        seen.add(at)
        if budget.left <= 0:
            # a header is left: exactly spent, that is said (the walk stopped without a
            # word: a review); overdrawn, it was said where that happened
            if budget.left == 0:
                yield Member("", None, over_total(budget))
            return
        step = _java(spans, at, budget)
        if step is None:
            continue
        member, after = step
        todo.extend(reversed(after))
        if member is None:
            continue  # read already
        counted[0] += 1
        if counted[0] > limit:
            yield Member("", None, over_members(budget, counted[0]))
            return
        yield member


def _java(spans: Spans, at: int, budget: Budget) -> tuple[Member | None, list[int]] | None:
    """The entry at ``at`` as ZipInputStream reads it (None read already), and where the
    next header is; None where it stops: an encrypted entry, another method, a stored entry
    with a descriptor, or a header running past the end."""
    data = spans.data
    if at + 30 > len(data):
        return None
    flags, method, compressed, size, names, extra = _HEADER.unpack_from(data, at)
    start = at + 30 + names + extra
    if flags & 1 or start > len(data):
        return None
    if method == _DEFLATED:
        member, end = None, spans.streams.get(at)
        if end is None:
            if not budget.take(STREAM_COST):
                return Member("", None, over_total(budget)), []
            found = _inflated(_name(data, at, flags), data, start, budget, compressed)
            if found is None:
                return None
            member, end = found
            spans.streams[at] = end
        return member, [end + skip for skip in _descriptor(data, at, end, flags)]
    if method or flags & _DESCRIPTOR:
        return None
    end = start + (_zip64_size(data, at, size) if _MAGIC in (compressed, size) else size)
    if (at, end) in spans.stored:
        return None, [end]
    spans.stored.add((at, end))
    if not budget.take(STREAM_COST):
        return Member("", None, over_total(budget)), []
    return _stored(_name(data, at, flags), data, start, min(end, len(data)), budget), [end]


def _zip64_size(data: bytes, at: int, size: int) -> int:
    """A stored entry's size as ZipInputStream takes it when either size in its local header
    is 0xFFFFFFFF: the last zip64 extra field's of 16 bytes or more, else ``size``."""
    for tag, field, length in _extras(data, at):
        if tag == 1 and length >= 16:
            size = _field(data, field, 8)
    return size


def _descriptor(data: bytes, at: int, end: int, flags: int) -> list[int]:
    """How many bytes ZipInputStream reads as the descriptor after a deflated entry's stream:
    none without the flag; 12 (crc and two sizes), 4 more with the signature. Java 25 reads
    8-byte sizes (8 bytes more) when the local header has a size of 0xFFFFFFFF and a zip64
    field in its extra; Java 17 only past 4 GiB: both places are given then (a review found
    an entry Java 17 reads, which the walk went past)."""
    if not flags & _DESCRIPTOR:
        return [0]
    narrow = 12 + (4 if data[end : end + 4] == _EXTSIG else 0)
    wide = _MAGIC in (_field(data, at + 18, 4), _field(data, at + 22, 4)) and any(
        tag == 1 for tag, _, _ in _extras(data, at)
    )
    return [narrow, narrow + 8] if wide else [narrow]


def _extras(data: bytes, at: int) -> Iterator[tuple[int, int, int]]:
    """The local header's extra fields (tag, where its data is, its length), up to the first
    that runs past the end of the extra, as ZipInputStream parses them."""
    extra, end = at + 30 + _field(data, at + 26, 2), data_start(data, at)
    while extra + 4 < end:
        tag, length = _field(data, extra, 2), _field(data, extra + 2, 2)
        if extra + 4 + length > end:
            return
        yield tag, extra + 4, length
        extra += 4 + length


def _inflated(
    name: str, data: bytes, start: int, budget: Budget, told: int = 0
) -> tuple[Member, int] | None:
    """A deflated entry read to the end of its stream, whatever its header claims; None when
    not a byte of it inflates (no entry at all). What it reads counts as well as what it
    makes: a stream of empty blocks makes nothing. ``told``: the size the header gives, fed
    first (what zlib leaves of a piece is copied: a MiB a member for small members)."""
    inflater = zlib.decompressobj(-15)
    view, parts, at, size = memoryview(data), list[bytes](), start, 0
    step = min(told, CHUNK) if told > 0 else _FIRST_PIECE
    try:
        while not inflater.eof and at < len(data):
            piece = view[at : at + step]
            step = CHUNK
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
    except zlib.error as exc:
        if not size:
            return None
        made = _before_the_error(data, start, at + step, size + CHUNK)
        return Member(name, made, f"corrupt member: {exc}"), at
    return Member(name, b"".join(parts)), at


def _before_the_error(data: bytes, start: int, end: int, most: int) -> bytes:
    """What a broken stream makes before its error, up to ``most`` bytes (what the reading
    made, and the failing call's share): zlib drops what the failing call made, and a key
    there was missed, the rest passed as whole (exit 0; a review). Fed again in small
    steps, only after an error."""
    inflater, parts, made = zlib.decompressobj(-15), list[bytes](), 0
    view = memoryview(data)
    for at in range(start, min(end, len(data)), _SMALL_STEP):
        try:
            parts.append(inflater.decompress(view[at : at + _SMALL_STEP], most - made))
        except zlib.error:
            break
        made += len(parts[-1])
        if inflater.eof or made >= most or inflater.unconsumed_tail:
            break
    return b"".join(parts)
