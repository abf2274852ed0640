"""Commit and tag messages as content to scan: a key pasted into a message is published with
the commit, and a push hook that read only files would let it through."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from sgai_guard.models import Blob, Skipped, Status, is_object_id
from sgai_guard.sources import catfile
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
        if answer.part is None or answer.part.first:  # headers open the first piece
            headers, body = split(answer.data)
            where = headers_path(kind, answer.oid)
            yield Blob(where, headers, commit=answer.oid, status=Status.NEW, message=True)
        yield Blob(path, body, commit=answer.oid, status=Status.NEW, part=answer.part, message=True)


def tag_chain(repo: Repository, oid: str) -> list[str]:
    """``oid`` and every tag it points at in turn, when it is an annotated tag: a tag of a tag
    publishes the inner tag's message too."""
    chain: list[str] = []
    while oid not in chain and repo.lines("cat-file", "-t", oid) == ["tag"]:
        chain.append(oid)
        header = repo.lines("cat-file", "tag", oid)
        target = header[0].split() if header else []
        if len(target) != 2 or target[0] != "object" or not is_object_id(target[1]):
            break  # a hand-made tag: git checks what it points at, we name nothing else
        oid = target[1]
    return chain
