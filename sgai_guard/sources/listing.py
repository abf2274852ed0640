"""What an audit reads, planned from one listing of the object store in pack order: the blobs,
commits and tags cut into runs of about equal cost (one per reader), the blobs over the user's
size cap, and the trees (read only to name objects that could not be read).
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from sgai_guard.models import Skipped
from sgai_guard.sources import catfile
from sgai_guard.sources.objectstream import MAX_MESSAGE_OBJECT, over_cap
from sgai_guard.sources.repo import Repository

_FORMAT = "--batch-check=%(objectname) %(objecttype) %(objectsize)"
_DISK = " %(objectsize:disk)"  # found through the reverse index: only where it is trusted


@dataclass(frozen=True, slots=True)
class Cost:
    """What reading an object costs, in bytes of its size: measured on real histories, these
    balance the runs best."""

    disk: int  # per byte of its packed size (inflating, applying deltas)
    each: int  # per object, whatever its size


# Through `git cat-file`: about its size to write out and screen, plus a few times its packed
# size to inflate. In-process (sources.packread), the Python work of each object counts too:
# on sympy, 12 us an object against 0.6 ms a MiB screened and 6 ms a packed MiB inflated.
THROUGH_GIT = Cost(disk=3, each=0)
IN_PROCESS = Cost(disk=10, each=20_000)


@dataclass(slots=True)
class Plan:
    runs: list[bytes] = field(default_factory=list)  # object ids, one a line, per reader
    skipped: list[Skipped] = field(default_factory=list)  # unreadable, or over the size cap
    trees: list[bytes] = field(default_factory=list)  # tree ids, one a line
    # how long each tree's answer from `cat-file --batch` is: "<oid> tree <size>\n<data>\n"
    tree_records: array[int] = field(default_factory=lambda: array("q"))
    blobs: int = 0
    error: str = ""  # why the listing stopped early, if it did


def plan(
    repo: Repository,
    max_size: int | None,
    readers: int,
    cost: Cost = THROUGH_GIT,
    *,
    pack_order: bool = True,
    read_also: frozenset[bytes] = frozenset(),
) -> Plan:
    """One `cat-file --batch-all-objects --batch-check` pass, cut into ``readers`` runs; in
    pack order (far faster to read), or in id order where git's own idea of pack order is
    not to be trusted (packindex.revs_agree). ``read_also``: ids (binary) with more than one
    copy, read whatever type the listing gives them: git takes the type from the first copy's
    header, so a planted broken copy labelled "tree" would hide a blob from the readers."""
    order = ["--unordered"] if pack_order else []
    wanted = _FORMAT + _DISK if pack_order else _FORMAT
    listing = catfile.popen(["cat-file", "--batch-all-objects", wanted, *order], repo.path)
    planned, lines, weights = Plan(), [], []
    for line in catfile.pipe(listing.stdout):
        fields = line.split()
        weight = _take(planned, fields, max_size, cost)
        if weight is None and read_also and _second_look(fields, read_also):
            weight = cost.each + int(fields[2])
        if weight is not None:
            lines.append(fields[0] + b"\n")
            weights.append(weight)
    planned.error = catfile.complaint(listing, "git cat-file failed")
    planned.runs = _cut(lines, weights, readers)
    return planned


def _take(planned: Plan, fields: list[bytes], max_size: int | None, cost: Cost) -> int | None:
    """Files one listed object in the plan; its weight when a reader must read it."""
    if len(fields) not in (3, 4) or not fields[2].isdigit():  # "<oid> missing"
        planned.skipped.extend(_unreadable(fields[0]) if fields else ())
        return None
    oid, kind, size = fields[0], fields[1], int(fields[2])
    if kind == b"tree":
        planned.trees.append(oid + b"\n")
        planned.tree_records.append(len(oid) + 6 + len(fields[2]) + 1 + size + 1)
        return None
    if kind == b"blob":
        planned.blobs += 1
        if max_size is not None and size > max_size:
            planned.skipped.extend(over_cap(oid.decode(), size, max_size))
            return None
    elif size > MAX_MESSAGE_OBJECT:  # not read whole: said, and the audit is incomplete
        name = oid.decode("ascii", "replace")
        reason = f"a {kind.decode()} object larger than {MAX_MESSAGE_OBJECT} bytes: not scanned"
        planned.skipped.append(Skipped(f"{kind.decode()} {name[:12]}", reason, True, name))
        return None
    packed = int(fields[3]) if len(fields) == 4 else size // 4
    return size + cost.disk * packed + cost.each


def _second_look(fields: list[bytes], read_also: frozenset[bytes]) -> bool:
    """A listed tree, commit or tag whose id has another copy (see ``plan``)."""
    if len(fields) < 3 or not fields[2].isdigit() or fields[1] == b"blob":
        return False
    try:
        return bytes.fromhex(fields[0].decode("ascii")) in read_also
    except ValueError:
        return False


def _unreadable(oid: bytes) -> Iterator[Skipped]:
    name = oid.decode("ascii", "replace")
    yield Skipped(f"object {name[:12]}", "unreadable object", error=True, blob_id=name)


def _cut(lines: list[bytes], weights: Sequence[int], parts: int) -> list[bytes]:
    """``lines`` in ``parts`` contiguous runs of about equal weight (none empty)."""
    runs: list[bytes] = []
    total, start, acc = sum(weights), 0, 0
    for n, weight in enumerate(weights):
        acc += weight
        if acc * parts >= total * (len(runs) + 1) and len(runs) < parts - 1:
            runs.append(b"".join(lines[start : n + 1]))
            start = n + 1
    if start < len(lines):
        runs.append(b"".join(lines[start:]))
    return runs
