"""The staged snapshot: exactly the index blobs the next commit will contain."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial

from sgai_guard.models import Blob, Skipped
from sgai_guard.sources import catfile, gitcmd
from sgai_guard.sources.raw import RawEntry, parse_raw
from sgai_guard.sources.repo import Repository

# A hook run by `git commit -a` or `git commit FILE` points git at a temporary index.
HOOK_ENV = ("GIT_INDEX_FILE",)


def staged_entries(repo: Repository) -> list[RawEntry]:
    """Added, copied, modified, renamed and type-changed paths of the index against HEAD."""
    base = repo.head() or repo.empty_tree()  # no commit yet: everything staged is new
    raw = gitcmd.output(
        [
            "diff-index",
            "--cached",
            "-z",
            "--raw",
            "--no-renames",
            "--no-abbrev",
            "--diff-filter=ACMRT",
            base,
        ],
        repo.path,
        keep_env=HOOK_ENV,
    )
    return [entry for entry in parse_raw(raw) if entry.has_new]


def staged_blobs(repo: Repository, entries: list[RawEntry]) -> Iterator[Blob | Skipped]:
    merge_heads = _merge_heads(repo)
    requests = ((e.new_oid, e) for e in entries)
    for answer in catfile.read_blobs(repo.path, requests, keep_env=HOOK_ENV):
        entry = answer.request
        if answer.data is None:
            yield Skipped(entry.path, answer.problem or "unreadable", error=True)
            continue
        prior = partial(_prior, repo, entry, merge_heads)
        yield Blob(entry.path, answer.data, blob_id=entry.new_oid, prior=prior)


def _merge_heads(repo: Repository) -> tuple[str, ...]:
    """During a merge, the other parents: their content was committed on another branch."""
    proc = gitcmd.run(["rev-parse", "--git-path", "MERGE_HEAD"], repo.path)
    path = repo.path / proc.stdout.decode().strip()
    try:
        return tuple(path.read_text().split())
    except OSError:
        return ()


def _prior(repo: Repository, entry: RawEntry, merge_heads: tuple[str, ...]) -> tuple[bytes, ...]:
    """What this path held before: in HEAD, and in each branch being merged."""
    revs = [entry.old_oid] if entry.has_old else []
    revs += [f"{head}:{entry.path}" for head in merge_heads]
    out = []
    for rev in revs:
        proc = gitcmd.run(["cat-file", "blob", rev], repo.path)
        if proc.returncode == 0:
            out.append(proc.stdout)
    return tuple(out)
