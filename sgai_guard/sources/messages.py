"""Commit and tag messages as content to scan: a key pasted into a message is published with
the commit, and a push hook that read only files would let it through."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from sgai_guard.models import Blob, Skipped, Status, is_object_id
from sgai_guard.sources import catfile, gitcmd
from sgai_guard.sources.repo import Repository


def message_path(kind: str, oid: str) -> str:
    """How a message is named where a file's path would be: ``(commit 1a2b3c4d5e6f message)``."""
    return f"({kind} {oid[:12]} message)"


def headers_path(kind: str, oid: str) -> str:
    """How a commit's or tag's headers are named: ``(commit 1a2b3c4d5e6f headers)``."""
    return f"({kind} {oid[:12]} headers)"


def split(data: bytes) -> tuple[bytes, bytes]:
    """A commit's or tag's headers and its message. The headers are published too, and hold
    free text: author and committer names, a merged tag's whole message (mergetag), and any
    header a hand-made object carries."""
    headers, _, body = data.partition(b"\n\n")
    return headers, body


def messages(
    repo: Repository, oids: Sequence[str], kind: str = "commit"
) -> Iterator[Blob | Skipped]:
    """The headers and the message of each commit (or annotated tag) in ``oids``, through one
    cat-file process."""
    requests = ((oid, oid) for oid in oids)
    for answer in catfile.read_blobs(repo.path, requests, kinds=(kind,)):
        path = message_path(kind, answer.oid)
        if answer.data is None:
            yield Skipped(path, answer.problem or "unreadable", error=True)
            continue
        body = answer.data
        commit = answer.oid if kind == "commit" else None  # a tag is no commit (as the audit)
        if answer.part is None or answer.part.first:  # headers open the first piece
            headers, body = split(answer.data)
            where = headers_path(kind, answer.oid)
            yield Blob(where, headers, commit=commit, status=Status.NEW, message=True)
        yield Blob(path, body, commit=commit, status=Status.NEW, part=answer.part, message=True)


# Deeper chains of tags are not followed (each costs two git processes): said, not read.
TAG_CHAIN_LIMIT = 64


def tag_chain(repo: Repository, oid: str) -> tuple[list[str], str]:
    """``oid`` and every tag it points at in turn, when it is an annotated tag (a tag of a
    tag publishes the inner tag's message too); and why the chain was not followed to where
    git peels it ("" when it was). git reads the ids in a tag's header in either case: one
    in capitals hid the inner tag's key (found by an attacker review)."""
    chain: list[str] = []
    while object_kind(repo, oid) == "tag" and oid not in chain:
        if len(chain) == TAG_CHAIN_LIMIT:
            return chain, f"tag {chain[0][:12]} is a tag of more than {TAG_CHAIN_LIMIT} tags"
        chain.append(oid)
        header = repo.lines("cat-file", "tag", oid)
        target = header[0].split() if header else []
        if len(target) != 2 or target[0] != "object" or not is_object_id(target[1].lower()):
            break  # git cannot follow it either (checked below)
        oid = target[1].lower()
    peeled = peel(repo, chain[0]) if chain else None
    if chain and peeled is not None and peeled != oid:
        return chain, f"tag {chain[0][:12]} points at {peeled[:12]} through tags not read"
    return chain, ""


def object_kind(repo: Repository, oid: str) -> str | None:
    """``oid``'s type, or None when the store lacks it (a tag's target may be missing: git's
    complaint was an error, exit 2, found by an attacker review)."""
    proc = gitcmd.run(["cat-file", "-t", "--end-of-options", oid], repo.path)
    kind = proc.stdout.decode("ascii", "replace").strip()
    return kind if proc.returncode == 0 and kind else None


def peel(repo: Repository, oid: str) -> str | None:
    """What git finds at the end of the tags ``oid`` starts (``oid`` itself if no tag)."""
    found = repo.lines("rev-parse", "--verify", "--quiet", "--end-of-options", f"{oid}^{{}}")
    return found[0] if len(found) == 1 and is_object_id(found[0]) else None
