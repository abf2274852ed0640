"""Where the objects of the repository's own packs lie, from their `.idx` files (version 2),
so that the audit's readers can inflate them in-process (sources.packread) instead of copying
every byte out of `git cat-file` through a pipe.

The readers must read the very copy git would show for each id, or a planted copy could hide a
key git shows. So the packs are read in-process only when that copy is never in doubt (else
``load`` says None, and everything is read through git as before):
- every index is one git would trust the same way: version 2, a plain file, its pack's
  checksum and object count, its names sorted and in their fan-out buckets;
- no multi-pack-index, incremental (git 2.47) or not: git looks objects up through it;
- no alternate store (git may take an object from there);
- not too many packs or objects (open files, memory).
An id held by two packs is left to git (``ambiguous``); an id in no pack is a loose object,
the file git reads too (git looks in its packs first, and so do the readers).
"""

from __future__ import annotations

import bisect
import operator
import os
import stat
import struct
import sys
from array import array
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import chain, islice, repeat
from pathlib import Path

from sgai_guard.models import is_object_id
from sgai_guard.sources import alternates

_MAGIC = b"\xfftOc"
_FANOUT = 256 * 4
_HEADER = 8 + _FANOUT
_ID = 20  # SHA-1; a SHA-256 repository's indexes fail the size checks and are left to git
_LARGE = 0x80000000
# At most this many objects and packs are read in-process: the index costs about 40 bytes an
# object in the main process (about 80 while it is sorted), and each pack an open file. A
# larger store is read through git.
MAX_OBJECTS = 1_000_000
MAX_PACKS = 64
# Ids in more than one pack are found by comparing every pack with the largest: at most this
# many objects outside the largest pack.
MAX_OUTSIDE_LARGEST = 200_000
# A fan-out bucket of at most this many names is searched as bytes (``PackIndex.find``).
_SCANNED = 4096
# An index of more objects is searched by two-byte prefix (``PackIndex.find``): 256 names
# a first-byte bucket on average. The table costs about 35 ms a reader to make (requests'
# 46 k objects: 0.71 us a search by first byte, 0.52 by two; pytest's 163 k: 1.61 against
# 0.61; sympy's 642 k: 5.05 against 0.76).
_FINE_FROM = 256 * 256
_PER_OBJECT = _ID + 4 + 4 + 8  # in an .idx file: id, CRC, offset, and room for a large one


@dataclass(slots=True)
class PackIndex:
    pack: str  # the .pack file
    fd: int  # opened once, before the readers fork: pread needs no shared position
    names: bytes  # object ids, sorted, _ID bytes each
    offsets: array[int]  # where each object of ``names`` starts in the pack
    mask: int  # of a ``by_offset`` key, the bits that say the position in names
    size: int  # of the pack file
    fanout: tuple[int, ...] = (0,) * 256  # how many names start with a byte up to each value
    _by_offset: array[int] | None = None
    _fine: array[int] | None = None  # where each two-byte prefix's names start (see find)

    @property
    def by_offset(self) -> array[int]:
        """(offset << shift) | position in names, sorted: made when first needed (sorting
        sympy's 642 k keys costs 0.45 CPU-s, and an audit told each object's offset by the
        listing never needs it; see listing.Plan.offsets)."""
        if self._by_offset is None:
            shift = self.mask.bit_length()
            shifted = map(operator.lshift, self.offsets, repeat(shift))
            keys = map(operator.or_, shifted, range(len(self.offsets)))
            self._by_offset = array("Q", sorted(keys))
        return self._by_offset

    def end(self) -> int:
        """Where its entries end: its trailing checksum starts there."""
        return self.size - _ID

    @property
    def count(self) -> int:
        return len(self.offsets)

    def name(self, position: int) -> bytes:
        return self.names[position * _ID : (position + 1) * _ID]

    def find(self, oid: bytes) -> int | None:
        """The position of ``oid`` (binary) in this index, if it holds it: searched for in
        its fan-out bucket at C speed (a binary search with a Python key took 20 us an id:
        0.6 CPU-s of a reader on pytest's deltas by id), by bisection where the bucket is
        large or the id turns up across two names (a hostile index could make either cost
        a search of the whole index for each id)."""
        if len(oid) != _ID:
            return None
        if self.count > _FINE_FROM:  # a bucket per two-byte prefix: a few names each
            fine = self._fine if self._fine is not None else self._fine_buckets()
            key = oid[0] << 8 | oid[1]
            low, high = fine[key], fine[key + 1]
        else:
            first = oid[0]
            low, high = self.fanout[first - 1] if first else 0, self.fanout[first]
        if high - low <= _SCANNED:
            at = self.names.find(oid, low * _ID, high * _ID)
            if at % _ID == 0:  # aligned: that name; -1: no such name (-1 % 20 is 19)
                return at // _ID
            if at == -1:
                return None
        found = bisect.bisect_left(range(self.count), oid, low, high, key=self.name)
        return found if found < high and self.name(found) == oid else None

    def _fine_buckets(self) -> array[int]:
        """Where the names of each two-byte prefix start, and the end: made when first
        needed (in each reader that needs it), from names checked to be sorted
        (``_in_order``). A first-byte bucket of sympy's index holds 2,500 names, 50 KB
        searched for each id a delta names as its base (5 us; under 1 us here): a pack
        written without offset deltas names every base so. The prefixes are cut at C speed
        and each bucket's start found by bisection: about 35 ms whatever the index's size
        (counting them in Python took 94 ms on sympy's, 143 ms at a million; a review)."""
        pairs = bytearray(2 * self.count)
        pairs[0::2], pairs[1::2] = self.names[0::_ID], self.names[1::_ID]
        prefixes = array("H", pairs)
        if sys.byteorder == "little":
            prefixes.byteswap()  # big-endian pairs: sorted as the names are
        starts = map(bisect.bisect_left, repeat(prefixes), range((1 << 16) + 1))
        self._fine = array("I", starts)
        return self._fine

    def rank(self, position: int) -> int:
        return bisect.bisect_left(self.by_offset, self.offsets[position] << self.mask.bit_length())


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


