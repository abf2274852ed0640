"""Objects inflated in the reader's own process, straight from the pack files (and loose
objects), so that the audit's bytes never cross a pipe: the reading that git's `cat-file`
does on one core is done by every reader on its own core.

It reads the copy of each object git would show (sources.packindex says when that copy is
never in doubt; else the whole store is read through git). Everything here reads hostile
bytes: each size is checked against the cap before anything is inflated, each zlib stream must
end where and as it says, each delta must fit its base and its declared result, and a delta
chain is followed at most MAX_CHAIN steps, never through the same entry twice, holding at most
MAX_CHAIN_BYTES of deltas. Whatever does not add up (a corrupt entry, a base in another pack,
an object over the cap, an id two packs hold) is not guessed at: ``read`` returns None and the
caller asks git for that object.

Deltas are applied by dulwich's compiled ``apply_delta``; without it, nothing is read here.
Each pack file is read through sources.packfile (mapped in forked readers, ISA-L's inflate).
"""

from __future__ import annotations

import binascii
import importlib
import os
import zlib
from binascii import unhexlify
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from itertools import chain
from pathlib import Path

from sgai_guard.sources import packindex
from sgai_guard.sources.packfile import (
    INFLATE_ERRORS,
    MAX_OBJECT,
    OFS_DELTA,
    SHORT,
    Entries,
    LeftToGitError,
    PackFile,
    ShortError,
    check_length,
)
from sgai_guard.sources.packindex import Locator, PackIndex

MAX_CHAIN = 10_000  # git writes chains of at most 4,095; a longer one is left to git
MAX_CHAIN_BYTES = MAX_OBJECT  # of deltas held while a chain is followed
MAX_PRODUCED = 4 * MAX_OBJECT  # of results made while a chain is applied, for one object
_PACKS = 2 * packindex.MAX_PACKS  # cache keys: offset * _PACKS + the pack's number
# Inflated objects kept as delta bases: in pack order, a base comes just before its deltas
# (on sympy, 16 MiB re-reads 0.9 % of the entries, 96 MiB 0.04 %).
CACHE = 16 << 20
_CACHE_ONE = CACHE // 4  # a larger object is not kept
_FILE_CHUNK = 1 << 20
_KINDS = {1: "commit", 2: "tree", 3: "blob", 4: "tag"}
_NUMBERS = {name.encode(): number for number, name in _KINDS.items()}
# whatever reading an object here can raise: that object is git's to read
_LEFT_TO_GIT: tuple[type[Exception], ...] = (
    LeftToGitError,
    ValueError,
    IndexError,
    OSError,
    binascii.Error,
    *INFLATE_ERRORS,
)


def delta_applier() -> Callable[..., object] | None:
    """dulwich's compiled ``apply_delta``, or None (its pure-Python one is far too slow)."""
    try:
        compiled = importlib.import_module("dulwich._pack")
    except ImportError:
        return None
    apply: Callable[..., object] | None = getattr(compiled, "apply_delta", None)
    return apply


@dataclass(frozen=True, slots=True)
class Store:
    """What the readers need to read in-process, opened once before they fork."""

    objects: str
    packs: list[PackIndex]
    apply: Callable[..., object]
    ambiguous: frozenset[bytes]  # ids with another copy (a pack, a loose file): git's to read

    def close(self) -> None:
        packindex.close(self.packs)


def open_store(objects: str) -> Store | None:
    """The object store's packs, or None when it is to be read through git: deltas cannot be
    applied here, or the copy git shows of some id could be in doubt (sources.packindex)."""
    apply = delta_applier()
    if apply is None:
        return None
    packs = packindex.load(objects)
    if packs is None:
        return None
    twice = packindex.ambiguous(objects, packs)
    if twice is None:
        packindex.close(packs)
        return None
    return Store(objects, packs, apply, twice)


