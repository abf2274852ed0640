"""Which refs reach which commits, for every commit asked about at once: one walk of the
history (`rev-list --topo-order --parents --all`) with a bit per commit, instead of a
`for-each-ref --contains` per commit, whose cost grows with the number of refs."""

from __future__ import annotations

from collections.abc import Iterable

from sgai_guard.errors import GitError
from sgai_guard.models import is_object_id
from sgai_guard.sources import gitcmd
from sgai_guard.sources.repo import Repository


def peeled_tips(repo: Repository) -> dict[str, str]:
    """Every ref and the object it names, annotated tags peeled, less the refs naming
    objects the store lacks (see ``tips``)."""
    return {ref: peeled for ref, peeled in tips(repo).items() if peeled}


def broken_refs(repo: Repository) -> list[str]:
    """The refs, and HEAD, that name objects the store lacks (or tags whose target it
    lacks): git stops on them when asked for all refs, so the audit leaves them out and says
    so. HEAD first, when it is one."""
    proc = gitcmd.run(["rev-parse", "--verify", "--quiet", "HEAD"], repo.path)
    head = proc.stdout.decode("ascii", "replace").strip()
    named = {"HEAD": head} if is_object_id(head) else {}
    return [ref for ref, peeled in tips(repo, named).items() if not peeled]


def tips(repo: Repository, also: dict[str, str] | None = None) -> dict[str, str]:
    """Every ref (and ``also``) and the object it names, annotated tags peeled to what they
    name at last; "" for a ref whose object, or whose tag's target, the store lacks. The
    refs are listed by git (nothing here reads a ref file, where a planted FIFO could stall
    it) without reading their objects; their types told by one `cat-file --batch-check`,
    and the tags among them peeled by another (peeling every ref costs 3x more)."""
    out = gitcmd.output(["for-each-ref", "--format=%(objectname) %(refname)"], repo.path)
    named = dict(also or {})
    for line in out.decode("utf-8", "surrogateescape").splitlines():
        oid, _, ref = line.partition(" ")
        if is_object_id(oid) and ref not in repo.excluded:
            named[ref] = oid
    kinds = _checked(repo, [f"{oid}\n" for oid in named.values()], "%(objecttype)")
    found = {
        ref: (oid if kind not in ("", "tag") else "")
        for (ref, oid), kind in zip(named.items(), kinds, strict=True)
    }
    tags = [ref for ref, kind in zip(named, kinds, strict=True) if kind == "tag"]
    peeled = _checked(repo, [f"{named[ref]}^{{}}\n" for ref in tags], "%(objectname)")
    found.update(zip(tags, peeled, strict=True))
    return found


def _checked(repo: Repository, asked: list[str], fmt: str) -> list[str]:
    """``fmt`` of each object asked for, in order; "" for one the store lacks."""
    if not asked:
        return []
    args = ["cat-file", f"--batch-check={fmt} %(objectname)", "--buffer"]
    out = gitcmd.output(args, repo.path, stdin="".join(asked).encode())
    answers = out.decode("ascii", "replace").split("\n")[: len(asked)]
    if len(answers) < len(asked):
        raise GitError("git cat-file did not answer for every ref")
    return [a.split(" ")[0] if not a.endswith(" missing") else "" for a in answers]


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
    proc = gitcmd.run(["rev-list", "--topo-order", "--parents", *repo.all_refs()], repo.path)
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
