"""Zip and tar archives, in memory, held to the limits of sgai_guard.detection.containers."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sgai_guard.detection import ziplocal
from sgai_guard.detection.containers import (
    CHUNK,
    OUTSIDE,
    Budget,
    Member,
    over_members,
    over_ratio,
    over_total,
)


def zip_members(data: bytes, budget: Budget, *, quiet: bool = False) -> Iterator[Member]:
    """The members of a zip, then of each zip joined before it (a zip appended to a zip, a
    self-extractor): one window of ``data`` after another, never a copy (found by a review:
    a copy a level, each kept by its level, grew with the square of the file). The member
    limit counts them all; so does a bound on central directory records, checked before any
    is parsed (each costs memory). ``quiet``: ``data`` is another kind of container that
    ends as a zip does: what is no zip is not said. Then the entries no central directory
    lists (detection.ziplocal), once a zip was opened (one listing nothing may hold some).
    Last, the entries as Java's ZipInputStream reads them from the first byte, whether or not
    a zip was opened, where they were not read already."""
    read = _Read(ziplocal.Spans(data, budget.limits.total_bytes))
    yield from _listed(data, budget, read, quiet=quiet)
    if read.opened and not read.cut:
        yield from ziplocal.unlisted(read.spans, budget, read.counted)
    if not read.cut:
        yield from ziplocal.sequential(read.spans, budget, read.counted)


@dataclass(slots=True)
class _Read:
    spans: ziplocal.Spans  # where each listed entry's bytes are
    counted: list[int] = field(default_factory=lambda: [0])  # members so far
    opened: bool = False  # a zip was opened
    cut: bool = False  # over the member limit: nothing more is looked for


def _listed(data: bytes, budget: Budget, read: _Read, *, quiet: bool) -> Iterator[Member]:
    import zipfile  # noqa: PLC0415

    view, end, counted = memoryview(data), len(data), read.counted
    while True:
        records = _records(data, end)
        if counted[0] + records > budget.limits.members:
            yield Member("", None, over_members(budget, counted[0] + records))
            read.cut = True
            return
        try:
            archive = zipfile.ZipFile(_Window(view, end))
            entries = archive.infolist()
        except Exception as exc:  # BadZipFile, NotImplementedError, ...: hostile or corrupt
            if not quiet:
                yield Member("", None, f"corrupt zip archive: {exc}")
            return
        read.opened = True
        for info in entries:
            if budget.left <= 0:  # records on one stream re-read it for each (a review)
                yield Member("", None, over_total(budget))
                read.cut = True
                return
            counted[0] += 1
            read.spans.add(info.header_offset, info.compress_size)
            if counted[0] > budget.limits.members:  # pragma: no cover - records bound it first
                yield Member("", None, over_members(budget, counted[0]))
                return
            if not (info.filename.endswith("/") and info.file_size == 0):
                yield _zip_member(archive, info, budget, read.spans)
            elif (folder := _folder_data(info, budget, read.spans)) is not None:
                yield folder
        start = min((i.header_offset for i in entries), default=0)
        if not 0 < start < end or data.rfind(b"PK\x05\x06", 0, start) == -1:
            return
        # another archive before this one: a bonus (unzip reads the last one only), so what
        # is no zip there is not said (a program holding these 4 bytes, behind a zip)
        end, quiet = start, True


def _records(data: bytes, end: int) -> int:
    """At least how many central directory records zipfile parses of the zip ending at
    ``end`` (each costs memory, so this is checked first): the record signatures in the
    central directory its end record sizes, where zipfile reads it, or all before it."""
    at = data.rfind(b"PK\x05\x06", max(0, end - 22 - 65535), end)
    if at == -1:
        return 0
    size = int.from_bytes(data[at + 12 : at + 16], "little")
    start = 0 if size == 0xFFFFFFFF else max(0, at - size)  # zip64: counted from the start
    return data.count(b"PK\x01\x02", start, at)


class _Window(io.RawIOBase):
    """The first ``end`` bytes of ``data`` as a file zipfile reads, without a copy."""

    def __init__(self, data: memoryview, end: int) -> None:
        super().__init__()
        self._data, self._end, self._at = data, end, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._at

    def seek(self, offset: int, whence: int = 0) -> int:
        base = (0, self._at, self._end)[whence]
        if base + offset < 0:
            raise OSError("seek before the start")
        self._at = base + offset
        return self._at

    def readinto(self, buffer: Any) -> int:
        chunk = self._data[self._at : max(self._at, min(self._end, self._at + len(buffer)))]
        buffer[: len(chunk)] = chunk
        self._at += len(chunk)
        return len(chunk)


def _zip_member(archive: object, info: object, budget: Budget, spans: ziplocal.Spans) -> Member:
    """A listed member. Deflated ones, and any whose records disagree, are read as Java's
    ZipInputStream and `unzip -p` read them: from the local header, to the deflate stream's
    end, whatever the central record's sizes (zipfile cuts its output there, and a key past
    a central file size of 6, or past a flushed block the central record stops at, was
    missed: reviews). Others (stored, bzip2, lzma) through zipfile."""
    import zipfile  # noqa: PLC0415

    assert isinstance(archive, zipfile.ZipFile) and isinstance(info, zipfile.ZipInfo)  # noqa: S101
    name, data, at = info.filename, spans.data, info.header_offset
    if info.flag_bits & 0x1:
        return Member(name, None, "encrypted: its content cannot be read")
    if info.file_size > budget.limits.ratio * max(info.compress_size, 1):
        return Member(name, None, over_ratio(budget))
    if not ziplocal.is_local(data, at):
        return Member(name, None, "corrupt member: no local header where its record points")
    if info.compress_type == zipfile.ZIP_DEFLATED or ziplocal.disagree(data, at, info):
        member = ziplocal.read_local(spans, at, budget)
        if member is None:
            return Member(name, None, "corrupt member: its local header reads as no entry")
        return member._replace(name=name)
    try:
        with archive.open(info) as stream:
            member = _bounded(name, stream, budget, info.compress_size)
        spans.stored.add((at, ziplocal.data_start(data, at) + info.compress_size))
        return member
    except Exception as exc:  # zlib.error, LZMAError, BadZipFile, ...: a corrupt member
        return Member(name, None, f"corrupt member: {exc}")


def _folder_data(info: object, budget: Budget, spans: ziplocal.Spans) -> Member | None:
    """A folder's entry holding data nonetheless, read as its local header says: zipfile
    gives a folder nothing, Java and `unzip -p` give its data (a key there was missed: a
    review); None for a folder, as folders are."""
    import zipfile  # noqa: PLC0415

    assert isinstance(info, zipfile.ZipInfo)  # noqa: S101
    member = ziplocal.read_local(spans, info.header_offset, budget)
    if member is None or not member.data:
        return None
    return member._replace(name=info.filename)


def _bounded(name: str, stream: object, budget: Budget, compressed: int) -> Member:
    """Read a member in steps, stopping at the total and ratio limits whatever its header says."""
    parts: list[bytes] = []
    size = 0
    while chunk := stream.read(CHUNK):  # type: ignore[attr-defined]
        size += len(chunk)
        parts.append(chunk)
        if not budget.take(len(chunk)):
            return Member(name, b"".join(parts), over_total(budget))
        if size > budget.limits.ratio * max(compressed, 1):
            return Member(name, b"".join(parts), over_ratio(budget))
    # what was read counts when it made less (a stream of empty blocks makes nothing, and a
    # thousand records on it read it a thousand times: a review)
    if size < compressed and not budget.take(compressed - size):
        return Member(name, b"".join(parts), over_total(budget))
    return Member(name, b"".join(parts))


def tar_members(
    data: bytes, budget: Budget, *, charged: bool = False, leftovers: bool = False
) -> Iterator[Member]:
    """Members of a tar. ``charged``: its bytes already count against the budget (it came
    out of a compressed stream). ``leftovers``: also yield every byte no member holds."""
    import tarfile  # noqa: PLC0415

    held: list[tuple[int, int]] = []  # (start, end) of each member's data
    try:
        # ignore_zeros: past a block that is no header, on to the next one, as GNU tar does
        # (found by a review: tarfile stopped there quietly, and a key after it went unread)
        archive = tarfile.open(fileobj=io.BytesIO(data), mode="r:", ignore_zeros=True)  # noqa: SIM115
        for count, info in enumerate(archive, 1):
            if count > budget.limits.members:
                yield Member("", None, over_members(budget, count))
                break
            if info.issym() or info.islnk():
                yield Member(info.name, info.linkname.encode("utf-8", "surrogateescape"))
            elif info.isfile() or info.type not in tarfile.SUPPORTED_TYPES:  # GNU: a file
                # what the archive stores, up to the next header: a sparse member's size is
                # the file's, and sliced by it, its data took the members after it along
                end = min(info.offset_data + info.size, archive.offset)
                held.append((info.offset_data, end))
                content = data[info.offset_data : end]
                if not charged and not budget.take(len(content)):
                    yield Member(info.name, content, over_total(budget))
                    break
                yield Member(info.name, content)
    except Exception as exc:  # tarfile.TarError, ...: corrupt or truncated
        yield Member("", None, f"corrupt or truncated tar archive: {exc}")
    if leftovers:
        yield Member(OUTSIDE, _outside(data, held))


def _outside(data: bytes, held: list[tuple[int, int]]) -> bytes:
    """The bytes of ``data`` outside the given ranges, joined by newlines."""
    parts, position = [], 0
    for start, end in sorted(held):
        parts.append(data[position:start])
        position = max(position, end)
    parts.append(data[position:])
    return b"\n".join(p for p in parts if p.strip(b"\0"))
