"""Which trees could hold some ids, told from the store's only pack without applying a delta
(for sources.naming). A tree holds an id's bytes in its own entry (a whole tree, or the
bytes its delta adds), or because the tree its delta is made on holds them. So the trees
whose own entries hold an id, and every tree made from one of them by deltas, are the only
ones that must be read whole: on sympy, 19 of 362 k trees, found in about 1.2 CPU-s, where
reading every tree through git cost about 3 (issue 17: what missing objects cost).

What a delta adds is not always the whole id: git's encoder copies an id's first and last
bytes from the base where they are the same there, and adds new bytes in runs of at most
127, each after an instruction byte. Two pieces of each id are looked for, bytes 4-10 and
10-16: with up to 4 bytes copied at either end and one cut anywhere, one of them is whole
(5 bytes copied by chance at an end happen once in a trillion new ids). A pack made by hand
can add an id a byte at a time, or make a delta on an entry hidden inside another (a
hand-written index): its trees' labels may then list fewer paths, never a wrong one (naming
reads every tree git names, and no id that none of these trees names goes unread).

A base comes before its deltas in every pack git writes, except where index-pack completed
a thin pack: it adds the bases the deltas need after them. The candidates are found in one
pass in pack order; a delta on an id that became a candidate only after it makes the pack
say nothing (None), and every tree is read, as before. So does anything that is not what
the listing says: an entry not a tree or a delta, over the size cap, a zlib stream git
would not inflate or that does not end as its header says. The pack is read with
``pread``, a few MiB at a time, and a few MiB of inflated entries are held at a time.
"""

from __future__ import annotations

import os
import zlib
from array import array
from collections.abc import Callable, Iterator, Sequence
from itertools import accumulate, compress
from operator import not_
from typing import NamedTuple

from sgai_guard.detection.prefilter import Prefilter, parts_hit
from sgai_guard.sources.packfile import OFS_DELTA, REF_DELTA, LeftToGitError, entry_header

_TREE = 2
_BLOCK = 4 << 20  # bytes read from the pack at a time, and inflated bytes searched at a time
_MOST_IN_BLOCK = 32 * 1024  # entries held at a time (a million tiny ones held 239 MiB)
_LARGEST = 16 << 20  # an entry inflating to more is left to git (the old way)
_LARGEST_ENTRY = _LARGEST + (_LARGEST >> 8) + 4096  # packed, with its header
ID = 20  # packs read in-process hold SHA-1 ids (sources.storeplan)
# What is looked for of each id: git's delta encoder may copy an id's first and last bytes
# from the base (where they match the id there) and cut what it adds in runs of 127 bytes.
# Up to 4 bytes copied at either end, and one cut anywhere, leave one of these two whole
# (found by a review: a pack git wrote held neither half of an id, [0:10] and [10:20]).
_PIECES = ((4, 10), (10, 16))

# whatever reading the pack here can raise: every tree is then read through git
_FAILURES = (OSError, ValueError, IndexError, zlib.error, LeftToGitError)
Base = int | bytes | None  # an entry's base: an offset, an id, or none (a whole tree)


class Packed(NamedTuple):
    """The store's only pack, and where each listed tree is in it (listing.Plan.tree_places:
    0 for a tree not in it, a loose one)."""

    fd: int
    at: array[int]
    disk: array[int]


class _UnsureError(ValueError):
    """The pack is not what the listing says: naming reads every tree instead."""


