"""One pack file as an in-process reader sees it (sources.packread): its entries' headers
parsed and their zlib streams inflated, every size checked before anything is inflated.

A reader forked for the audit maps the pack, so that an entry is a slice of the map and not a
read and a copy, and lets go of the mapped pages every RELEASE_EVERY bytes it could have
touched: its resident memory stays bounded whatever the size of the packs. A pack that cannot
be mapped (a sparse file of terabytes, say) is read with ``pread``, and so is every pack read
in the audit's own process: a mapped file that shrinks under a reader ends that process with
SIGBUS, which a forked reader survives as a reader the audit reports as stopped early.

Entries are inflated by ISA-L (python-isal) where its wheel is installed, else by the standard
library's zlib, and only when their zlib header is one git's zlib accepts (ISA-L ignores the
window size that zlib refuses above 32 KiB): never a copy git would not show.
"""

from __future__ import annotations

import importlib
import mmap
import os
import types
import zlib
from collections.abc import Iterable, Iterator
from typing import Protocol

MAX_OBJECT = 16 << 20  # a larger object is streamed by git, in pieces
RELEASE_EVERY = 32 << 20  # bytes an inflater could touch between two releases of the maps
_HEAD = 4096  # read with the entry's header: most entries fit whole
_LET_GO = getattr(mmap, "MADV_DONTNEED", None)  # None where the platform has no madvise
OFS_DELTA, REF_DELTA = 6, 7  # the entry types of deltas: on a base before them, or by id


class Inflater(Protocol):
    """zlib's (or ISA-L's) decompress object, as used here."""

    @property
    def eof(self) -> bool: ...
    @property
    def unconsumed_tail(self) -> bytes: ...

    def decompress(self, data: bytes | memoryview, max_length: int = ..., /) -> bytes: ...


class LeftToGitError(Exception):
    """Not read here; git is asked instead."""


class ShortError(Exception):
    """An object whose content ends before the size its header claims. git would stream it
    short (a blob it streams) and go on to the next answer: a reader waiting on the rest
    would hang, or take the next objects' answers for its content (found by an attacker
    review, with a planted loose object). Said unreadable, never asked of git."""


SHORT = "its content is shorter than its header says (a planted or damaged object)"
_CHUNK = 1 << 20


def _inflater() -> types.ModuleType:
    try:
        return importlib.import_module("isal.isal_zlib")
    except ImportError:  # no wheel for this platform: the standard library's (half the speed)
        return zlib


_inflate = _inflater()
INFLATE_ERRORS: tuple[type[Exception], ...] = (zlib.error, getattr(_inflate, "error", zlib.error))


def check_length(inflater: Inflater, pieces: Iterable[bytes | memoryview], declared: int) -> None:
    """Raise ShortError when the rest of a zlib stream (``pieces``, fed to ``inflater``)
    inflates to fewer than ``declared`` bytes; what it makes is counted, never kept (an
    object too large to hold)."""
    made = 0
    for piece in pieces:
        rest = piece
        while rest and made <= declared:
            made += len(inflater.decompress(rest, _CHUNK))
            if inflater.eof:
                break
            rest = inflater.unconsumed_tail
        if inflater.eof or made > declared:
            break
    while not inflater.eof and made <= declared:  # what zlib still holds for the input read
        out = inflater.decompress(inflater.unconsumed_tail, _CHUNK)
        if not out:
            break
        made += len(out)
    if made < declared:
        raise ShortError(SHORT)


def new_inflater() -> Inflater:
    inflater: Inflater = _inflate.decompressobj()
    return inflater


