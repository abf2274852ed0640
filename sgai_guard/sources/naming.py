"""Names for objects an audit could not read (missing, damaged, or over the size cap): the
paths history gives them, found in the trees that hold them. Costs one read of the trees,
and only when there is something to name.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from sgai_guard.detection.prefilter import Prefilter
from sgai_guard.models import is_object_id
from sgai_guard.sources import readers
from sgai_guard.sources.walk import Walk


def paths_of(repo: str, walk: Walk, trees: list[bytes], oids: Iterable[str]) -> dict[str, set[str]]:
    """For each of ``oids`` (hex), the paths of the tree entries that name it."""
    wanted = {bytes.fromhex(oid): oid for oid in oids if is_object_id(oid)}
    if not wanted or not trees:
        return {}
    width = len(next(iter(wanted)))
    holders: dict[bytes, list[tuple[str, str]]] = {}
    for tree, entries in _entries(repo, trees, wanted, width):
        holders[tree] = entries
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


def _entries(
    repo: str, trees: list[bytes], wanted: dict[bytes, str], width: int
) -> Iterator[tuple[bytes, list[tuple[str, str]]]]:
    """(tree id, [(entry name, wanted oid)]) for each tree holding a wanted oid."""
    find = Prefilter(list(wanted))  # Hyperscan once enough bytes went through
    with readers.batch(repo, b"".join(trees)) as (proc, out):
        while header := out.readline():
            fields = header.split()
            if len(fields) != 3 or not fields[2].isdigit():
                continue  # a tree that vanished or cannot be read: nothing to name from it
            data = out.read(int(fields[2]) + 1)
            if find(data):
                yield fields[0], list(_holding(data[:-1], wanted, width))
    proc.wait()


def _holding(tree: bytes, wanted: dict[bytes, str], width: int) -> Iterator[tuple[str, str]]:
    """The entries of one raw tree object (`<mode> <name>\\0<id>`...) that name wanted oids."""
    pos = 0
    while (nul := tree.find(b"\0", pos)) != -1:
        oid = tree[nul + 1 : nul + 1 + width]
        if oid in wanted:
            name = tree[pos:nul].partition(b" ")[2]
            yield name.decode("utf-8", "surrogateescape"), wanted[oid]
        pos = nul + 1 + width
