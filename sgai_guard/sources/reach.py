"""Which refs reach which commits, for every commit asked about at once: one walk of the
history (`rev-list --topo-order --parents --all`) with a bit per commit, instead of a
`for-each-ref --contains` per commit, whose cost grows with the number of refs."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from sgai_guard.errors import GitError
from sgai_guard.models import is_object_id
from sgai_guard.sources import gitcmd
from sgai_guard.sources.repo import Repository


def peeled_tips(repo: Repository) -> dict[str, str]:
    """Every ref and the object it names, annotated tags peeled to what they name at last,
    less the refs naming objects the store lacks (see ``walk_tips``)."""
    named = _refs(repo)
    peeled = _peeled(repo, named)
    return {
        ref: target
        for (ref, _), target in zip(named, peeled, strict=True)
        if target and ref not in repo.broken
    }


def walk_tips(repo: Repository) -> tuple[bytes, tuple[str, ...], bool]:
    """What the audit walks instead of `--all`: the ids every ref, HEAD and each worktree's
    HEAD name (one a line, for `--stdin`), and the names of those that name an object the
    store lacks. git stops on such a ref when asked for all refs (and the audit with it,
    reading nothing); passed as ids, no ref name reaches a command line, and a name git
    cannot use (`a..b`, a name listed twice) costs nothing. The last item says whether
    git lists any ref (HEADs aside)."""
    refs = _refs(repo)
    named = [*_heads(repo), *refs]
    peeled = _peeled(repo, named)
    walked = sorted({oid for (_, oid), target in zip(named, peeled, strict=True) if target})
    broken = tuple(
        dict.fromkeys(ref for (ref, _), target in zip(named, peeled, strict=True) if not target)
    )
    return "".join(f"{oid}\n" for oid in walked).encode(), broken, bool(refs)


def _refs(repo: Repository) -> list[tuple[str, str]]:
    """Every ref git lists (nothing here reads a ref file, where a planted FIFO could stall
    it), without reading its object: a name twice is listed twice."""
    out = gitcmd.output(["for-each-ref", "--format=%(objectname) %(refname)"], repo.path)
    text = out.decode("utf-8", "surrogateescape")
    pairs = (line.partition(" ") for line in text.split("\n") if line)  # a name may hold U+2028
    return [(ref, oid) for oid, _, ref in pairs if is_object_id(oid)]


def _heads(repo: Repository) -> list[tuple[str, str]]:
    """HEAD, and every worktree's HEAD (`--all` walks them too; the main one's when this
    is a linked worktree), as git reads them: each id once."""
    proc = gitcmd.run(["rev-parse", "--verify", "--quiet", "HEAD"], repo.path)
    head = proc.stdout.decode("ascii", "replace").strip()
    heads = {head: "HEAD"} if is_object_id(head) else {}
    out = gitcmd.run(["worktree", "list", "--porcelain"], repo.path).stdout
    where = ""
    for line in out.decode("utf-8", "surrogateescape").split("\n"):
        if line.startswith("worktree "):
            where = line[len("worktree ") :]
        elif line.startswith("HEAD ") and is_object_id(oid := line[len("HEAD ") :]):
            heads.setdefault(oid, f"HEAD of the worktree {where}")
    return [(name, oid) for oid, name in heads.items() if oid.strip("0")]


def _peeled(repo: Repository, named: list[tuple[str, str]]) -> list[str]:
    """What each id names at last (tags peeled; their types told by one `cat-file
    --batch-check`, the tags peeled by another: peeling every ref costs 3x more); "" for
    one the store lacks."""
    kinds = _checked(repo, [f"{oid}\n" for _, oid in named], "%(objecttype)")
    found = [
        oid if kind not in ("", "tag") else "" for (_, oid), kind in zip(named, kinds, strict=True)
    ]
    tags = [n for n, kind in enumerate(kinds) if kind == "tag"]
    peeled = _checked(repo, [f"{named[n][1]}^{{}}\n" for n in tags], "%(objectname)")
    for n, target in zip(tags, peeled, strict=True):
        found[n] = target
    return found


def _checked(repo: Repository, asked: list[str], fmt: str) -> list[str]:
    """``fmt`` of each object asked for, in order; "" for one the store lacks."""
    if not asked:
        return []
    args = ["cat-file", f"--batch-check={fmt}", "--buffer"]
    out = gitcmd.output(args, repo.path, stdin="".join(asked).encode())
    answers = out.decode("ascii", "replace").split("\n")[: len(asked)]
    if len(answers) < len(asked):
        raise GitError("git cat-file did not answer for every ref")
    return ["" if a.endswith(" missing") else a for a in answers]


def refs_containing(
    repo: Repository, commits: Iterable[str], tips: dict[str, str]
) -> dict[str, set[str]]:
    """For each of ``commits``, the refs whose history holds it."""
    targets = sorted(set(commits))
    if not targets:
        return {}
    reach = _reach(repo, {oid: n for n, oid in enumerate(targets)}, set(tips.values()))
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


# Wanted commits up to this many fit each commit's bits in a word or two: every commit's
# bits are kept, as git lists them. More, and a commit's bits go once its last child has them.
_FEW = 128


def _reach(repo: Repository, index: dict[str, int], keep: set[str]) -> dict[str, int] | None:
    """For each of ``keep`` (the ref tips) whose history holds any wanted commit, their bits."""
    args = ["rev-list", "--topo-order", "--parents", *repo.all_refs()]
    proc = gitcmd.run(args, repo.path, stdin=repo.tip_ids)
    if proc.returncode != 0:
        return None
    lines = proc.stdout.split(b"\n")
    wanted = {oid.encode(): n for oid, n in index.items()}
    tips = {oid.encode() for oid in keep}
    reach = _bits(lines, wanted, tips if len(wanted) > _FEW else None)
    return {oid.decode("ascii"): bits for oid, bits in reach.items() if oid in tips}


def _bits(
    lines: list[bytes], wanted: dict[bytes, int], tips: set[bytes] | None
) -> dict[bytes, int]:
    """The bits of the wanted commits each commit's history holds, parents before children.
    ``tips`` None: every commit keeps its bits (small ints: a dictionary entry a commit).
    Else a commit's bits go once its last child has taken them, the tips' aside: kept for
    every commit, a history in which each of 120 k commits adds a key held 2.3 GB (an
    attacker review; each commit held a bit for every key-adding commit below it)."""
    waiting = None
    if tips is not None:
        waiting = Counter(parent for line in lines for parent in line.split(b" ")[1:])
    reach: dict[bytes, int] = {}
    for line in reversed(lines):
        if not line:
            continue
        oid, *parents = line.split(b" ")
        bits = 1 << wanted[oid] if oid in wanted else 0
        for parent in parents:
            bits |= reach.get(parent, 0)
            if waiting is not None and tips is not None:
                waiting[parent] -= 1
                if not waiting[parent] and parent not in tips:
                    reach.pop(parent, None)  # its last child has its bits now
        if bits:
            reach[oid] = bits
    return reach
