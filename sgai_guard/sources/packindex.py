"""Where the objects of the repository's own packs lie, from their `.idx` files (version 2),
so that the audit's readers can inflate them in-process (sources.packread) instead of copying
every byte out of `git cat-file` through a pipe.

Each index is checked the way git checks it before trusting it (magic, version, sizes, and
the pack's checksum at the end of the `.pack` equal to the one the index records); an index
that fails is left out, and its objects are read by git as before. The index also keeps its
objects' order in the pack, so that a reader following the audit's listing (which is in pack
order) finds each next object with one comparison (``Locator``).
"""

from __future__ import annotations

import bisect
import operator
import os
import stat
import struct
from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import repeat
from pathlib import Path

_MAGIC = b"\xfftOc"
_FANOUT = 256 * 4
_HEADER = 8 + _FANOUT
_ID = 20  # SHA-1; a SHA-256 repository's indexes say version 3 and are left to git
_LARGE = 0x80000000
# At most this many objects are read in-process: the index costs about 40 bytes an object in
# the main process (and 70 while it is sorted); a larger store is read through git.
MAX_OBJECTS = 2_000_000
_PER_OBJECT = _ID + 4 + 4 + 8  # in an .idx file: id, CRC, offset, and room for a large one


@dataclass(frozen=True, slots=True)
class PackIndex:
    pack: str  # the .pack file
    fd: int  # opened once, before the readers fork: pread needs no shared position
    names: bytes  # object ids, sorted, _ID bytes each
    offsets: array[int]  # where each object of ``names`` starts in the pack
    by_offset: array[int]  # (offset << shift) | position in names, sorted
    shift: int
    mask: int  # of a ``by_offset`` key, the bits that say the position in names

    @property
    def count(self) -> int:
        return len(self.offsets)

    def name(self, position: int) -> bytes:
        return self.names[position * _ID : (position + 1) * _ID]

    def find(self, oid: bytes) -> int | None:
        """The position of ``oid`` (binary) in this index, if it holds it."""
        if len(oid) != _ID:
            return None
        found = bisect.bisect_left(range(self.count), oid, key=self.name)
        return found if found < self.count and self.name(found) == oid else None

    def rank(self, position: int) -> int:
        return bisect.bisect_left(self.by_offset, self.offsets[position] << self.shift)


class Locator:
    """Finds listed objects in the packs, in the listing's order: each is usually the one
    after the last found in the same pack; else it is looked up by id (loose objects, objects
    git listed from another pack, or an index git's order disagrees with)."""

    def __init__(self, packs: list[PackIndex]) -> None:
        self.packs = packs
        self._pack: PackIndex | None = None
        self._next = 0

    def locate(self, oid: bytes) -> tuple[PackIndex, int] | None:
        pack, rank = self._pack, self._next
        if pack is not None and rank < pack.count:
            position = pack.by_offset[rank] & pack.mask
            if pack.names[position * _ID : position * _ID + _ID] == oid:
                self._next = rank + 1
                return pack, pack.offsets[position]
        for pack in self.packs:
            found = pack.find(oid)
            if found is not None:
                self._pack, self._next = pack, pack.rank(found) + 1
                return pack, pack.offsets[found]
        return None


def load(objects: str) -> list[PackIndex]:
    """The usable indexes of ``objects``/pack (alternates are left to git); none when they
    index more than MAX_OBJECTS objects in all, so that memory stays bounded."""
    found = list(_load(Path(objects) / "pack"))
    if sum(index.count for index in found) > MAX_OBJECTS:
        close(found)
        return []
    return found


def close(indexes: list[PackIndex]) -> None:
    for index in indexes:
        os.close(index.fd)


def _load(directory: Path) -> Iterator[PackIndex]:
    try:
        names = sorted(p.name for p in directory.iterdir() if p.name.endswith(".idx"))
    except OSError:
        return
    budget = MAX_OBJECTS * _PER_OBJECT
    for name in names:
        found = _open(directory / name, directory / (name[: -len(".idx")] + ".pack"), budget)
        if found is not None:
            budget -= found.count * _PER_OBJECT
            yield found


def _open(idx: Path, pack: Path, budget: int) -> PackIndex | None:
    fd = -1
    try:
        data = _regular(idx, budget)
        fd = _plain(pack)
        index = _parse(data, pack, fd)
        if index is None:
            raise ValueError(f"{idx} is not an index of {pack}")
        return index
    except (OSError, ValueError, struct.error, OverflowError):
        if fd != -1:
            os.close(fd)
        return None


def _plain(path: Path) -> int:
    """An open descriptor on a plain file, never through a link: a planted fifo or device
    would block at open, or never end."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    fd = os.open(path, flags | getattr(os, "O_CLOEXEC", 0))
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise OSError(f"{path} is not a file")
    return fd


def _regular(path: Path, budget: int) -> bytes:
    """A plain file's bytes, when it is no larger than ``budget``."""
    fd = _plain(path)
    with os.fdopen(fd, "rb") as stream:
        if os.fstat(fd).st_size > budget:
            raise ValueError(f"{path} is larger than {budget} bytes")
        return stream.read(budget + 1)


def _parse(data: bytes, pack: Path, fd: int) -> PackIndex | None:
    if data[:8] != _MAGIC + b"\x00\x00\x00\x02" or len(data) < _HEADER + 40:
        return None
    fanout = struct.unpack(">256I", data[8:_HEADER])
    count = fanout[-1]
    if any(fanout[n] > fanout[n + 1] for n in range(255)):
        return None
    names_end = _HEADER + count * _ID
    small_end = names_end + count * 4 + count * 4  # the CRCs, then the 4-byte offsets
    if len(data) < small_end + 40 or (len(data) - small_end - 40) % 8:
        return None
    offsets = _offsets(data[names_end + count * 4 : small_end], data[small_end:-40])
    size = os.fstat(fd).st_size
    if offsets is None or not _pairs(data, fd, size):
        return None
    shift = max(count.bit_length(), 1)
    if count and (max(offsets) >= size - _ID or min(offsets) < 12 or size << shift >= 1 << 64):
        return None
    keys = sorted(map(operator.or_, map(operator.lshift, offsets, repeat(shift)), range(count)))
    names = data[_HEADER:names_end]
    return PackIndex(str(pack), fd, names, offsets, array("Q", keys), shift, (1 << shift) - 1)


def _offsets(small: bytes, large: bytes) -> array[int] | None:
    """Each object's offset: 31 bits, or an index into the table of 8-byte offsets."""
    words = struct.unpack(f">{len(small) // 4}I", small)
    table = struct.unpack(f">{len(large) // 8}Q", large)
    offsets = array("Q", words)
    if not words or max(words) < _LARGE:
        return offsets
    for n, word in enumerate(words):
        if word & _LARGE:
            at = word & ~_LARGE
            if at >= len(table):
                return None
            offsets[n] = table[at]
    return offsets


def _pairs(data: bytes, fd: int, size: int) -> bool:
    """The pack is the one this index was written for (its trailing checksum), as git checks."""
    if size < 12 + _ID:
        return False
    head = os.pread(fd, 12, 0)
    tail = os.pread(fd, _ID, size - _ID)
    return head[:4] == b"PACK" and head[4:8] in (b"\0\0\0\2", b"\0\0\0\3") and tail == data[-40:-20]
