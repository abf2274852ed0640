"""Zip and tar archives, in memory, held to the limits of sgai_guard.detection.containers."""

from __future__ import annotations

from collections.abc import Iterator

from sgai_guard.detection.containers import (
    CHUNK,
    OUTSIDE,
    Budget,
    Member,
    over_members,
    over_ratio,
    over_total,
)


def zip_members(data: bytes, budget: Budget) -> Iterator[Member]:
    import io  # noqa: PLC0415
    import zipfile  # noqa: PLC0415

    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = archive.infolist()
    except Exception as exc:  # BadZipFile, NotImplementedError, ...: hostile or corrupt input
        yield Member("", None, f"corrupt zip archive: {exc}")
        return
    for index, info in enumerate(entries):
        if index == budget.limits.members:
            yield Member("", None, over_members(budget, len(entries)))
            return
        if not info.filename.endswith("/"):
            yield _zip_member(archive, info, budget)
    start = min((i.header_offset for i in entries), default=0)
    if data.rfind(b"PK\x05\x06", 0, start) != -1:  # another archive before this one
        yield from zip_members(data[:start], budget)


def _zip_member(archive: object, info: object, budget: Budget) -> Member:
    import zipfile  # noqa: PLC0415

    assert isinstance(archive, zipfile.ZipFile) and isinstance(info, zipfile.ZipInfo)  # noqa: S101
    name = info.filename
    if info.flag_bits & 0x1:
        return Member(name, None, "encrypted: its content cannot be read")
    if info.file_size > budget.limits.ratio * max(info.compress_size, 1):
        return Member(name, None, over_ratio(budget))
    try:
        with archive.open(info) as stream:
            return _bounded(name, stream, budget, info.compress_size)
    except Exception as exc:  # zlib.error, LZMAError, BadZipFile, ...: a corrupt member
        return Member(name, None, f"corrupt member: {exc}")


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
    return Member(name, b"".join(parts))


def tar_members(
    data: bytes, budget: Budget, *, charged: bool = False, leftovers: bool = False
) -> Iterator[Member]:
    """Members of a tar. ``charged``: its bytes already count against the budget (it came
    out of a compressed stream). ``leftovers``: also yield every byte no member holds."""
    import io  # noqa: PLC0415
    import tarfile  # noqa: PLC0415

    held: list[tuple[int, int]] = []  # (start, end) of each member's data
    try:
        archive = tarfile.open(fileobj=io.BytesIO(data), mode="r:")  # noqa: SIM115
        for count, info in enumerate(archive, 1):
            if count > budget.limits.members:
                yield Member("", None, over_members(budget, count))
                break
            if info.issym() or info.islnk():
                yield Member(info.name, info.linkname.encode("utf-8", "surrogateescape"))
            elif info.isfile():
                held.append((info.offset_data, info.offset_data + info.size))
                content = data[info.offset_data : info.offset_data + info.size]
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
