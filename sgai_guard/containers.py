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

CHUNK = 1 << 20
_TAR_MAGIC = (b"ustar\x0000", b"ustar  \x00")


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


def magic(data: bytes) -> str | None:
    """The container kind ``data`` starts with, or None (the common case)."""
    head = data[:6]
    if head[:2] == b"\x1f\x8b":
        return "gzip"
    if head[:3] == b"BZh":
        return "bzip2"
    if head == b"\xfd7zXZ\x00":
        return "xz"
    if head[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        return "zip"
    if data[257:265] in _TAR_MAGIC:
        return "tar"
    return None


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
    if kind == "zip":
        yield from _zip(data, budget)
    elif kind == "tar":
        yield from _tar(data, budget)
    else:
        yield from _stream(kind, data, stem, budget)


def _stream(kind: str, data: bytes, stem: str, budget: Budget) -> Iterator[Member]:
    """gzip, bzip2 or xz: one stream (or several, concatenated), decompressed in bounded
    steps. A compressed tar is opened straight away, so `a.tar.gz!dir/file` names a member."""
    try:
        content, problem = _decompress(kind, data, budget)
    except Exception as exc:  # zlib.error, lzma.LZMAError, OSError: all mean corrupt input
        yield Member(stem, None, f"corrupt {kind} data: {exc}")
        return
    if problem is None and magic(content) == "tar":
        yield from _tar(content, budget)
        return
    yield Member(stem, content, problem)


def _decompress(kind: str, data: bytes, budget: Budget) -> tuple[bytes, str | None]:
    """The content, or as much as the limits allow and why it stopped."""
    out: list[bytes] = []
    size = 0
    rest = data
    while rest:
        engine = _decompressor(kind)
        for chunk in _steps(kind, engine, rest):
            size += len(chunk)
            out.append(chunk)
            if not budget.take(len(chunk)):
                return b"".join(out), _over_total(budget)
            if size > budget.limits.ratio * max(len(data), 1):
                return b"".join(out), _over_ratio(budget)
        if not getattr(engine, "eof", False):
            return b"".join(out), f"truncated {kind} data: it ends before its stream does"
        unused = getattr(engine, "unused_data", b"")
        rest = unused.lstrip(b"\0") if isinstance(unused, bytes) else b""
    return b"".join(out), None


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


def _over_total(budget: Budget) -> str:
    return f"more than {budget.limits.total_bytes} uncompressed bytes (the archive size limit)"


def _over_ratio(budget: Budget) -> str:
    return f"compressed more than {budget.limits.ratio} to 1 (the compression ratio limit)"


def _zip(data: bytes, budget: Budget) -> Iterator[Member]:
    import io  # noqa: PLC0415
    import zipfile  # noqa: PLC0415

    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        yield Member("", None, f"corrupt zip archive: {exc}")
        return
    for index, info in enumerate(entries):
        if index == budget.limits.members:
            yield Member("", None, _over_members(budget, len(entries)))
            return
        if not info.is_dir():
            yield _zip_member(archive, info, budget)


def _zip_member(archive: object, info: object, budget: Budget) -> Member:
    import zipfile  # noqa: PLC0415
    import zlib  # noqa: PLC0415

    assert isinstance(archive, zipfile.ZipFile) and isinstance(info, zipfile.ZipInfo)  # noqa: S101
    name = info.filename
    if info.flag_bits & 0x1:
        return Member(name, None, "encrypted: its content cannot be read")
    if info.file_size > budget.limits.ratio * max(info.compress_size, 1):
        return Member(name, None, _over_ratio(budget))
    try:
        with archive.open(info) as stream:
            return _bounded(name, stream, budget, info.compress_size)
    except (
        zipfile.BadZipFile,
        OSError,
        ValueError,
        EOFError,
        zlib.error,
        NotImplementedError,
    ) as exc:
        return Member(name, None, f"corrupt member: {exc}")


def _bounded(name: str, stream: object, budget: Budget, compressed: int) -> Member:
    """Read a member in steps, stopping at the total and ratio limits whatever its header says."""
    parts: list[bytes] = []
    size = 0
    while chunk := stream.read(CHUNK):  # type: ignore[attr-defined]
        size += len(chunk)
        parts.append(chunk)
        if not budget.take(len(chunk)):
            return Member(name, b"".join(parts), _over_total(budget))
        if size > budget.limits.ratio * max(compressed, 1):
            return Member(name, b"".join(parts), _over_ratio(budget))
    return Member(name, b"".join(parts))


def _over_members(budget: Budget, count: int) -> str:
    return f"{count} members, more than {budget.limits.members} (the member count limit)"


def _tar(data: bytes, budget: Budget) -> Iterator[Member]:
    import io  # noqa: PLC0415
    import tarfile  # noqa: PLC0415

    try:
        archive = tarfile.open(fileobj=io.BytesIO(data), mode="r:")  # noqa: SIM115
        for count, info in enumerate(archive, 1):
            if count > budget.limits.members:
                yield Member("", None, _over_members(budget, count))
                return
            if info.issym() or info.islnk():
                yield Member(info.name, info.linkname.encode("utf-8", "surrogateescape"))
            elif info.isfile():
                stream = archive.extractfile(info)  # a plain tar: nothing is compressed
                yield _bounded(info.name, stream, budget, max(info.size, 1))
    except (tarfile.TarError, OSError, EOFError, ValueError) as exc:
        yield Member("", None, f"corrupt or truncated tar archive: {exc}")