def load(objects: str) -> list[PackIndex] | None:
    """The indexes of ``objects``/pack, or None when the store is not to be read in-process
    (see the module's docstring)."""
    directory = Path(objects)
    pack = directory / "pack"
    if _present(directory / "info" / "alternates") or any(
        _present(pack / name) for name in ("multi-pack-index", "multi-pack-index.d")
    ):
        return None
    try:
        names = sorted(p.name for p in (directory / "pack").iterdir() if p.name.endswith(".idx"))
    except FileNotFoundError:
        return []
    except OSError:
        return None
    if len(names) > MAX_PACKS:
        return None
    found: list[PackIndex] = []
    left = MAX_OBJECTS
    for name in names:
        index = _open(directory / "pack" / name, _HEADER + 40 + left * _PER_OBJECT)
        if index is not None:
            found.append(index)
        if index is None or index.count > left:
            close(found)
            return None
        left -= index.count
    return found


def ambiguous(objects: str, packs: list[PackIndex]) -> frozenset[bytes] | None:
    """The ids held by more than one pack, or by a pack and a loose file: git picks among
    copies by rules of its own (and falls back to another copy when the one it picked does
    not read), so these are git's to read. None when there are too many objects outside the
    largest pack to compare cheaply."""
    loose = _loose_ids(Path(objects))
    return None if loose is None else _twice([index.names for index in packs], loose)


def copies(objects: str) -> frozenset[bytes] | None:
    """``ambiguous`` for a store the readers do not index (alternates, a multi-pack-index,
    version 1 indexes, many packs): from the index files' names and the loose files alone.
    None when that cannot be told cheaply."""
    names: list[bytes] = []
    loose: list[bytes] = []
    for directory in [Path(objects), *alternates.stores(Path(objects))]:
        found = _loose_ids(directory)
        if found is None:
            return None
        loose += found
        names += _index_names(directory / "pack")
    return _twice(names, loose)


def _twice(names: list[bytes], loose: list[bytes]) -> frozenset[bytes] | None:
    if not names:
        return frozenset(n for n, k in Counter(loose).items() if k > 1)
    largest = max(names, key=len)
    others = list(names)
    others.remove(largest)
    if sum(len(blob) for blob in others) // _ID + len(loose) > MAX_OUTSIDE_LARGEST:
        return None
    seen: set[bytes] = set()
    twice: set[bytes] = set()
    for name in chain(loose, *(_names(blob) for blob in others)):
        (twice if name in seen else seen).add(name)
    if seen:  # else (one pack, no loose object) there is nothing to compare it with
        twice.update(seen.intersection(_names(largest)))
    return frozenset(twice)


