"""Which refs reach which commits (sources.reach): right on branching histories, and in
memory bounded by the history's width, not its length times its findings."""

from __future__ import annotations

import subprocess
import tracemalloc
from pathlib import Path

from sgai_guard.sources.reach import peeled_tips, refs_containing
from sgai_guard.sources.repo import Repository, open_repository
from tests.gitrepo import Repo, git_env


def _linear(path: Path, commits: int) -> list[str]:
    """A bare repository of ``commits`` commits in a line on main, and a branch at the tenth."""
    subprocess.run(["git", "init", "-q", "--bare", str(path)], check=True, env=git_env())
    stream = "".join(
        f"commit refs/heads/main\ncommitter x <x@y> {1_700_000_000 + n} +0000\ndata 1\nc\n"
        f"M 100644 inline f\ndata {len(str(n)) + 1}\n{n}\n\n"
        for n in range(commits)
    )
    subprocess.run(
        ["git", "fast-import", "--quiet"],
        cwd=path,
        input=stream.encode(),
        check=True,
        env=git_env(),
    )
    repo = Repo.existing(path)
    oids = repo.git("rev-list", "--reverse", "main").split()
    repo.git("branch", "tenth", oids[9])
    return oids


def test_each_commit_is_reached_by_the_refs_above_it(tmp_path: Path) -> None:
    oids = _linear(tmp_path / "r.git", 30)
    repo = open_repository(tmp_path / "r.git")
    found = refs_containing(repo, oids, peeled_tips(repo))
    assert [found[oid] for oid in oids] == [{"refs/heads/main", "refs/heads/tenth"}] * 10 + [
        {"refs/heads/main"}
    ] * 20


def _peak(repo: Repository, wanted: list[str], tips: dict[str, str]) -> int:
    tracemalloc.start()
    try:
        refs_containing(repo, wanted, tips)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_long_line_of_findings_costs_no_square_memory(tmp_path: Path) -> None:
    """Found by an attacker review: each commit kept a bit for every wanted commit below it,
    and 120 k commits each adding a key held 2.3 GB; a commit's bits now go once its last
    child has them. Asking about all 8,000 commits of a line instead of one cost 9.5 MB
    more that way; what it costs now is the answer, a set of refs per commit."""
    oids = _linear(tmp_path / "r.git", 8000)
    repo = open_repository(tmp_path / "r.git")
    tips = peeled_tips(repo)
    extra = _peak(repo, oids, tips) - _peak(repo, oids[:1], tips)
    assert extra < 8000 * 250, extra


def test_both_ways_of_keeping_bits_agree_on_branches_and_merges(tmp_path: Path) -> None:
    from sgai_guard.sources.reach import _bits

    repo = Repo(tmp_path / "r")
    repo.commit("root")
    for name in ("a", "b"):
        repo.git("checkout", "-q", "-b", name, "main")
        repo.commit(f"{name} 1")
        repo.commit(f"{name} 2")
    repo.git("checkout", "-q", "main")
    repo.git("merge", "-q", "--no-ff", "--no-gpg-sign", "-m", "merge a", "a")
    repo.commit("after")
    repo.git("tag", "old", "b~1")
    out = repo.git("rev-list", "--topo-order", "--parents", "--all").encode()
    lines = out.split(b"\n")
    commits = [line.split(b" ")[0] for line in lines if line]
    wanted = {oid: n for n, oid in enumerate(commits)}
    tips = {repo.git("rev-parse", ref).strip().encode() for ref in ("main", "a", "b", "old")}
    every = _bits(lines, wanted, None)
    pruned = _bits(lines, wanted, tips)
    assert {t: every[t] for t in tips} == pruned and len(every) > len(pruned)
