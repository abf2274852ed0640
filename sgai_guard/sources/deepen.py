"""Making a shallow CI clone deep enough for a range, or saying exactly why it cannot be."""

from __future__ import annotations

from sgai_guard.sources import gitcmd
from sgai_guard.sources.repo import Repository

# Fetching is the one network operation: allowed for the CI clone itself, nothing else.
FETCH_CONFIG = ("protocol.allow=always",)
DEPTHS = (50, 200, 1000, 5000)


def is_shallow(repo: Repository) -> bool:
    return gitcmd.output(["rev-parse", "--is-shallow-repository"], repo.path).strip() == b"true"


def fetch(repo: Repository, remote: str, *args: str) -> bool:
    proc = gitcmd.run(
        ["fetch", "--no-tags", "--quiet", remote, *args], repo.path, extra_config=FETCH_CONFIG
    )
    return proc.returncode == 0


def obtain(repo: Repository, remote: str, sha: str) -> str | None:
    """The commit ``sha``, fetched from ``remote`` when the clone lacks it."""
    found = repo.resolve(sha)
    if found is None and fetch(repo, remote, "--depth=1", sha):
        found = repo.resolve(sha)
    return found


def reach_merge_base(repo: Repository, remote: str, base: str, head: str) -> bool:
    """Deepen a shallow clone until base and head share history; False when they never do."""
    for depth in (*DEPTHS, None):
        proc = gitcmd.run(["merge-base", base, head], repo.path)
        if proc.returncode == 0 and _walk_is_whole(repo, [head, f"^{base}"]):
            return True
        if not is_shallow(repo):
            return proc.returncode == 0
        args = ["--unshallow"] if depth is None else [f"--deepen={depth}"]
        if not fetch(repo, remote, *args):
            return False
    proc = gitcmd.run(["merge-base", base, head], repo.path)
    return proc.returncode == 0


def reach_other_branches(repo: Repository, remote: str, revs: list[str]) -> bool:
    """For a new branch: fetch the other branches and deepen until the walk of ``revs`` (the
    branch's commits no other branch has) ends inside the fetched history."""
    if not is_shallow(repo):
        return True
    fetch(repo, remote, "--depth=1", f"+refs/heads/*:refs/remotes/{remote}/*")
    for depth in (*DEPTHS, None):
        if _walk_is_whole(repo, revs):
            return True
        args = ["--unshallow"] if depth is None else [f"--deepen={depth}"]
        if not fetch(repo, remote, *args):
            return False
    return _walk_is_whole(repo, revs)


def _walk_is_whole(repo: Repository, revs: list[str]) -> bool:
    shallow = repo.shallow_commits()
    if not shallow:
        return True
    listed = set(repo.lines("rev-list", *revs, "--"))
    return not listed & shallow