def candidates(
    packed: Packed, trees: Sequence[bytes], ids: Sequence[bytes], stop: Callable[[], bool]
) -> list[int] | None:
    """The indexes (into ``trees``, the listing's tree ids, one a line) of the trees that may
    hold any of ``ids`` (binary), in order; loose trees always. None: the pack cannot tell,
    or the audit was abandoned."""
    if len(packed.at) != len(trees) or len(packed.disk) != len(trees):
        return None
    pieces = [oid[start:end] for oid in ids for start, end in _PIECES]
    find = Prefilter(pieces)
    found = list(compress(range(len(trees)), map(not_, packed.at)))  # loose: always read
    passed = bytearray()  # the bases (ids) of the deltas on an id not taken, one after another
    try:
        keys: set[int | bytes] = {_id(trees[n]) for n in found}  # offsets, ids of candidates
        for first, bases, datas in _blocks(packed, stop):
            literal = _literal(datas, find, pieces)
            if not literal and not keys:  # most blocks: nothing to look for
                passed += b"".join(base for base in bases if isinstance(base, bytes))
                continue
            for n, base in enumerate(bases):
                if n in literal or base in keys:
                    found.append(first + n)
                    keys.update((packed.at[first + n], _id(trees[first + n])))
                elif isinstance(base, bytes):
                    passed += base
    except _FAILURES:
        return None
    return None if _left_out(bytes(passed), keys) else sorted(set(found))


def _left_out(passed: bytes, keys: set[int | bytes]) -> bool:
    """Whether a delta left out was made on an id that became a candidate only after it: a
    base after its deltas (a thin pack that index-pack completed; found by a review: a path
    was missing from a label)."""
    return bool(keys) and any(passed[at : at + ID] in keys for at in range(0, len(passed), ID))


def _id(line: bytes) -> bytes:
    return bytes.fromhex(line.strip().decode("ascii"))


def _literal(datas: list[bytes], find: Prefilter, pieces: list[bytes]) -> set[int]:
    """Which of a block's entries hold a piece of an id in their own bytes."""
    joined = b"".join(datas)
    firsts = find(joined)
    if not firsts:
        return set()
    starts = list(accumulate(map(len, datas), initial=0))
    return parts_hit(joined, pieces, firsts, starts)


def _blocks(
    packed: Packed, stop: Callable[[], bool]
) -> Iterator[tuple[int, list[Base], list[bytes]]]:
    """The listed trees a few MiB of entries at a time: the index of a block's first, and
    each one's base and inflated entry (a loose tree: no base, nothing inflated)."""
    fd, window, start, end = packed.fd, memoryview(b""), 0, 0  # where the window is
    first, bases, datas = 0, list[Base](), list[bytes]()
    held = 0
    for index, (at, disk) in enumerate(zip(packed.at, packed.disk, strict=True)):
        if at:
            if not 0 < disk <= _LARGEST_ENTRY:
                raise _UnsureError("entry too large")
            if not start <= at <= at + disk <= end:
                if stop():  # before any read: the store may be closed meanwhile
                    raise _UnsureError("abandoned")
                window, start = memoryview(os.pread(fd, max(disk, _BLOCK), at)), at
                end = start + len(window)
                if len(window) < disk:
                    raise _UnsureError("pack shorter than listed")
            base, data = _entry(window, at - start, disk, at)
            held += len(data)
        else:
            base, data = None, b""
        bases.append(base)
        datas.append(data)
        if held >= _BLOCK or len(bases) >= _MOST_IN_BLOCK:  # tiny entries: a cap on both
            yield first, bases, datas
            first, bases, datas, held = index + 1, [], [], 0
    if bases:
        yield first, bases, datas
    if stop():
        raise _UnsureError("abandoned")


def _entry(window: memoryview, p: int, disk: int, at: int) -> tuple[Base, bytes]:
    """The base and own bytes, inflated, of the tree entry at ``p`` in ``window`` (at ``at``
    in the pack, ``disk`` bytes long): a whole tree, or a delta."""
    end = p + disk
    kind, size, given, p = entry_header(window, p)
    base: Base
    if kind == _TREE:
        base = None
    elif kind == OFS_DELTA and isinstance(given, int) and 0 < given < at:
        base = at - given
    elif kind == REF_DELTA and isinstance(given, bytes):
        base = given
    else:
        raise _UnsureError("not a tree, or a base outside the pack")
    if size > _LARGEST or p >= end:
        raise _UnsureError("entry too large, or cut")
    inflater = zlib.decompressobj()  # git's own inflate (faster than ISA-L's on small ones)
    data = inflater.decompress(window[p:end], size + 1)
    if len(data) != size or not inflater.eof:
        raise _UnsureError("entry is not the size it says")
    return base, data
