"""Opening containers as blobs stream through the engine, whatever their source: each blob is
scanned as it is, and one that starts with a container's magic bytes is opened as well, its
members scanned as blobs named `container!member` (nested: `a.zip!b.tar.gz!c/.env`).

A container that arrives in pieces (a large file or blob) is put back together first, up to
the archive size limit. What a limit cuts short is listed as not fully scanned (exit 3).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from functools import cache

from sgai_guard.detection import containers
from sgai_guard.detection.containers import Budget, Limits
from sgai_guard.detection.magic import last_bytes, magic, zip_end
from sgai_guard.models import Blob, Passed, Skipped

_STEMS = (".gz", ".tgz", ".bz2", ".xz", ".txz", ".tbz2")


def expanded(
    items: Iterable[Blob | Skipped | Passed], limits: Limits, opened: set[str] | None = None
) -> Iterator[Blob | Skipped | Passed]:
    """``items`` with every container's members after it; ``opened`` collects the paths of
    the containers that were opened."""
    opened = set() if opened is None else opened
    large = _Large(limits)
    for item in items:
        yield item
        if isinstance(item, (Skipped, Passed)) or limits.depth < 1:
            continue
        whole = item if item.part is None else large.add(item)
        if isinstance(whole, Skipped):
            yield whole
        elif whole is not None and magic(whole.data):
            opened.add(whole.path)
            yield from _open(whole, whole.data, limits, 1, Budget(limits), opened)


class _Large:
    """Reassembles a large container read in pieces (models.Part), up to the archive limit."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.pieces: list[bytes] | None = None  # the pieces of a large container so far
        self.tail = b""  # else the last bytes so far (it may end as a zip does)

    def add(self, piece: Blob) -> Blob | Skipped | None:
        """The whole container once its last piece is in; a Skipped past the limit."""
        part = piece.part
        if part is None:
            return piece
        if part.first:
            self.pieces, self.tail = [] if magic(piece.data) else None, b""
        if self.pieces is None:
            self.tail = last_bytes(self.tail, piece.data[: part.end])
            return _zip_behind(piece, self.tail) if part.last else None
        self.pieces.append(piece.data[: part.end])
        if sum(map(len, self.pieces)) > self.limits.total_bytes:
            self.pieces = None
            limit = self.limits.total_bytes
            reason = f"an archive larger than {limit} bytes: its members were not read"
            return Skipped(piece.path, f"not fully scanned: {reason}", error=True)
        if not part.last:
            return None
        whole, self.pieces = b"".join(self.pieces), None
        return piece._replace(data=whole, part=None)


def _zip_behind(last: Blob, tail: bytes) -> Skipped | None:
    """The last piece of a large file that did not start as a container, when it ends as a
    zip does (a self-extracting program, a jar with a launcher): its pieces were not kept, so
    its members were not read; said, not passed over (found by a review)."""
    if not zip_end(tail):
        return None
    reason = (
        "it ends as a zip archive does, after something else (a self-extracting program?): "
        "a file this large is put back together only when it starts as an archive, so its "
        "members were not read"
    )
    return Skipped(last.path, f"not fully scanned: {reason}", error=True)


def _open(
    blob: Blob, data: bytes, limits: Limits, depth: int, budget: Budget, opened: set[str]
) -> Iterator[Blob | Skipped]:
    """The members of one container, and of the containers in it. Parsing hostile bytes must
    never end the scan: whatever escapes the parsers is one "not fully scanned" entry."""
    try:
        yield from _members(blob, data, limits, depth, budget, opened)
    except Exception as exc:  # any parser failure on hostile input
        yield Skipped(blob.path, f"not fully scanned: unreadable archive ({exc})", error=True)


def _members(
    blob: Blob, data: bytes, limits: Limits, depth: int, budget: Budget, opened: set[str]
) -> Iterator[Blob | Skipped]:
    kind = magic(data) or ""
    # one loader each for the whole container, so the old archive is opened once
    before, after = _members_of(blob.prior, limits), _members_of(blob.after, limits)
    for member in containers.members(kind, data, stem(blob.path), budget):
        path = f"{blob.path}!{member.name}" if member.name else blob.path
        if member.data is not None:
            child = _child(blob, path, member.data, member.name, (before, after))
            yield child
            if member.name != containers.OUTSIDE and magic(member.data):
                if depth < limits.depth:
                    opened.add(path)
                    yield from _open(child, member.data, limits, depth + 1, budget, opened)
                else:
                    reason = f"nested more than {limits.depth} containers deep: not opened"
                    yield Skipped(path, f"not fully scanned: {reason}", error=True)
        if member.problem:
            yield Skipped(path, f"not fully scanned: {member.problem}", error=True)


_Loader = Callable[[], tuple[bytes, ...]] | None


def _child(blob: Blob, path: str, data: bytes, name: str, old: tuple[_Loader, _Loader]) -> Blob:
    return Blob(
        path,
        data,
        commit=blob.commit,
        blob_id=blob.blob_id,
        tracked_ignored=blob.tracked_ignored,
        status=blob.status,
        prior=old[0],
        after=old[1],
        also=tuple((f"{p}!{name}", c) for p, c in blob.also),
    )


def stem(path: str) -> str:
    """What a single compressed stream's content is called: `logs/app.txt.gz` -> app.txt."""
    base = path.rsplit("!", 1)[-1].rsplit("/", 1)[-1]
    for suffix in _STEMS:
        if base.lower().endswith(suffix):
            return base[: -len(suffix)] + (".tar" if suffix.startswith(".t") else "")
    return base or "content"


def _members_of(
    load: Callable[[], tuple[bytes, ...]] | None, limits: Limits
) -> Callable[[], tuple[bytes, ...]] | None:
    """For a member: the contents of every member of what the container's path held before
    (or after), so "already committed" and "removed" mean the same inside archives."""
    if load is None:
        return None

    @cache  # opened once per container, however many of its members have candidates
    def members() -> tuple[bytes, ...]:
        out: list[bytes] = []
        budget = Budget(limits)  # one budget for all of them: memory stays bounded
        for old in load():
            kind = magic(old)
            if kind:
                try:
                    found = list(containers.members(kind, old, "", budget))
                except Exception:  # noqa: S112 - unreadable: nothing was committed from it
                    continue
                out += [m.data for m in found if m.data is not None]
        return tuple(out)

    return members
