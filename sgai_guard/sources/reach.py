"""Which refs reach which commits, for every commit asked about at once: one walk of the
history (`rev-list --topo-order --parents --all`) with a bit per commit, instead of a
`for-each-ref --contains` per commit, whose cost grows with the number of refs."""

from __future__ import annotations

from collections.abc import Iterable

from sgai_guard.sources import gitcmd
from sgai_guard.sources.repo import Repository


def peeled_tips(repo: Repository) -> dict[str, str]:
    """Every ref and the commit it names, annotated tags peeled (git lists them: nothing
    here reads a ref file, where a planted FIFO could stall it)."""
    fmt = "--format=%(objectname) %(*objectname) %(refname)"
    out = gitcmd.output(["for-each-ref", fmt], repo.path).decode("utf-8", "surrogateescape")
    tips = {}
    for line in out.splitlines():
        oid, peeled, ref = line.split(" ", 2)
        tips[ref] = peeled or oid
    return tips


def refs_containing(
    repo: Repository, commits: Iterable[str], tips: dict[str, str]
) -> dict[str, set[str]]:
    """For each of ``commits``, the refs whose history holds it."""
    targets = sorted(set(commits))
    if not targets:
        return {}
    reach = _reach(repo, {oid: n for n, oid in enumerate(targets)})
    if reach is None:  # the walk failed (a damaged history): ask git per commit instead
        return {
            c: set(repo.lines("for-each-ref", "--format=%(refname)", "--contains", c))
            for c in targets
        }
    out: dict[str, set[str]] = {oid: set() for oid in targets}
    for ref, tip in tips.items():
        bits = reach.get(tip, 0)
        while bits:
            low = bits & -bits
            out[targets[low.bit_length() - 1]].add(ref)
            bits ^= low
    return out


def _reach(repo: Repository, index: dict[str, int]) -> dict[str, int] | None:
    """For each commit that has any, the bits of the wanted commits its history holds."""
    proc = gitcmd.run(["rev-list", "--topo-order", "--parents", "--all"], repo.path)
    if proc.returncode != 0:
        return None
    reach: dict[str, int] = {}
    for line in reversed(proc.stdout.split(b"\n")):  # parents before their children
        if not line:
            continue
        oid, *parents = line.decode("ascii").split(" ")
        bits = 1 << index[oid] if oid in index else 0
        for parent in parents:
            bits |= reach.get(parent, 0)
        if bits:
            reach[oid] = bits
    return reach
