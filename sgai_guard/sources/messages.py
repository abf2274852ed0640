"""Commit and tag messages as content to scan: a key pasted into a message is published with
the commit, and a push hook that read only files would let it through."""

from __future__ import annotations

import codecs
from collections.abc import Iterator, Sequence
from typing import NamedTuple

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


DECODED_LIMIT = 1 << 20  # a larger commit declaring an encoding is said, not decoded
# Python's codecs that are no character set iconv knows: git shows such a commit's bytes as
# they are. Punycode decodes in quadratic time (a review: a 1 MB message took 100 s), and the
# escape codecs would read keys into text that git never shows.
_NOT_ICONV = frozenset(
    {"punycode", "idna", "unicode-escape", "raw-unicode-escape", "undefined", "mbcs", "oem"}
)
_NAME_CHARS = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:+-")


def declared(data: bytes) -> bytes | None:
    """The encoding a commit's headers declare, as git reads it (the first `encoding` header
    line), when it is not UTF-8: `git log` then shows the whole commit decoded from it.
    Most commits declare none: one search says so."""
    if b"\nencoding " not in data:
        return None
    headers = data.partition(b"\n\n")[0]
    for line in headers.split(b"\n"):
        if line.startswith(b"encoding "):
            name = line[9:]
            return None if name.lower() in (b"utf-8", b"utf8") else name
    return None


class Shown(NamedTuple):
    """A commit as ``as_git_shows`` tells it."""

    path: str  # where its findings are said to be
    text: bytes | None  # in UTF-8; None when that is its bytes, or it cannot be decoded
    problem: str | None = None  # why it could not be decoded


def as_git_shows(oid: str, data: bytes) -> Shown:
    """A commit that declares another encoding than UTF-8, as `git log` shows it: its whole
    text decoded from that encoding, in UTF-8. A key in EBCDIC, in UTF-7, or in ISO-2022-JP
    with escapes between its characters is no key in the raw bytes, and `git log` shows it
    plainly (found by a review: exit 0 in every history mode)."""
    name = declared(data) or b""
    shown = name[:40].decode("ascii", "replace") if set(name) <= _NAME_CHARS else "(unreadable)"
    # named as messages are (" message)" ends it): the audit places it by its commit
    path = f"(commit {oid[:12]} in {shown}, as git log shows its message)"
    if len(data) > DECODED_LIMIT:
        return Shown(path, None, f"it declares the encoding {shown} and is too large to decode")
    try:
        if codecs.lookup(shown).name in _NOT_ICONV:
            return Shown(path, None)  # git shows its bytes as they are: they were scanned
        converted = data.decode(shown, "replace").encode("utf-8", "surrogatepass")
    except Exception:  # LookupError, a codec that fails or is no text codec: hostile input
        reason = (
            f"it declares its text is in the encoding {shown}, which sgai-guard cannot "
            "decode (git log decodes it): only its raw bytes were scanned"
        )
        return Shown(path, None, reason)
    return Shown(path, None if converted == data else converted)


def messages(
    repo: Repository, oids: Sequence[str], kind: str = "commit"
) -> Iterator[Blob | Skipped]:
    """The headers and the message of each commit (or annotated tag) in ``oids``, through one
    cat-file process (none for no ``oids``: a push of many refs at known commits started two
    for each ref)."""
    if not oids:
        return
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
        first = answer.part is None or answer.part.first
        if commit is not None and first and declared(answer.data):
            yield from decoded(commit, answer.data, whole=answer.part is None)


def decoded(oid: str, data: bytes, *, whole: bool = True) -> Iterator[Blob | Skipped]:
    """A commit as `git log` shows it, when it declares another encoding (``as_git_shows``);
    ``whole``: ``data`` is all of it (a commit read in pieces is said, not decoded)."""
    shown = as_git_shows(oid, data) if whole else Shown("", None, _IN_PIECES)
    if shown.text is not None:
        yield Blob(shown.path, shown.text, commit=oid, status=Status.NEW, message=True)
    elif shown.problem is not None:
        yield Skipped(f"(commit {oid[:12]})", shown.problem, error=True, blob_id=oid)


_IN_PIECES = "it declares another encoding than UTF-8 and is too large to decode whole"


# Deeper chains of tags are not followed (each costs two git processes): said, not read.
TAG_CHAIN_LIMIT = 64


def tag_chain(repo: Repository, oid: str) -> tuple[list[str], str]:
    """``oid`` and every tag it points at in turn, when it is an annotated tag (a tag of a
    tag publishes the inner tag's message too); and why the chain was not followed to where
    git peels it ("" when it was). git reads the ids in a tag's header in either case: one
    in capitals hid the inner tag's key (found by an attacker review)."""
    if not is_object_id(oid):  # a revision git reads: the object it names
        named = repo.lines("rev-parse", "--verify", "--quiet", "--end-of-options", oid)
        if len(named) != 1 or not is_object_id(named[0]):
            return [], ""
        oid = named[0]
    return tag_chains(repo, [oid])[oid]


