"""What an audit reads, planned from one listing of the object store in pack order: the blobs,
commits and tags cut into runs (of about equal cost, one per reader; or, read in-process,
pieces of shrinking cost that the readers take in turn as each finishes one), the blobs over
the user's size cap, and the trees (read only to name objects that could not be read).
"""

from __future__ import annotations

import tempfile
from array import array
from bisect import bisect_left
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import accumulate, chain, compress, repeat
from operator import add, eq, mul, not_
from typing import IO, TYPE_CHECKING

from sgai_guard.models import Skipped
from sgai_guard.sources import bigreads, catfile, runread
from sgai_guard.sources.objectstream import MAX_MESSAGE_OBJECT, over_cap, too_large
from sgai_guard.sources.repo import Repository

if TYPE_CHECKING:
    import subprocess


# The default listing: lines of four words, filed a MiB at a time at C speed (a Python loop
# over sympy's 642 k lines took 0.55-0.7 CPU-s with its reads; this, 0.45). Sizes cost git
# 0.4 of its 1.0 CPU-s (it inflates each delta's first bytes), but without them runs were cut
# 42:58 (a run's cost grows with its objects' sizes, 42 times their packed size on sympy).
_FAST = "--batch-check=%(objecttype) %(objectsize) %(objectsize:disk) %(objectname)"
_SIZED = "--batch-check=%(objectname) %(objecttype) %(objectsize)"
_DISK = " %(objectsize:disk)"  # found through the reverse index: only where it is trusted
_KINDS = frozenset((b"blob", b"commit", b"tag", b"tree"))
_MESSAGES = frozenset((b"commit", b"tag"))
# A loose object's header may claim any size up to 2^64 - 1 (git lists what it says): a block
# with a size of 16 digits or more, or a commit or tag of 7 or more (maybe over the 1 MiB a
# message may have), is filed line by line, where sizes are bounded.
_LONGEST = 15
_LONGEST_MESSAGE = 6
_HUGE = 1 << 56  # a larger size is counted as this much (weights are 64-bit, 11 x this fits)
_ID_LENGTHS = frozenset((40, 64))
_CHUNK = 1 << 20
# Pieces: each is this share of what is left per reader (1/2: a reader's first piece is a
# quarter of the whole on 2 cores), and none below 1/_SMALLEST of a reader's share. The cost
# model misjudged runs by up to 40 % (requests: one reader idle 0.4 s of 1.0); taken in
# turn, the last pieces even it out. With a smallest piece of 1/32 of the whole (16 here
# until 2026-12-04), sympy's readers ended 0.06-0.18 s apart, one core idle meanwhile;
# with 1/128, 0.03 s (a piece costs nothing much: a number on a pipe, a few bases re-read).
_SHRINK = 2
_SMALLEST = 64
_MOST_PIECES = 512  # however many readers (each piece's number goes down a pipe: readers)


Ids = set[bytes]


@dataclass(frozen=True, slots=True)
class Cost:
    """What reading an object costs, in bytes of its size: measured on real histories, these
    balance the runs best."""

    disk: int  # per byte of its packed size (inflating, applying deltas)
    each: int  # per object, whatever its size
    # cut into pieces the readers take in turn (see ``_shares``), not one run per reader:
    # in-process, where a reader's cost strays most from this model and a piece costs no git
    pieces: bool = False


# Through `git cat-file`: about its size to write out and screen, plus a few times its packed
# size to inflate. In-process (sources.packread), the Python work of each object counts too:
# on sympy, 12 us an object against 0.6 ms a MiB screened and 6 ms a packed MiB inflated.
THROUGH_GIT = Cost(disk=3, each=0)
IN_PROCESS = Cost(disk=10, each=20_000, pieces=True)