def _index_names(directory: Path) -> Iterator[bytes]:
    """The names block of every index file (version 2 as is, version 1 gathered)."""
    try:
        files = [p for p in directory.iterdir() if p.name.endswith(".idx")]
    except OSError:
        return
    for path in files:
        try:
            data = _regular(path, _HEADER + 40 + 2 * MAX_OBJECTS * _PER_OBJECT)
        except (OSError, ValueError):
            continue
        if data[:8] == _MAGIC + b"\x00\x00\x00\x02" and len(data) >= _HEADER:
            count = struct.unpack(">I", data[_HEADER - 4 : _HEADER])[0]
            yield data[_HEADER : _HEADER + count * _ID]
        elif len(data) >= _FANOUT:  # version 1: a fan-out, then (offset, name) pairs
            count = struct.unpack(">I", data[_FANOUT - 4 : _FANOUT])[0]
            pairs = data[_FANOUT : _FANOUT + count * (4 + _ID)]
            yield b"".join(pairs[at + 4 : at + 4 + _ID] for at in range(0, len(pairs), 4 + _ID))


def _loose_ids(objects: Path) -> list[bytes] | None:
    """The ids of the loose objects (binary); None when there are too many to compare."""
    found: list[bytes] = []
    for folder in range(256):
        prefix = f"{folder:02x}"
        try:
            with os.scandir(objects / prefix) as entries:
                for entry in entries:
                    oid = prefix + entry.name
                    if len(oid) == 2 * _ID and is_object_id(oid):
                        found.append(bytes.fromhex(oid))
        except (FileNotFoundError, NotADirectoryError):
            continue
        if len(found) > MAX_OUTSIDE_LARGEST:
            return None
    return found


def _names(names: bytes) -> Iterator[bytes]:
    return map(
        names.__getitem__, map(slice, range(0, len(names), _ID), range(_ID, len(names) + _ID, _ID))
    )


def _present(path: Path) -> bool:
    """Whether something is at ``path`` (a link to nothing too): only a name that is surely
    absent says False, any other error True (the caller then refuses, or checks and fails)."""
    try:
        os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return False
    except OSError:
        return True
    return True


def revs_agree(objects: str, loaded: list[PackIndex]) -> bool:
    """Whether each reverse index (`.rev`) of ``objects``/pack gives its pack's true order.
    git trusts one when it lists objects in pack order (`--unordered`): a planted one can make
    it list some objects twice and others never. Indexes not ``loaded`` already are parsed
    here, only where `.rev` files exist (git 2.41 and later write them)."""
    try:
        revs = _revs(Path(objects) / "pack")
    except FileNotFoundError:
        return True
    except OSError:
        return False
    known = {index.pack: index for index in loaded}
    for rev in revs:
        stem = str(rev)[: -len(".rev")]
        index = known.get(stem + ".pack")
        if index is not None:
            agrees = _rev_agrees(rev, index)
        else:
            index = _open(Path(stem + ".idx"), _HEADER + 40 + MAX_OBJECTS * _PER_OBJECT)
            if index is None:
                return False
            try:
                agrees = _rev_agrees(rev, index)
            finally:
                os.close(index.fd)
        if not agrees:
            return False
    return True


def _revs(folder: Path) -> list[Path]:
    """The reverse indexes git may read in ``folder``: for each index (git lists the `.idx`
    files), the file git opens by name, "<pack>.rev", where one is present; and every file
    whose name ends so in any case. On a case-insensitive file system (macOS's, by
    default) git's open of "<pack>.rev" finds a "<pack>.REV" that a case-sensitive match of
    the folder's names missed: found by a review, a lying one hid every key, exit 0."""
    names = [entry.name for entry in folder.iterdir()]
    revs = {name for name in names if name.lower().endswith(".rev")}
    for name in names:
        if name.endswith(".idx") and _present(folder / (name[: -len(".idx")] + ".rev")):
            revs.add(name[: -len(".idx")] + ".rev")
    return [folder / name for name in sorted(revs)]


def _rev_agrees(rev: Path, index: PackIndex) -> bool:
    size = 12 + 4 * index.count + 2 * _ID
    try:
        data = _regular(rev, size)
    except (OSError, ValueError):
        return False
    if len(data) != size or data[:12] != b"RIDX\0\0\0\1\0\0\0\1":
        return False
    positions = array("I", data[12 : 12 + 4 * index.count])
    if sys.byteorder == "little":
        positions.byteswap()
    return _sorts(positions, index.offsets)


