"""Names for objects an audit could not read (missing, damaged, or over the size cap): the
paths history gives them, found in the trees that hold them, and only when there is
something to name.

Where the store is one pack the readers read in-process, the trees that may hold a wanted id
are told from the pack's own entries, without applying a delta (sources.treescan): a few
dozen of sympy's 362 k, read whole through git. Any id none of them names, and every id of
any other store, costs one read of every tree: the trees' text is searched as one stream, a
MiB at a time, for the wanted ids; where each tree starts in git's output follows from the
listing's sizes, so a hit tells its tree without parsing the hundreds of thousands that hold
nothing. Only the trees that hold a wanted id are then read entry by entry."""

from __future__ import annotations

from array import array
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from itertools import accumulate

from sgai_guard.detection.prefilter import Prefilter, parts_hit
from sgai_guard.models import is_object_id
from sgai_guard.sources import bigreads, gitcmd, runread, treescan
from sgai_guard.sources.walk import Walk

_CHUNK = 1 << 20
# More ids than this (a blobless clone lacks every blob): every tree is read entry by entry,
# which costs the same whatever their number; the streamed search costs a search per id held.
_MANY = 64
# git's largest trees are a few MiB; a tree claiming more is planted. It is left out of what
# git is asked for: claiming a TiB, git dies allocating it and every tree after it goes unread
# (no names at all); claiming a GiB, git pads it with zeros, a GiB through the pipe twice.
_LARGEST_TREE = 1 << 27
# Trees git stopped inside that naming asks past (each costs a git and the rest of the list
# written again); more, and the rest go unnamed: named by their ids, reported all the same.
_MOST_RESTARTS = 64


def paths_of(
    repo: str,
    walk: Walk,
    trees: list[bytes],
    records: Sequence[int],
    oids: Iterable[str],
    stop: Callable[[], bool] = lambda: False,
    packed: treescan.Packed | None = None,
) -> dict[str, set[str]]:
    """For each of ``oids`` (hex), the paths of the tree entries that name it. ``trees`` and
    ``records``: every tree id (one a line) and the length of its answer from `cat-file
    --batch`, from the listing (listing.Plan). ``stop`` says the audit was abandoned: the
    names found so far are returned. ``packed``: where the trees are in the store's only
    pack: the few trees that may hold the ids are found there (sources.treescan), and only
    the ids none of them names cost a read of every tree."""
    wanted = {bytes.fromhex(oid): oid for oid in oids if is_object_id(oid)}
    if not wanted or not trees:
        return {}
    width = len(next(iter(wanted)))
    named: dict[str, set[str]] = {}
    near = _near(packed, trees, records, wanted, stop) if width == treescan.ID else None
    if near is not None:
        named = _named(repo, walk, [trees[n] for n in near], wanted, width, stop)
        wanted = {raw: oid for raw, oid in wanted.items() if oid not in named}
        if not wanted or stop():
            return named
    trees, records = _plausible(trees, records)
    found = _holding_trees(repo, trees, records, wanted, stop) if len(wanted) <= _MANY else None
    candidates = trees if found is None else [trees[n] for n in sorted(found)]
    named.update(_named(repo, walk, candidates, wanted, width, stop))
    return named


def _near(
    packed: treescan.Packed | None,
    trees: list[bytes],
    records: Sequence[int],
    wanted: dict[bytes, str],
    stop: Callable[[], bool],
) -> list[int] | None:
    """The trees that may hold a wanted id, from the pack (None: it cannot tell), without
    those claiming more than any tree holds (see _plausible)."""
    if packed is None or len(records) != len(trees) or len(wanted) > _MANY:
        return None
    near = treescan.candidates(packed, trees, list(wanted), stop)
    return None if near is None else [n for n in near if records[n] <= _LARGEST_TREE]


def _named(
    repo: str,
    walk: Walk,
    candidates: list[bytes],
    wanted: dict[bytes, str],
    width: int,
    stop: Callable[[], bool],
) -> dict[str, set[str]]:
    """The paths of the entries naming wanted ids, in those of ``candidates`` a ref reaches."""
    holders = dict(_entries(repo, candidates, wanted, width, stop))
    at = walk.paths(set(holders))
    named: dict[str, set[str]] = {}
    for tree, entries in holders.items():
        if tree not in at:
            continue  # a tree no ref reaches: its names are whatever its maker chose
        for name, oid in entries:
            base = at[tree]
            path = name if not base else f"{base}/{name}"
            named.setdefault(oid, set()).add(path)
    return named