@dataclass(slots=True)
class Plan:
    runs: list[bytes] = field(default_factory=list)  # object ids, one a line, per reader
    readers: int = 1  # how many read the runs (more runs than readers: taken in turn)
    skipped: list[Skipped] = field(default_factory=list)  # unreadable, or over the size cap
    trees: list[bytes] = field(default_factory=list)  # tree ids, one a line
    tree_sizes: list[bytes] = field(default_factory=list)  # as listed: digits, space-separated
    blobs: int = 0
    error: str = ""  # why the listing stopped early, if it did
    # where each object of each run starts in the store's one pack (0: not in it), when the
    # listing told it (see Hints); None: the readers look each id up in the packs' indexes
    offsets: list[array[int]] | None = None
    # where each of ``trees`` starts in that pack (0: not in it) and its packed size, told
    # the same way: naming reads the trees' own entries there (sources.treescan)
    tree_places: tuple[array[int], array[int]] | None = None

    @property
    def tree_records(self) -> array[int]:
        """How long each tree's answer from `cat-file --batch` is: "<oid> tree <size>\n<data>
        \n" (worked out only when something is to be named: 0.12 CPU-s on sympy)."""
        header = len(self.trees[0]) - 1 + len(" tree \n\n") if self.trees else 0
        digits = b" ".join(self.tree_sizes).split()
        sizes = map(min, map(int, digits), repeat(_HUGE))
        return array("q", map(add, sizes, map(add, map(len, digits), repeat(header))))


@dataclass(slots=True)
class Hints:
    """Where each listed object starts in the store's only pack, from the listing's packed
    sizes: git lists the loose objects, then the pack's in offset order, each with its distance
    to the next, so they add up from the first entry's offset, 12. The readers then need no
    index of the pack by offset (sorting sympy's took 0.45 CPU-s before any reading). Used only
    where git's order is the pack's own (no `.rev` file, or one checked to give that order:
    packindex.revs_agree), no id has two copies (git would list one copy only, and the sizes
    would no longer add up), and the listing adds up: from the entry at 12, as many objects as
    the index holds, ending where the pack's entries end, none 0 bytes long. git gives each of
    the ids a hostile index puts at one offset 0 bytes or the whole entry, as its search lands:
    an attacker review balanced the two, every place after the first such group was one entry
    early, and a key's blob was read by no one (exit 0). Without a 0, a repeated offset makes
    the sizes add up to more than the pack holds."""

    first: bytes  # the id (hex) of the entry at offset 12
    end: int  # where the pack's entries end
    count: int  # how many the index holds
    at: int = 0  # where the next listed object starts; 0: before the pack; -1: given up
    listed: int = 0  # objects listed from the pack
    values: array[int] = field(default_factory=lambda: array("q"))
    tree_at: array[int] = field(default_factory=lambda: array("q"))  # trees' offsets
    tree_disk: array[int] = field(default_factory=lambda: array("q"))  # and packed sizes

    def add(self, oids: list[bytes], packed: list[int], read: list[bool]) -> None:
        """A block's ids and packed sizes, and which of its objects are read (the others
        are trees)."""
        if self.at < 0:
            return
        begin = 0
        if self.at == 0:  # loose objects: no place in the pack
            begin = oids.index(self.first) if self.first in oids else len(oids)
            loose_trees = begin - sum(read[:begin])
            self.values.extend(repeat(0, begin - loose_trees))
            self.tree_at.extend(repeat(0, loose_trees))
            self.tree_disk.extend(repeat(0, loose_trees))
            if begin == len(oids):
                return
            self.at = 12
        if 0 in packed[begin:]:  # ids an index puts at one offset (see below): given up
            self.stop()
            return
        starts = list(accumulate(packed[begin:], initial=self.at))
        self.at = starts.pop()
        self.listed += len(starts)
        self.values.extend(compress(starts, read[begin:]))
        trees = list(map(not_, read[begin:]))
        self.tree_at.extend(compress(starts, trees))
        self.tree_disk.extend(compress(packed[begin:], trees))

    def whole(self) -> bool:
        return self.at == self.end and self.listed == self.count

    def stop(self) -> None:
        self.at = -1