def _sorts(positions: array[int], offsets: array[int]) -> bool:
    """Whether ``positions`` (one per object) put ``offsets`` in strictly increasing order,
    which makes them the pack's order: each in range, and no position twice (it would give
    one offset twice). Linear: sorting sympy's 642 k offsets instead cost 0.3-0.45 CPU-s,
    and a `.rev` file is on every pack git 2.41 and later writes. Two ids at one offset (a
    hostile index) never agree: the store is then listed in id order."""
    if len(positions) != len(offsets):
        return False
    try:
        ordered = array("Q", map(offsets.__getitem__, positions))
    except IndexError:
        return False
    return all(map(operator.lt, ordered, islice(ordered, 1, None)))


def close(indexes: list[PackIndex]) -> None:
    for index in indexes:
        os.close(index.fd)


def _open(idx: Path, budget: int) -> PackIndex | None:
    """The index ``idx`` (a file of at most ``budget`` bytes) of its pack, or None."""
    pack = Path(str(idx)[: -len(".idx")] + ".pack")  # as git pairs them: ".idx" is ".pack"
    fd = -1
    try:
        data = _regular(idx, budget)
        fd = open_plain(pack)
        index = _parse(data, pack, fd)
        if index is None:
            raise ValueError(f"{idx} is not an index of {pack}")
        return index
    except Exception:  # any index that does not parse: the whole store goes to git
        if fd != -1:
            os.close(fd)
        return None


def open_plain(path: Path) -> int:
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
    fd = open_plain(path)
    with os.fdopen(fd, "rb") as stream:
        if os.fstat(fd).st_size > budget:
            raise ValueError(f"{path} is larger than {budget} bytes")
        return stream.read(budget + 1)


def _parse(data: bytes, pack: Path, fd: int) -> PackIndex | None:
    if data[:8] != _MAGIC + b"\x00\x00\x00\x02" or len(data) < _HEADER + 40:
        return None
    fanout = struct.unpack(">256I", data[8:_HEADER])
    count = fanout[-1]
    names_end = _HEADER + count * _ID
    small_end = names_end + count * 8  # the CRCs, then the 4-byte offsets
    size = os.fstat(fd).st_size
    large = len(data) - small_end - 40  # the table of 8-byte offsets: at most one per object
    if large < 0 or large % 8 or large > max(count - 1, 0) * 8:
        return None
    if not _pairs(data, fd, size, count):
        return None
    names = data[_HEADER:names_end]
    if not _in_order(names, fanout):
        return None
    offsets = _offsets(data[names_end + count * 4 : small_end], data[small_end:-40])
    shift = max(count.bit_length(), 1)
    if offsets is None or size << shift >= 1 << 64:
        return None
    if count and (max(offsets) >= size - _ID or min(offsets) < 12):
        return None
    return PackIndex(str(pack), fd, names, offsets, (1 << shift) - 1, size, fanout)


def _in_order(names: bytes, fanout: tuple[int, ...]) -> bool:
    """Names strictly increasing, each in the fan-out bucket of its first byte: else git's
    search would not find some of them, and the readers must not read them either."""
    start, count = 0, len(names) // _ID
    for byte, end in enumerate(fanout):
        if end < start or end > count:
            return False
        if end > start and (names[start * _ID] != byte or names[(end - 1) * _ID] != byte):
            return False
        start = end
    chunk = 1 << 16
    for first in range(0, len(names) // _ID, chunk):
        part = list(_names(names[first * _ID : (first + chunk + 1) * _ID]))
        if not all(map(operator.lt, part, islice(part, 1, None))):
            return False
    return True


def _offsets(small: bytes, large: bytes) -> array[int] | None:
    """Each object's offset: 31 bits, or an index into the table of 8-byte offsets."""
    words = array("I", small)
    if sys.byteorder == "little":
        words.byteswap()
    offsets = array("Q", words)
    if not words or max(words) < _LARGE:
        return offsets
    table = struct.unpack(f">{len(large) // 8}Q", large)
    for n, word in enumerate(words):
        if word & _LARGE:
            at = word & ~_LARGE
            if at >= len(table):
                return None
            offsets[n] = table[at]
    return offsets


def _pairs(data: bytes, fd: int, size: int, count: int) -> bool:
    """The pack is the one this index was written for, as git checks: its trailing checksum,
    and the object count its header gives."""
    if size < 12 + _ID:
        return False
    head = os.pread(fd, 12, 0)
    tail = os.pread(fd, _ID, size - _ID)
    return (
        head[:4] == b"PACK"
        and head[4:8] in (b"\0\0\0\2", b"\0\0\0\3")
        and struct.unpack(">I", head[8:12])[0] == count
        and tail == data[-40:-20]
    )