def _plausible(trees: list[bytes], records: Sequence[int]) -> tuple[list[bytes], Sequence[int]]:
    """The trees, and their answers' lengths, without those claiming more than any tree holds
    (see _LARGEST_TREE; found by a review: one planted loose tree, and the missing objects
    were named by their ids alone)."""
    if len(records) != len(trees) or max(records, default=0) <= _LARGEST_TREE:
        return trees, records
    keep = [n for n, record in enumerate(records) if record <= _LARGEST_TREE]
    return [trees[n] for n in keep], array("q", (records[n] for n in keep))


def _holding_trees(
    repo: str,
    trees: list[bytes],
    records: Sequence[int],
    wanted: dict[bytes, str],
    stop: Callable[[], bool],
) -> set[int] | None:
    """The indexes of the trees whose text holds a wanted id; None when git's output was not
    the length the listing foretold (a tree vanished meanwhile): then every tree is a
    candidate."""
    if len(records) != len(trees):
        return None
    starts = array("q", accumulate(records, initial=0))
    ids = list(wanted)
    find, overlap = Prefilter(ids), max(len(oid) for oid in wanted) - 1
    hits: set[int] = set()
    read = 0
    with runread.batch(repo, b"".join(trees)) as (proc, out):
        for base, data in bigreads.windows(out.fileno(), _CHUNK, overlap):
            if stop():
                break
            firsts = find(data)
            if firsts:
                hits.update(parts_hit(bytes(data), ids, firsts, starts, base))
            read = base + len(data)
    proc.wait()
    return hits if read == starts[-1] and proc.returncode == 0 else None


def _entries(
    repo: str,
    trees: list[bytes],
    wanted: dict[bytes, str],
    width: int,
    stop: Callable[[], bool],
) -> Iterator[tuple[bytes, list[tuple[str, str]]]]:
    """(tree id, [(entry name, wanted oid)]) for each tree holding a wanted oid. git stops at
    a tree whose content is not what its header says (a planted loose or packed tree): it is
    asked again from the tree after that one, so that no planted tree keeps the rest from
    being read (found by a review: the missing objects were named by their ids alone)."""
    find = Prefilter(list(wanted))  # Hyperscan once enough bytes went through
    start = restarts = 0
    while start < len(trees) and not stop() and restarts <= _MOST_RESTARTS:
        answered, cut = yield from _answers(repo, trees[start:], wanted, width, find, stop)
        if not cut:
            return  # all answered, abandoned, or git stopped for a reason of its own
        start += answered
        yield from _alone(repo, trees[start].strip(), wanted, width)
        start, restarts = start + 1, restarts + 1


def _answers(
    repo: str,
    trees: list[bytes],
    wanted: dict[bytes, str],
    width: int,
    find: Prefilter,
    stop: Callable[[], bool],
) -> Generator[tuple[bytes, list[tuple[str, str]]], None, tuple[int, bool]]:
    """The holders among ``trees`` from one `cat-file --batch`; how many trees it answered
    whole, and whether it stopped inside the next one's answer (each restart then gets past
    at least one tree: their number is bounded by the trees')."""
    answered, cut = 0, False
    with runread.batch(repo, b"".join(trees)) as (proc, out):
        while not stop() and (header := out.readline()):
            fields = header.split()
            if len(fields) == 3 and fields[2].isdigit():  # else: vanished, or unreadable
                size = int(fields[2])
                data = out.read(size + 1) if size <= _LARGEST_TREE else b""
                if cut := len(data) != size + 1:  # a planted header, or git stopped inside
                    break
                if find(data) and (entries := list(_holding(data[:-1], wanted, width))):
                    yield fields[0], entries
            answered += 1
    proc.wait()  # the pipe is closed: a git still writing stops
    return answered, cut


def _alone(
    repo: str, tree: bytes, wanted: dict[bytes, str], width: int
) -> Iterator[tuple[bytes, list[tuple[str, str]]]]:
    """A tree git stopped inside, asked for alone: git then reads another copy of it, if the
    store holds one (found by a review: a lying copy of the holder in a newer pack)."""
    proc = gitcmd.run(["cat-file", "tree", tree.decode("ascii")], repo)
    if proc.returncode == 0 and (entries := list(_holding(proc.stdout, wanted, width))):
        yield tree, entries


def _holding(tree: bytes, wanted: dict[bytes, str], width: int) -> Iterator[tuple[str, str]]:
    """The entries of one raw tree object (`<mode> <name>\\0<id>`...) that name wanted oids."""
    pos = 0
    while (nul := tree.find(b"\0", pos)) != -1:
        oid = tree[nul + 1 : nul + 1 + width]
        if oid in wanted:
            name = tree[pos:nul].partition(b" ")[2]
            yield name.decode("utf-8", "surrogateescape"), wanted[oid]
        pos = nul + 1 + width