def plan(
    repo: Repository,
    max_size: int | None,
    readers: int,
    cost: Cost = THROUGH_GIT,
    *,
    pack_order: bool = True,
    read_also: frozenset[bytes] = frozenset(),
    hints: Hints | None = None,
    early: Early | None = None,
) -> Plan:
    """One `cat-file --batch-all-objects --batch-check` pass, cut into ``readers`` runs (or,
    as ``cost`` says, into pieces the readers take in turn: see ``_shares``); in
    pack order (far faster to read), or in id order where git's own idea of pack order is
    not to be trusted (packindex.revs_agree). ``read_also``: ids (binary) with more than one
    copy, read whatever type the listing gives them: git takes the type from the first copy's
    header, so a planted broken copy labelled "tree" would hide a blob from the readers.
    Commits and tags too large to scan are said here, never read (the readers say so too, of
    any the listing could not size). ``hints``: the store's one pack, whose objects' offsets
    the listing may tell (see Hints). ``early``: the listing, started already with the same
    ``max_size`` and ``pack_order`` (see ``start``: whoever may have to stop it knows it),
    and what was read of it so far; else it is started here."""
    fast = pack_order and max_size is None
    hints = hints if fast and not read_also else None  # two copies: git lists one
    listing = early.proc if early is not None else start(repo, max_size, pack_order)
    planned, ids, weights = Plan(), list[bytes](), array("q")
    twice = {oid.hex().encode() for oid in read_also}
    head = early.head if early is not None else []
    for chunk in _chunks(catfile.pipe(listing.stdout), head):
        if not fast or not _fast(planned, chunk, ids, weights, cost, twice, hints):
            if hints is not None:
                hints.stop()
            for line in chunk.splitlines():
                _line(planned, line.split(), max_size, cost, read_also, ids, weights, fast)
    planned.error = catfile.complaint(listing, "git cat-file failed", strict=True)
    planned.readers = max(1, readers)
    bounds = _bounds(weights, readers, cost.pieces)
    planned.runs = _runs(ids, bounds)
    if hints is not None and hints.whole() and len(hints.values) == len(ids) and not planned.error:
        planned.offsets = [hints.values[start:end] for start, end in bounds]
        if len(hints.tree_at) == len(planned.trees):
            planned.tree_places = (hints.tree_at, hints.tree_disk)
    return planned


# Objects git cannot answer for that ``plan_each`` asks past, one at a time; more, and the
# listing stops there (the audit is then incomplete: said, never passed).
_MOST_RESTARTS = 256


def plan_each(
    repo: Repository,
    max_size: int | None,
    readers: int,
    cost: Cost = THROUGH_GIT,
    *,
    read_also: frozenset[bytes] = frozenset(),
    started: Callable[[subprocess.Popen[bytes]], None] | None = None,
    stopped: Callable[[], bool] = lambda: False,
) -> Plan:
    """``plan`` for a store git cannot list whole: `--batch-all-objects` stops at the first
    object whose header it cannot parse (found by a review: one planted loose file of type
    "trea", and no key was reported, "Scanned 0 files"). git lists the ids alone; each is
    then asked for, in id order, and one that git stops at is said unreadable and the rest
    asked again. ``started`` is told of each git; ``stopped`` says the audit was abandoned."""
    planned, ids, weights = Plan(), list[bytes](), array("q")
    listed = ["--batch-all-objects", "--batch-check=%(objectname)"]
    names, failed = _asked(repo, listed, [], started)
    start = restarts = 0
    while start < len(names) and not stopped():
        answers, error = _asked(repo, [_SIZED, "--buffer"], names[start:], started)
        for answer in answers:
            _line(planned, answer.split(), max_size, cost, read_also, ids, weights, False)
        start += len(answers)
        if start < len(names) and restarts < _MOST_RESTARTS:  # git stopped at this object
            planned.skipped.extend(_unreadable(names[start]))
            start, restarts = start + 1, restarts + 1
        elif start < len(names) or error:
            left = f" ({len(names) - start} of {len(names)} objects not read)"
            failed = failed or (error or "git cat-file stopped") + left
            break
    planned.error = failed or ("the listing was abandoned" if start < len(names) else "")
    planned.readers = max(1, readers)
    planned.runs = _runs(ids, _bounds(weights, readers, cost.pieces))
    return planned


