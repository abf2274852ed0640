"""Where given blobs sit in history: added and removed by which commits, on which refs.

One streamed `git log --all --raw` pass serves every blob at once, so an audit with many
findings costs one history walk, not one per finding. Commits, trees and ref tips are then
read by object id (sources.objectread).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO

from sgai_guard.errors import GitError
from sgai_guard.models import CommitRef, Exposure, Finding
from sgai_guard.sources import catfile, gitcmd, objectread
from sgai_guard.sources.reach import peeled_tips, refs_containing
from sgai_guard.sources.repo import Repository
from sgai_guard.sources.tips import Tips

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
    tips: dict[str, CommitRef] = field(default_factory=dict)  # the newest tip still holding it


def blob_histories(
    repo: Repository,
    oids: Iterable[str],
    *,
    include_reflog: bool = False,
    problems: list[str] | None = None,
) -> dict[str, BlobHistory]:
    """Paths, commits and refs of each of ``oids`` (blobs holding secrets); what could not
    be read to tell them goes to ``problems``."""
    histories = {oid: BlobHistory(oid) for oid in oids}
    if not histories:
        return histories
    for commit, parents, old, new, path in _log(repo, include_reflog):
        if new in histories:
            histories[new].paths.add(path)
            histories[new].added[commit.oid] = commit
        if old in histories and parents:
            histories[old].removed_parents[parents[0]] = commit
    with objectread.opened(repo.path) as objects:
        tips = Tips(objects, peeled_tips(repo))
        _resolve_parents(tips, histories)
        _mark_refs(repo, tips, histories)
    _unread(objects, problems)
    return histories


def _unread(objects: objectread.Objects, problems: list[str] | None) -> None:
    if objects.failures and problems is not None:
        problems.append(
            f"git could not read {objects.failures} commit(s) or tree(s) the triage asked for: "
            "who added a key, when, and which ref tip still holds it may be missing or older"
        )


def _log(
    repo: Repository, include_reflog: bool
) -> Iterator[tuple[CommitRef, list[str], str, str, str]]:
    args = [
        "log",
        *repo.all_refs(),
        "-m",
        "--raw",
        "-z",
        "--no-renames",
        "--no-abbrev",
        f"--format={_HEADER}",
    ]
    args = [*args, "--reflog"] if include_reflog else args
    proc = catfile.walk_popen(args, repo.path, repo.tip_ids)
    commit = CommitRef("", "", "")
    parents: list[str] = []
    tokens = _tokens(catfile.pipe(proc.stdout))
    for raw in tokens:
        token = raw.lstrip(b"\n")
        try:
            if token.startswith(b"\x01"):
                oid, date, parent_list, author = _fields(token[1:])
                commit, parents = CommitRef(oid, author, date), parent_list.split()
                continue
            if not token.startswith(b":"):
                continue
            old_oid, new_oid = token[1:].decode().split(" ")[2:4]
        except ValueError as exc:  # not what was asked for: say so, no crash
            gitcmd.stop(proc)
            raise HistoryUnknownError(
                f"git log's output was not in the form asked for{_UNKNOWN}"
            ) from exc
        yield commit, parents, old_oid, new_oid, os.fsdecode(next(tokens, b""))
    detail = catfile.complaint(proc, "exit status {status}")
    if detail:
        raise HistoryUnknownError(f"git log could not walk the history ({detail}){_UNKNOWN}")


_UNKNOWN = (
    ": where each key was added and which refs reach it are unknown, so every key found is listed"
)


class HistoryUnknownError(GitError):
    """The pass that places blobs in history stopped: what it gave is not the whole story."""


def _fields(record: bytes) -> tuple[str, str, str, str]:
    """oid, date, parents and author of one formatted commit (author last, split at most 3)."""
    oid, date, parents, author = record.decode("utf-8", "replace").split("\x1f", 3)
    return oid, date if _is_date(date) else "", parents, author


def _is_date(text: str) -> bool:
    """git leaves `%aI` as it is for an author line without a zone: no date, then."""
    try:
        datetime.fromisoformat(text)
    except ValueError:
        return False
    return True


def _tokens(stream: IO[bytes]) -> Iterator[bytes]:
    rest = b""
    while chunk := stream.read(1 << 16):
        parts = (rest + chunk).split(b"\0")
        rest = parts.pop()
        yield from parts
    if rest:
        yield rest


def _resolve_parents(tips: Tips, histories: dict[str, BlobHistory]) -> None:
    """Replace each removal's placeholder with the parent commit, which still held the blob."""
    for history in histories.values():
        history.removed_parents = {p: tips.commit(p) for p in history.removed_parents}