class ObjectReader:
    def __init__(self, store: Store, *, mapped: bool = False) -> None:
        """``mapped``: map the packs (only in a forked reader: see sources.packfile)."""
        self._objects = Path(store.objects)
        self._locator = Locator(store.packs)
        self._apply = store.apply
        # inflated objects by offset * _PACKS + the pack's number, least recently used first
        self._cache: OrderedDict[int, tuple[int, bytes]] = OrderedDict()
        self._cached = 0
        files = [PackFile(pack.fd, mapped=mapped) for pack in store.packs]
        self._files = {pack.fd: (n, files[n]) for n, pack in enumerate(store.packs)}
        self._entries = Entries(files)
        self._ambiguous = store.ambiguous
        self._only = store.packs[0] if len(store.packs) == 1 else None
        self._end = self._only.end() if self._only is not None else 0

    def read(self, oid: bytes, offset: int = 0) -> tuple[str, bytes] | None:
        """``oid`` (hex)'s kind and content, or None when git must be asked. ``offset``:
        where it starts in the store's only pack, as the listing told (listing.Hints); 0:
        looked up in the packs' indexes."""
        try:
            only = self._only
            if only is not None and 12 <= offset < self._end and not self._ambiguous:
                kind, data = self._packed(only, offset)  # no id to look up (listing.Hints)
            else:
                binary = unhexlify(oid)
                if binary in self._ambiguous:
                    return None
                found = self._locator.locate(binary)
                kind, data = self._packed(*found) if found else self._loose(oid.decode("ascii"))
        except _LEFT_TO_GIT:
            return None
        return _KINDS[kind], data

    def _packed(self, pack: PackIndex, offset: int) -> tuple[int, bytes]:
        """The object at ``offset``: its chain of deltas followed down to a base, then applied."""
        (number, file), cache, entry = self._files[pack.fd], self._cache, self._entries.entry
        key = offset * _PACKS + number
        kind, data, base = entry(file, offset)
        if kind < OFS_DELTA:  # most objects: whole in the pack
            self._keep(key, kind, data)
            return kind, data
        chain, held, visited = [(key, data)], len(data), {offset}
        for _ in range(MAX_CHAIN):
            offset = _base_offset(pack, offset, base)
            key = offset * _PACKS + number
            hit = cache.get(key)
            if hit is not None:
                cache.move_to_end(key)
                kind, data = hit
                break
            if offset in visited:
                raise LeftToGitError("delta chain loops")
            visited.add(offset)
            kind, data, base = entry(file, offset)
            if kind < OFS_DELTA:
                self._keep(key, kind, data)
                break
            held += len(data)
            if held > MAX_CHAIN_BYTES:
                raise LeftToGitError("delta chain too large")
            chain.append((key, data))
        else:
            raise LeftToGitError("delta chain too long")
        produced = 0
        for key, delta in reversed(chain):
            data = self._patch(data, delta)
            produced += len(data)
            if produced > MAX_PRODUCED:  # a chain of large results, none of them cached
                raise LeftToGitError("delta chain makes too much")
            self._keep(key, kind, data)
        return kind, data

    def _patch(self, base: bytes, delta: bytes) -> bytes:
        source, at = _varint(delta, 0)
        target, _ = _varint(delta, at)
        if source != len(base) or target > MAX_OBJECT:
            raise LeftToGitError("delta does not fit")
        try:
            out = self._apply(base, delta)
        except Exception as exc:  # dulwich's ApplyDeltaError, or anything a bad delta raises
            raise LeftToGitError("bad delta") from exc
        data = _joined(out)
        if len(data) != target:
            raise LeftToGitError("delta result size")
        return data

    def _keep(self, key: int, kind: int, data: bytes) -> None:
        size = len(data)
        if size > _CACHE_ONE:
            return
        cache = self._cache
        old = cache.pop(key, None)  # two ids an index puts at one offset: kept once
        if old is not None:
            self._cached -= len(old[1])
        cache[key] = (kind, data)
        self._cached += size
        while self._cached > CACHE:
            self._cached -= len(cache.popitem(last=False)[1][1])

    def _loose(self, oid: str) -> tuple[int, bytes]:
        fd = packindex.open_plain(self._objects / oid[:2] / oid[2:])
        try:
            size = os.fstat(fd).st_size
            if size > MAX_OBJECT + (MAX_OBJECT >> 8) + 4096:
                _check_large_loose(fd, size)  # streamed by git: first make sure it is all there
                raise LeftToGitError("too large")
            raw = os.pread(fd, size, 0)
        finally:
            os.close(fd)
        return _loose_object(raw)


def _joined(out: object) -> bytes:
    """apply_delta's result: bytes, or a list of them (one, from dulwich's compiled one)."""
    if isinstance(out, bytes):
        return out
    if type(out) is list and len(out) == 1 and type(out[0]) is bytes:  # the usual answer
        return out[0]
    if isinstance(out, list) and all(isinstance(part, bytes) for part in out):
        return out[0] if len(out) == 1 else b"".join(out)
    raise LeftToGitError("apply_delta gave no bytes")


def _check_large_loose(fd: int, size: int) -> None:
    """Raise ShortError when a loose file too large to read whole inflates to less than its
    header claims (found by an attacker review: 18 MB claiming 600 MB hung the audit)."""
    chunks = (os.pread(fd, _FILE_CHUNK, at) for at in range(0, size, _FILE_CHUNK))
    first = next(chunks, b"")
    inflater = zlib.decompressobj()
    head = inflater.decompress(first, 64)
    nul = head.find(b"\0")
    words = head[:nul].split(b" ") if nul != -1 else []
    if len(words) != 2 or not words[1].isdigit():
        raise LeftToGitError("not an object header")
    body = len(head) - nul - 1
    check_length(inflater, chain([inflater.unconsumed_tail], chunks), int(words[1]) - body)


def _loose_object(raw: bytes) -> tuple[int, bytes]:
    inflater = zlib.decompressobj()
    head = inflater.decompress(raw, 64)
    nul = head.find(b"\0")
    words = head[:nul].split(b" ") if nul != -1 else []
    if len(words) != 2 or words[0] not in _NUMBERS or not words[1].isdigit():
        raise LeftToGitError("not an object header")
    size = int(words[1])
    if size > MAX_OBJECT:  # streamed by git: first make sure it is all there
        check_length(inflater, [inflater.unconsumed_tail], size - (len(head) - nul - 1))
        raise LeftToGitError("too large")
    body = head[nul + 1 :] + inflater.decompress(inflater.unconsumed_tail, size + 1)
    if inflater.eof and len(body) < size:
        raise ShortError(SHORT)
    if not inflater.eof or len(body) != size:
        raise LeftToGitError("not the size it says")
    return _NUMBERS[words[0]], body


def _varint(data: bytes, at: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[at]
        value |= (byte & 0x7F) << shift
        shift, at = shift + 7, at + 1
        if not byte & 0x80:
            return value, at
        if shift > 63:
            raise LeftToGitError("delta size too long")


def _base_offset(pack: PackIndex, offset: int, base: int | bytes) -> int:
    """Where a delta's base starts: before the delta itself, or wherever its id is, in this
    pack (a base in another pack or store is git's to find)."""
    if isinstance(base, int):
        if not 0 < base < offset:
            raise LeftToGitError("base outside the pack")
        return offset - base
    position = pack.find(base)
    if position is None:
        raise LeftToGitError("base in another pack")
    return pack.offsets[position]