def _asked(
    repo: Repository,
    args: list[str],
    asked: list[bytes],
    started: Callable[[subprocess.Popen[bytes]], None] | None,
) -> tuple[list[bytes], str]:
    """The whole lines (without their ends) `git cat-file` answers to ``asked`` (ids), and
    its complaint ("" when it succeeded)."""
    with tempfile.TemporaryFile() as given:
        given.write(b"".join(oid + b"\n" for oid in asked))
        given.seek(0)
        proc = catfile.popen(["cat-file", *args], repo.path, stdin=given)
    if started is not None:
        started(proc)
    lines = catfile.pipe(proc.stdout).read().split(b"\n")[:-1]  # a cut last line is left
    return lines, catfile.complaint(proc, "git cat-file failed", strict=True)


@dataclass(slots=True)
class Early:
    """A listing started before its plan could be made (sources.storeplan), and the blocks
    of its output read meanwhile, so that git never waits on a full pipe."""

    proc: subprocess.Popen[bytes]
    head: list[bytes] = field(default_factory=list)

    def drain(self, busy: Callable[[], bool]) -> None:
        """Read git's output a MiB at a time for as long as ``busy`` says (or to its end)."""
        for _, window in bigreads.windows(catfile.pipe(self.proc.stdout).fileno(), _CHUNK, 0):
            self.head.append(bytes(window))
            if not busy():
                return


def start(
    repo: Repository,
    max_size: int | None,
    pack_order: bool,
    started: Callable[[subprocess.Popen[bytes]], None] | None = None,
) -> subprocess.Popen[bytes]:
    """The listing's git, as ``plan`` asks for it; ``started`` is told of it at once."""
    fast = pack_order and max_size is None
    wanted = _FAST if fast else _SIZED + _DISK if pack_order else _SIZED
    order = ["--unordered"] if pack_order else []
    listing = catfile.popen(["cat-file", "--batch-all-objects", wanted, *order], repo.path)
    if started is not None:  # whoever may have to stop it (sources.storeplan)
        started(listing)
    runread.widen(catfile.pipe(listing.stdout))
    return listing


def _chunks(stream: IO[bytes], head: list[bytes]) -> Iterator[bytes]:
    """The listing in blocks of whole lines, about a MiB each, read as bigreads reads (a
    read per few KiB git wrote cost sympy's listing 0.3 CPU-s); git writes the next MiB
    into its wide pipe while one is filed. ``head``: what was read of it already."""
    rest = b""
    read = bigreads.windows(stream.fileno(), _CHUNK, 0)
    for _, window in chain(((0, block) for block in head), read):
        block = rest + window
        cut = block.rfind(b"\n") + 1
        rest = block[cut:]
        if cut:
            yield block[:cut]
    if rest:
        yield rest + b"\n"


def _fast(
    planned: Plan,
    chunk: bytes,
    ids: list[bytes],
    weights: array[int],
    cost: Cost,
    twice: Ids,
    hints: Hints | None,
) -> bool:
    """Files a block of the default listing, at C speed; False when a line has another shape
    ("<oid> missing"): the block is then filed line by line."""
    words = chunk.split()
    kinds, sizes, packed, oids = words[0::4], words[1::4], words[2::4], words[3::4]
    if (
        len(words) != 4 * chunk.count(b"\n")
        or not set(kinds) <= _KINDS
        or not all(map(bytes.isdigit, sizes))
        or not all(map(bytes.isdigit, packed))
        or not set(map(len, oids)) <= _ID_LENGTHS
        or max(map(len, sizes), default=0) > _LONGEST
        or max(map(len, packed), default=0) > _LONGEST
        or max(map(len, compress(sizes, map(_MESSAGES.__contains__, kinds))), default=0)
        > _LONGEST_MESSAGE
    ):
        return False
    trees = list(map(eq, kinds, repeat(b"tree")))
    read = list(map(not_, trees))
    planned.blobs += kinds.count(b"blob")
    planned.trees.extend(map(add, compress(oids, trees), repeat(b"\n")))
    planned.tree_sizes.append(b" ".join(compress(sizes, trees)))
    ids.extend(compress(oids, read))
    packed_sizes = list(map(int, packed))
    if hints is not None:
        hints.add(oids, packed_sizes, read)
    inflated = map(mul, compress(packed_sizes, read), repeat(cost.disk))
    weights.extend(map(add, map(add, map(int, compress(sizes, read)), inflated), repeat(cost.each)))
    if twice:  # a tree with another copy is read too (see ``plan``; no hints then)
        again = [oid for oid in compress(oids, trees) if oid in twice]
        ids.extend(again)
        weights.extend(repeat(cost.each, len(again)))
    return True


