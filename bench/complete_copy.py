"""A complete copy of a bare mirror that lacks objects, for goal 2 of issue 17 (missing
objects cost at most 10 % more than a complete mirror).

Published mirrors of hosted repositories lack a few blobs, all behind a few pull-request
refs. The copy is the same object store, hard-linked, without the refs that reach a missing
object: the audit reads exactly the same objects in both, and only the missing objects
(found, named and reported) tell the two apart.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from sgai_guard.sources.reach import peeled_tips, refs_containing
from sgai_guard.sources.repo import open_repository


def missing(repo: Path) -> set[str]:
    """The objects the history names but the store lacks."""
    out = _git(repo, "rev-list", "--objects", "--all", "--missing=print")
    return {line[1:] for line in out.splitlines() if line.startswith("?")}


def complete_copy(repo: Path, target: Path) -> tuple[Path, list[str]] | None:
    """``target``: ``repo`` without the refs that reach a missing object, and those refs;
    None when ``repo`` lacks nothing."""
    lacking = missing(repo)
    if not lacking:
        return None
    holders = _commits_adding(repo, lacking)
    opened = open_repository(repo)
    reach = refs_containing(opened, holders, peeled_tips(opened))
    refs = sorted({ref for found in reach.values() for ref in found})
    if target.exists():
        shutil.rmtree(target)
    subprocess.run(["cp", "-al", str(repo), str(target)], check=True)
    (target / "packed-refs").unlink(missing_ok=True)  # rewritten below, never through the link
    lines = _git(repo, "for-each-ref", "--format=%(objectname) %(refname)").splitlines()
    kept = [line for line in lines if line.split(" ", 1)[1] not in set(refs)]
    for loose in (target / "refs").rglob("*"):
        if loose.is_file():
            loose.unlink()  # hard links to the mirror's own: the packed list below replaces them
    (target / "packed-refs").write_text("".join(f"{line}\n" for line in kept))
    still = missing(target)
    if still:
        raise SystemExit(f"the copy still lacks {len(still)} object(s): no complete copy")
    return target, refs


def rev_copy(repo: Path, target: Path) -> Path | None:
    """``target``: ``repo`` with a reverse index (`.rev`) beside its one pack, as git 2.41 and
    later write on every repack (this machine's git may not); None when ``repo`` has more
    than one pack, or a `.rev` already. The store is hard-linked; refs are copied."""
    packs = sorted((repo / "objects" / "pack").glob("*.pack"))
    if len(packs) != 1 or list((repo / "objects" / "pack").glob("*.rev")):
        return None
    if target.exists():
        shutil.rmtree(target)
    subprocess.run(["cp", "-al", str(repo), str(target)], check=True)
    for linked in (target / "packed-refs", *(target / "refs").rglob("*")):
        if linked.is_file():  # copied, never written through the link
            data = linked.read_bytes()
            linked.unlink()
            linked.write_bytes(data)
    pack = target / "objects" / "pack" / packs[0].name
    _git(target, "index-pack", "--rev-index", str(pack))
    return target


def _commits_adding(repo: Path, oids: set[str]) -> set[str]:
    """Commits whose change (against any parent, or none) brings in one of ``oids``; git's
    output is read as it comes (on sympy it is gigabytes)."""
    argv = ["git", "-C", str(repo), "log", "--all", "-m", "--raw", "--no-abbrev"]
    found, commit = set(), b""
    with subprocess.Popen([*argv, "--no-renames", "--format=%H"], stdout=subprocess.PIPE) as log:
        assert log.stdout is not None
        for line in log.stdout:
            if line.startswith(b":"):
                if line.split(b" ", 4)[3].decode() in oids:
                    found.add(commit.decode())
            elif line.strip():
                commit = line.strip()
    return found


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args],
        capture_output=True,
        text=True,
        check=True,
        errors="surrogateescape",
    ).stdout