class PackFile:
    def __init__(self, fd: int, *, mapped: bool) -> None:
        self.fd = fd
        self._map: mmap.mmap | None = None
        self._view: memoryview | None = None
        if mapped:
            try:
                self._map = mmap.mmap(fd, 0, access=mmap.ACCESS_READ)
                self._view = memoryview(self._map)
            except (OSError, ValueError, OverflowError):  # out of address space: pread
                self._map = None

    def read(self, offset: int, length: int) -> bytes | memoryview:
        """At most ``length`` bytes from ``offset`` (fewer at the end of the file)."""
        if self._view is not None:
            return self._view[offset : offset + length]
        return os.pread(self.fd, length, offset)

    def pieces(self, start: int, end: int) -> Iterator[bytes | memoryview]:
        """The bytes from ``start`` to ``end`` (or the end of the file), a MiB at a time."""
        end = min(end, os.fstat(self.fd).st_size)
        for at in range(start, end, _CHUNK):
            yield self.read(at, min(_CHUNK, end - at))

    def release(self) -> None:
        """Let go of the mapped pages (they stay in the page cache)."""
        if self._map is not None and _LET_GO is not None:
            self._map.madvise(_LET_GO)


class Entries:
    """Inflates the entries of a reader's packs, and lets go of their mapped pages in time."""

    def __init__(self, packs: list[PackFile]) -> None:
        self._packs = packs
        self._touched = 0  # bytes the inflaters could have touched since the last release

    def entry(self, pack: PackFile, offset: int) -> tuple[int, bytes, int | bytes]:
        """The entry at ``offset``: its type, its data (a delta for types 6 and 7), and its
        base (a relative offset, or an id)."""
        if self._touched > RELEASE_EVERY:
            self._touched = 0
            for each in self._packs:
                each.release()
        buffer = pack.read(offset, _HEAD)
        kind, size, base, at = entry_header(buffer)
        # zlib's own bound on what it makes of ``size`` bytes (compressBound)
        window = at + size + (size >> 12) + (size >> 14) + (size >> 25) + 64
        cmf = buffer[at] if at < len(buffer) else 0
        if cmf & 0x0F != 8 or cmf >> 4 > 7:  # deflate with at most a 32 KiB window, as zlib
            raise LeftToGitError("not a zlib stream git inflates")
        if size > MAX_OBJECT:  # streamed by git: first make sure it is all there
            if kind < OFS_DELTA:
                self._touched += window
                check_length(new_inflater(), pack.pieces(offset + at, offset + window), size)
            raise LeftToGitError("too large")
        if window > len(buffer):
            buffer = pack.read(offset, window)
        inflater = _inflate.decompressobj()
        try:
            data: bytes = inflater.decompress(buffer[at:window], size + 1)
        finally:  # counted even when it does not add up: the pages were touched all the same
            self._touched += window
        if len(data) < size and inflater.eof and kind < OFS_DELTA:
            raise ShortError(SHORT)
        if len(data) != size or not inflater.eof:
            raise LeftToGitError("entry is not the size it says")
        return kind, data, base


def entry_header(buffer: bytes | memoryview, start: int = 0) -> tuple[int, int, int | bytes, int]:
    """The type, size and base (a distance back, or an id) of the entry at ``start`` in
    ``buffer``, and where its zlib stream starts there."""
    byte = buffer[start]
    kind, size, shift, at = (byte >> 4) & 7, byte & 15, 4, start + 1
    while byte & 0x80:
        byte = buffer[at]
        size |= (byte & 0x7F) << shift
        shift, at = shift + 7, at + 1
        if shift > 63:
            raise LeftToGitError("size header too long")
    if size >> 63 or not kind or kind == 5:
        raise LeftToGitError("too large, or no such type")
    base: int | bytes = 0
    if kind == OFS_DELTA:
        base, at = _offset_varint(buffer, at)
    elif kind == REF_DELTA:
        base, at = bytes(buffer[at : at + 20]), at + 20
    return kind, size, base, at


def _offset_varint(buffer: bytes | memoryview, at: int) -> tuple[int, int]:
    byte = buffer[at]
    value, at = byte & 0x7F, at + 1
    while byte & 0x80:
        byte = buffer[at]
        value, at = ((value + 1) << 7) | (byte & 0x7F), at + 1
        if value >> 63:
            raise LeftToGitError("offset too long")
    return value, at
