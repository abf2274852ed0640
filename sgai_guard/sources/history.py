"""Where given blobs sit in history: added and removed by which commits, on which refs.

One streamed `git log --all --raw` pass serves every blob at once, so an audit with many
findings costs one history walk, not one per finding.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO

from sgai_guard.models import CommitRef
from sgai_guard.sources import catfile, gitcmd
from sgai_guard.sources.repo import Repository

# The author comes last: a name may hold any byte but NUL and newline, \x1f included.
_HEADER = "%x01%H%x1f%aI%x1f%P%x1f%an <%ae>"


@dataclass(slots=True)
class BlobHistory:
    oid: str
    paths: set[str] = field(default_factory=set)
    added: dict[str, CommitRef] = field(default_factory=dict)
    removed_parents: dict[str, CommitRef] = field(default_factory=dict)  # parents of removals
    refs: set[str] = field(default_factory=set)
    at_head: bool = False
    tips: dict[str, CommitRef] = field(default_factory=dict)  # tip commits still holding it


def blob_histories(
    repo: Repository,
    oids: Iterable[str],
    *,
    include_reflog: bool = False,
    named_only: Iterable[str] = (),
) -> dict[str, BlobHistory]:
    """``oids``: blobs to triage in full. ``named_only``: blobs (unreadable, perhaps missing)
    that only need their paths; their refs are not looked up, so nothing asks git to read
    them (a partial clone would try to fetch them)."""
    full = set(oids)
    histories = {oid: BlobHistory(oid) for oid in (*full, *named_only)}
    if not histories:
        return histories
    for commit, parents, old, new, path in _log(repo, include_reflog):
        if new in histories:
            histories[new].paths.add(path)
            histories[new].added[commit.oid] = commit
        if old in histories and parents:
            histories[old].removed_parents[parents[0]] = commit
    _resolve_parents(repo, histories)
    _mark_refs(repo, {oid: h for oid, h in histories.items() if oid in full})
    return histories


def _log(
    repo: Repository, include_reflog: bool
) -> Iterator[tuple[CommitRef, list[str], str, str, str]]:
    args = [
        "log",
        "--all",
        "-m",
        "--raw",
        "-z",
        "--no-renames",
        "--no-abbrev",
        f"--format={_HEADER}",
    ]
    proc = catfile.popen([*args, "--reflog"] if include_reflog else args, repo.path)
    commit = CommitRef("", "", "")
    parents: list[str] = []
    tokens = _tokens(catfile.pipe(proc.stdout))
    for raw in tokens:
        token = raw.lstrip(b"\n")
        if token.startswith(b"\x01"):
            oid, date, parent_list, author = _fields(token[1:])
            commit, parents = CommitRef(oid, author, date), parent_list.split()
        elif token.startswith(b":"):
            meta = token[1:].decode().split(" ")
            path = os.fsdecode(next(tokens, b""))
            yield commit, parents, meta[2], meta[3], path
    proc.wait()


def _fields(record: bytes) -> tuple[str, str, str, str]:
    """oid, date, parents and author of one formatted commit (author last, split at most 3)."""
    oid, date, parents, author = record.decode("utf-8", "replace").split("\x1f", 3)
    return oid, date, parents, author


def _tokens(stream: IO[bytes]) -> Iterator[bytes]:
    rest = b""
    while chunk := stream.read(1 << 16):
        parts = (rest + chunk).split(b"\0")
        rest = parts.pop()
        yield from parts
    if rest:
        yield rest


def _resolve_parents(repo: Repository, histories: dict[str, BlobHistory]) -> None:
    """Replace each removal's placeholder with the parent commit, which still held the blob."""
    wanted = {p for h in histories.values() for p in h.removed_parents}
    info = _commit_info(repo, wanted)
    for history in histories.values():
        history.removed_parents = {p: info[p] for p in history.removed_parents if p in info}


def _commit_info(repo: Repository, oids: set[str]) -> dict[str, CommitRef]:
    if not oids:
        return {}
    out = gitcmd.output(
        ["log", "--no-walk=unsorted", "--stdin", "-z", "--format=%H%x1f%aI%x1f%x1f%an <%ae>"],
        repo.path,
        stdin="\n".join(sorted(oids)).encode() + b"\n",
    )
    info = {}
    for record in out.split(b"\0"):
        if record:
            oid, date, _, author = _fields(record)
            info[oid] = CommitRef(oid, author, date)
    return info


def _mark_refs(repo: Repository, histories: dict[str, BlobHistory]) -> None:
    if not histories:
        return
    head_blobs = _tree_blobs(repo, "HEAD", set(histories))
    for history in histories.values():
        history.at_head = history.oid in head_blobs
        for commit in history.added:
            history.refs.update(
                repo.lines("for-each-ref", "--format=%(refname)", "--contains", commit)
            )
        history.tips = _tips_holding(repo, history)


def _tree_blobs(repo: Repository, rev: str, wanted: set[str]) -> set[str]:
    proc = gitcmd.run(["ls-tree", "-r", "-z", "--full-tree", rev], repo.path)
    if proc.returncode != 0:
        return set()  # no HEAD (empty repository, or a bare mirror without one)
    found = set()
    for entry in proc.stdout.split(b"\0"):
        parts = entry.split(b"\t", 1)[0].split(b" ")
        if len(parts) == 3 and parts[2].decode() in wanted:
            found.add(parts[2].decode())
    return found


def _tips_holding(repo: Repository, history: BlobHistory) -> dict[str, CommitRef]:
    """Tips of the refs reaching the blob whose tree still holds it at one of its paths."""
    # One query per line: a path holding a newline cannot be asked this way (ls-tree still
    # answers whether HEAD holds it). Filtering first keeps queries and answers aligned.
    queries = [
        (ref, path)
        for ref in sorted(history.refs)
        for path in sorted(history.paths)
        if "\n" not in path
    ]
    if not queries:
        return {}
    stdin = b"".join(os.fsencode(f"{ref}:{path}") + b"\n" for ref, path in queries)
    out = gitcmd.output(["cat-file", "--batch-check=%(objectname)"], repo.path, stdin=stdin)
    # one answer per query, each ending in a newline (a "missing" answer echoes the query)
    answers = out.split(b"\n")[: len(queries)]
    holding = {
        ref
        for (ref, _), line in zip(queries, answers, strict=True)
        if line.strip() == history.oid.encode()
    }
    tips = {}
    for ref in holding:
        oid = repo.resolve(ref)
        if oid:
            tips[ref] = oid
    return _commit_info(repo, set(tips.values())) if tips else {}