def tag_chains(repo: Repository, oids: Sequence[str]) -> dict[str, tuple[list[str], str]]:
    """``tag_chain`` of each of ``oids``, followed a level at a time for all of them at once:
    two git processes a level and one more, not four a tag (a push of 300 tags cost 1,200)."""
    starts = list(dict.fromkeys(oids))
    chains: dict[str, list[str]] = {start: [] for start in starts}
    problems: dict[str, str] = {}
    at = {start: start for start in starts}  # where each chain has got to
    going = list(starts)
    while going:
        kinds = object_kinds(repo, [at[start] for start in going])
        tags = []
        for start in going:
            oid, chain = at[start], chains[start]
            if kinds.get(oid) != "tag" or oid in chain:
                continue
            if len(chain) == TAG_CHAIN_LIMIT:
                problems[start] = (
                    f"tag {chain[0][:12]} is a tag of more than {TAG_CHAIN_LIMIT} tags"
                )
                continue
            chain.append(oid)
            tags.append(start)
        targets = _targets(repo, [at[start] for start in tags])
        going = []
        for start in tags:
            target = targets.get(at[start])
            if target is not None:  # else git cannot follow it either (checked below)
                at[start] = target
                going.append(start)
    firsts = [chain[0] for chain in chains.values() if chain]
    peeled = peels(repo, firsts)
    for start in starts:
        chain = chains[start]
        if start in problems or not chain:
            continue
        end = peeled.get(chain[0])
        if end is not None and end != at[start]:
            problems[start] = f"tag {chain[0][:12]} points at {end[:12]} through tags not read"
    return {start: (chains[start], problems.get(start, "")) for start in starts}


def _targets(repo: Repository, tags: list[str]) -> dict[str, str]:
    """What each tag's header says it points at (in lower case), where that is an id."""
    found: dict[str, str] = {}
    if not tags:
        return found
    for answer in catfile.read_blobs(repo.path, ((tag, tag) for tag in tags), kinds=("tag",)):
        if answer.data is None or (answer.part is not None and not answer.part.first):
            continue
        lines = [line for line in answer.data.decode("utf-8", "replace").split("\n") if line]
        target = lines[0].split() if lines else []
        if len(target) == 2 and target[0] == "object" and is_object_id(target[1].lower()):
            found[answer.request] = target[1].lower()
    return found


def object_kinds(repo: Repository, oids: Sequence[str]) -> dict[str, str]:
    """The type of each of ``oids`` the store has, through one git process (an id the store
    lacks is left out: a tag's target may be missing, found by an attacker review)."""
    return _checked(repo, oids, "%(objecttype)", "")


def peels(repo: Repository, oids: Sequence[str]) -> dict[str, str]:
    """What git finds at the end of the tags each of ``oids`` starts (itself if no tag)."""
    found = _checked(repo, oids, "%(objectname)", "^{}")
    return {oid: end for oid, end in found.items() if is_object_id(end)}


def commits_of(repo: Repository, oids: Sequence[str]) -> dict[str, str]:
    """The commit each of ``oids`` names (through its tags), as `rev-parse --verify
    <oid>^{commit}` finds it, for all of them through one git process."""
    found = _checked(repo, oids, "%(objectname)", "^{commit}")
    return {oid: commit for oid, commit in found.items() if is_object_id(commit)}


def object_kind(repo: Repository, oid: str) -> str | None:
    """``oid``'s type, or None when the store lacks it (any revision git reads, not only an
    object id)."""
    if is_object_id(oid):
        return object_kinds(repo, [oid]).get(oid)
    proc = gitcmd.run(["cat-file", "-t", "--end-of-options", oid], repo.path)
    kind = proc.stdout.decode("ascii", "replace").strip()
    return kind if proc.returncode == 0 and kind else None


def peel(repo: Repository, oid: str) -> str | None:
    """What git finds at the end of the tags ``oid`` starts (``oid`` itself if no tag)."""
    if is_object_id(oid):
        return peels(repo, [oid]).get(oid)
    found = repo.lines("rev-parse", "--verify", "--quiet", "--end-of-options", f"{oid}^{{}}")
    return found[0] if len(found) == 1 and is_object_id(found[0]) else None


def _checked(repo: Repository, oids: Sequence[str], wanted: str, suffix: str) -> dict[str, str]:
    """One `cat-file --batch-check` answer for each object id among ``oids`` (``suffix``, in
    git's revision syntax, after it); an id git cannot find is left out, and so is anything
    that is no object id (it could spell an option, or hold a newline)."""
    names = [oid for oid in dict.fromkeys(oids) if is_object_id(oid)]
    if not names:
        return {}
    asked = "".join(f"{oid}{suffix}\n" for oid in names).encode("ascii")
    proc = gitcmd.run(["cat-file", f"--batch-check={wanted}"], repo.path, stdin=asked)
    lines = proc.stdout.decode("utf-8", "replace").split("\n")
    if proc.returncode != 0 or len(lines) < len(names):
        return {}
    # "<name> missing" or "<name> ambiguous" hold a space; a type or an id does not
    return {oid: line for oid, line in zip(names, lines, strict=False) if line and " " not in line}