def _mark_refs(repo: Repository, tips: Tips, histories: dict[str, BlobHistory]) -> None:
    """Refs reaching each blob (one walk for all of them) and the tips still holding it."""
    if not histories:
        return
    head_blobs = _tree_blobs(repo, "HEAD", set(histories))
    added = {commit for history in histories.values() for commit in history.added}
    containing = refs_containing(repo, added, tips.tips)
    for history in histories.values():
        history.at_head = history.oid in head_blobs
        for commit in history.added:
            history.refs.update(containing.get(commit, ()))
        history.tips = tips.latest_holding(history.refs, history.oid, history.paths)


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


def placed_messages(
    repo: Repository,
    findings: list[Finding],
    *,
    keep_unreachable: bool,
    problems: list[str] | None = None,
    walked: frozenset[str] = frozenset(),
) -> tuple[list[Finding], int]:
    """Keys in commit and tag messages, with the refs that publish them (for a tag's message,
    the refs naming the tag); and how many secrets no ref reaches were left out. What could
    not be read to tell them goes to ``problems``. ``walked``: tags the walk of every ref
    reached though no ref names them (a tag only another tag names): never left out."""
    if not findings:
        return [], 0
    tips = peeled_tips(repo)
    refs = _publishing(repo, findings, tips)
    placed, dropped = [], set()
    with objectread.opened(repo.path) as objects:
        commits = Tips(objects, tips)
        for finding in findings:
            reaching = refs.get(finding.blob_id or "", set())
            if not reaching and finding.blob_id in walked:
                placed.append(_through_tags(_placed(finding, reaching, commits, repo.bare)))
            elif reaching or keep_unreachable:
                placed.append(_placed(finding, reaching, commits, repo.bare))
            else:
                dropped.add(finding.fingerprint)
    _unread(objects, problems)
    return placed, len(dropped)


def _publishing(
    repo: Repository, findings: list[Finding], tips: dict[str, str]
) -> dict[str, set[str]]:
    """For each message's object: the refs whose history holds its commit ("HEAD" among them
    when HEAD's does), or that name its tag."""
    head = repo.resolve("HEAD")
    with_head = {**tips, **({"HEAD": head} if head else {})}
    reach = refs_containing(repo, [f.commit for f in findings if f.commit], with_head)
    named = _refs_naming(repo, {f.blob_id for f in findings if f.blob_id and not f.commit})
    return {
        f.blob_id: reach.get(f.commit, set()) if f.commit else named.get(f.blob_id, set())
        for f in findings
        if f.blob_id
    }


def _placed(finding: Finding, refs: set[str], commits: Tips, bare: bool) -> Finding:
    when = commits.commit(finding.commit) if finding.commit else None
    exposure = Exposure(
        paths=(finding.path,),
        introduced=when,
        last_seen=when,
        at_head="HEAD" in refs,
        refs=tuple(sorted(refs - {"HEAD"})),
        reachable=bool(refs),
        bare=bare,
    )
    return finding._replace(exposure=exposure)


def _through_tags(finding: Finding) -> Finding:
    note = "a ref reaches it through another tag: which ref is not told"
    exposure = finding.exposure._replace(reachable=True) if finding.exposure else None
    return finding._replace(exposure=exposure, notes=(*finding.notes, note))


def _refs_naming(repo: Repository, oids: set[str]) -> dict[str, set[str]]:
    """The refs that name each of ``oids`` (annotated tags) directly."""
    if not oids:
        return {}
    out = gitcmd.output(["for-each-ref", "--format=%(objectname) %(refname)"], repo.path)
    named: dict[str, set[str]] = {}
    for line in filter(None, out.decode("utf-8", "surrogateescape").split("\n")):
        oid, ref = line.split(" ", 1)
        if oid in oids:
            named.setdefault(oid, set()).add(ref)
    return named