def _line(
    planned: Plan,
    fields: list[bytes],
    max_size: int | None,
    cost: Cost,
    read_also: frozenset[bytes],
    ids: list[bytes],
    weights: array[int],
    fast: bool,
) -> None:
    """Files one listed object, of either shape."""
    if fast and len(fields) == 4 and fields[0] in _KINDS:
        fields = [fields[3], fields[0], fields[1], fields[2]]
    weight = _take(planned, fields, max_size, cost)
    if weight is None and read_also and _second_look(fields, read_also):
        weight = cost.each + min(int(fields[2]), _HUGE)
    if weight is not None:
        ids.append(fields[0])
        weights.append(weight)


def _take(planned: Plan, fields: list[bytes], max_size: int | None, cost: Cost) -> int | None:
    """Files one listed object in the plan; its weight when a reader must read it."""
    if len(fields) not in (3, 4) or not fields[2].isdigit():  # "<oid> missing"
        planned.skipped.extend(_unreadable(fields[0]) if fields else ())
        return None
    oid, kind, size = fields[0], fields[1], int(fields[2])
    if kind == b"tree":
        planned.trees.append(oid + b"\n")
        planned.tree_sizes.append(fields[2])
        return None
    if kind == b"blob":
        planned.blobs += 1
        if max_size is not None and size > max_size:
            planned.skipped.extend(over_cap(oid.decode(), size, max_size))
            return None
    elif size > MAX_MESSAGE_OBJECT:  # never read (git would write it all): said here
        planned.skipped.extend(too_large(oid.decode("ascii", "replace"), kind.decode()))
        return None
    packed = int(fields[3]) if len(fields) == 4 and fields[3].isdigit() else size // 4
    return min(size, _HUGE) + cost.disk * min(packed, _HUGE) + cost.each


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


def _cut(ids: list[bytes], weights: Sequence[int], parts: int) -> list[bytes]:
    """``ids`` in ``parts`` contiguous runs of about equal weight (none empty), one a line."""
    return _runs(ids, _bounds(weights, parts))


def _runs(ids: list[bytes], bounds: list[tuple[int, int]]) -> list[bytes]:
    return [b"\n".join(ids[start:end]) + b"\n" for start, end in bounds]


def _shares(total: int, readers: int) -> list[int]:
    """Where pieces for ``readers`` end, in weight out of ``total``: each piece is 1/_SHRINK
    of what is left per reader, none smaller than 1/_SMALLEST of a reader's share (guided
    self-scheduling). 2 readers: 16 pieces, from a quarter of the whole down to a 128th."""
    smallest = max(total // (_SMALLEST * readers), total // _MOST_PIECES) or 1
    done, ends = 0, list[int]()
    while True:
        done += max(-(-(total - done) // (_SHRINK * readers)), smallest)
        if done >= total - smallest // 2:
            return ends
        ends.append(done)


def _bounds(weights: Sequence[int], parts: int, pieces: bool = False) -> list[tuple[int, int]]:
    """Where ``parts`` contiguous runs of about equal weight start and end (none empty); with
    ``pieces``, runs of shrinking weight for ``parts`` readers (see ``_shares``)."""
    reached = list(accumulate(weights))
    if not reached or not reached[-1]:  # weightless: cut by count
        reached = list(range(1, len(weights) + 1))
    total, ends = (reached[-1] if reached else 0), list[int]()
    targets = (
        _shares(total, parts)
        if pieces and parts > 1
        else [-(-total * part // parts) for part in range(1, parts)]
    )
    for target in targets:
        end = bisect_left(reached, target) + 1
        if end < len(weights) and end > (ends[-1] if ends else 0):
            ends.append(end)
    bounds = zip([0, *ends], [*ends, len(weights)], strict=True)
    return [(start, end) for start, end in bounds if end > start]
