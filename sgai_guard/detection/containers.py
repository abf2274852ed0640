"""Keys inside compressed files and archives: gzip, bzip2, xz, zip (wheels, jars, apks, Office
documents) and tar, plain or compressed, nested, recognised by their bytes and never by their
names. Everything happens in memory, nothing is ever written to disk, and every container is
held to limits on nesting, total uncompressed bytes, compression ratio and member count.

``magic`` is the only thing ordinary text pays for: a few byte comparisons. The standard
library modules are imported only when a container is opened.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, NamedTuple

from sgai_guard.detection.magic import magic, zip_end

CHUNK = 1 << 20
# what each compressed stream of a file costs of the byte budget, whatever it holds: a file of
# millions of empty streams cost 10 us each, and no byte (found by a review)
STREAM_COST = 1024
OUTSIDE = "(outside any member)"  # a tar's bytes that no member holds, scanned as they are


class Limits(NamedTuple):
    """How far a container is opened; past a limit it is listed as not fully scanned."""

    depth: int = 3  # containers inside containers
    total_bytes: int = 64 * 1024 * 1024  # uncompressed bytes per outermost container
    ratio: int = 200  # uncompressed / compressed, per member
    members: int = 10_000  # per container


class Member(NamedTuple):
    """One member's content, or why it was not (fully) read."""

    name: str
    data: bytes | None
    problem: str | None = None


class Budget:
    """Uncompressed bytes left for one outermost container and everything inside it."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.left = limits.total_bytes

    def take(self, size: int) -> bool:
        self.left -= size
        return self.left >= 0


def members(kind: str, data: bytes, stem: str, budget: Budget) -> Iterator[Member]:
    """The members of one container whose bytes are ``data``. ``stem``: the name a
    single-stream compressor's content goes by (the container's name less .gz/.bz2/.xz)."""
    from sgai_guard.detection import archives  # noqa: PLC0415 - only once a container was seen

    if kind == "zip":
        yield from archives.zip_members(data, budget)
        return
    if kind == "tar":
        yield from archives.tar_members(data, budget)
    else:
        yield from _stream(kind, data, stem, budget)
    if zip_end(data):  # a zip joined to it: unzip opens it (found by a review)
        yield from archives.zip_members(data, budget, quiet=True)


def _stream(kind: str, data: bytes, stem: str, budget: Budget) -> Iterator[Member]:
    """gzip, bzip2 or xz: one stream (or several, concatenated), decompressed in bounded
    steps. A compressed tar is opened straight away, so `a.tar.gz!dir/file` names a member;
    whatever of the tar no member holds (headers, PAX records, unknown member types, data
    after the end) is scanned too, as `a.tar.gz!(outside any member)`."""
    try:
        content, problem = _decompress(kind, data, budget)
    except Exception as exc:  # zlib.error, lzma.LZMAError, OSError: all mean corrupt input
        yield Member(stem, None, f"corrupt {kind} data: {exc}")
        return
    if problem is None and magic(content) == "tar":
        from sgai_guard.detection import archives  # noqa: PLC0415

        yield from archives.tar_members(content, budget, charged=True, leftovers=True)
        return
    yield Member(stem, content, problem)


def _decompress(kind: str, data: bytes, budget: Budget) -> tuple[bytes, str | None]:
    """The content, or as much as the limits allow and why it stopped. Input goes in in
    bounded steps, so a file of many tiny concatenated streams costs linear time."""
    out: list[bytes] = []
    view = memoryview(data)
    position, streams, size = 0, 0, 0
    while position < len(data):
        streams += 1
        if streams > budget.limits.members:
            return b"".join(out), over_members(budget, streams)
        if not budget.take(STREAM_COST):
            return b"".join(out), over_total(budget)
        engine = _decompressor(kind)
        used = 0
        while not getattr(engine, "eof", False) and position + used < len(data):
            piece = view[position + used : position + used + CHUNK]
            used += len(piece)
            for chunk in _steps(kind, engine, bytes(piece)):
                size += len(chunk)
                out.append(chunk)
                if not budget.take(len(chunk)):
                    return b"".join(out), over_total(budget)
                if size > budget.limits.ratio * max(len(data), 1):
                    return b"".join(out), over_ratio(budget)
        if not getattr(engine, "eof", False):
            return b"".join(out), f"truncated {kind} data: it ends before its stream does"
        position += used - len(getattr(engine, "unused_data", b""))
        position = _next_stream(data, position, kind)
    return b"".join(out), None


def _next_stream(data: bytes, position: int, kind: str) -> int:
    """Where the next concatenated stream starts: past zero padding; the end when what
    follows is not one (trailing bytes are scanned with the file's own bytes anyway)."""
    while position < len(data) and data[position] == 0:
        position += 1
    return position if magic(data[position : position + 10]) == kind else len(data)


def _decompressor(kind: str) -> object:
    if kind == "gzip":
        import zlib  # noqa: PLC0415

        return zlib.decompressobj(wbits=31)
    if kind == "bzip2":
        import bz2  # noqa: PLC0415

        return bz2.BZ2Decompressor()
    import lzma  # noqa: PLC0415

    return lzma.LZMADecompressor()


def _steps(kind: str, engine: Any, data: bytes) -> Iterator[bytes]:
    """Output of one stream, at most CHUNK bytes at a time (zlib keeps unread input in
    ``unconsumed_tail``; bz2 and lzma keep it inside and say ``needs_input``)."""
    if kind == "gzip":
        chunk = engine.decompress(data, CHUNK)
        yield chunk
        while engine.unconsumed_tail and not engine.eof:
            yield engine.decompress(engine.unconsumed_tail, CHUNK)
        if not engine.eof:
            yield engine.flush()
        return
    yield engine.decompress(data, CHUNK)
    while not engine.eof and not engine.needs_input:
        yield engine.decompress(b"", CHUNK)


def over_total(budget: Budget) -> str:
    return f"more than {budget.limits.total_bytes} uncompressed bytes (the archive size limit)"


def over_members(budget: Budget, count: int) -> str:
    return f"{count} members, more than {budget.limits.members} (the member count limit)"


def over_ratio(budget: Budget) -> str:
    return f"compressed more than {budget.limits.ratio} to 1 (the compression ratio limit)"
