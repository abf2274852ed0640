"""Commits and trees read by id for the audit's triage (tips, authors, dates), through one
interactive `git cat-file --batch` and parsed here: SHA-1 and SHA-256 repositories alike.

Everything read is the scanned repository's, so hostile: an id that is not one is never
sent to git (a newline in it would ask for something else), an object larger than the
triage needs is read past, never held, and a malformed author line or date gives empty
fields rather than an error.
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import IO, NamedTuple

from sgai_guard.models import CommitRef, is_object_id
from sgai_guard.sources import catfile

MAX_COMMIT = 1 << 20  # larger commits are not read (listing.MAX_MESSAGE_OBJECT's bound too)
MAX_TREE = 64 << 20  # a tree of a million entries is about 40 MiB
_SKIP_AT_MOST = 1 << 20  # an answer not wanted is read past up to this size
_AUTHOR = re.compile(rb"^author (.*) <([^<>]*)> (\d{1,18}) ([+-])(\d\d)(\d\d)$")


class Commit(NamedTuple):
    tree: str | None  # its root tree; None when it has none (or cannot be read)
    ref: CommitRef


class Objects:
    """An interactive `cat-file --batch`, started at the first object asked for."""

    def __init__(self, repo: str) -> None:
        self._repo = repo
        self._proc: subprocess.Popen[bytes] | None = None
        self._stopped = False

    def commit(self, oid: str) -> Commit:
        """The commit ``oid``: its tree, author and date; empty fields when it cannot be
        read or is no commit (a tag of a tag, a tagged tree)."""
        data = self._read(oid, "commit", MAX_COMMIT)
        if data is None:
            return Commit(None, CommitRef(oid, "", ""))
        headers = data.split(b"\n\n", 1)[0].split(b"\n")
        tree = headers[0][5:].decode("ascii", "replace") if headers[0][:5] == b"tree " else None
        author = next((line for line in headers if line.startswith(b"author ")), b"")
        return Commit(tree if tree and is_object_id(tree) else None, _ref(oid, author))

    def tree(self, oid: str) -> dict[str, str]:
        """Each entry's name and id; {} when ``oid`` is no readable tree."""
        data = self._read(oid, "tree", MAX_TREE)
        return {} if data is None else entries(data, len(oid) // 2)

    def _read(self, oid: str, kind: str, limit: int) -> bytes | None:
        if self._stopped or not is_object_id(oid):
            return None
        try:
            proc = self._start()
            stdin, stdout = catfile.pipe(proc.stdin), catfile.pipe(proc.stdout)
            stdin.write(oid.encode("ascii") + b"\n")
            stdin.flush()
            return self._answer(stdout, kind, limit)
        except OSError:  # git is gone: nothing more is read
            self._stopped = True
            return None

    def _answer(self, out: IO[bytes], kind: str, limit: int) -> bytes | None:
        header = out.readline()
        if not header.endswith(b"\n"):
            self._stopped = True
            return None
        found = catfile.parse_header(header)
        if found is None:
            return None  # "<oid> missing"
        _, listed, size = found
        if listed != kind or size > limit:
            if size < _SKIP_AT_MOST:
                self._stopped = not _skip(out, size + 1)
            else:  # a tag naming a 2 GiB blob: another git is cheaper than reading it
                self.close()
            return None
        data = out.read(size + 1)
        if len(data) != size + 1:
            self._stopped = True
            return None
        return data[:-1]

    def _start(self) -> subprocess.Popen[bytes]:
        if self._proc is None:
            self._proc = catfile.popen(["cat-file", "--batch"], self._repo, stdin=True)
        return self._proc

    def close(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        for stream in (proc.stdin, proc.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        proc.wait()
        if proc.stderr is not None:  # catfile.popen's file of what git said
            proc.stderr.close()


@contextlib.contextmanager
def opened(repo: str) -> Iterator[Objects]:
    objects = Objects(repo)
    try:
        yield objects
    finally:
        objects.close()


def entries(tree: bytes, width: int) -> dict[str, str]:
    """A raw tree's entries (`<mode> <name>\\0<id>`...), names decoded as paths are; {} for
    bytes that are no tree."""
    found: dict[str, str] = {}
    pos = 0
    while pos < len(tree):
        nul = tree.find(b"\0", pos)
        space = tree.find(b" ", pos, nul)
        if nul == -1 or space == -1 or nul + 1 + width > len(tree):
            return {}
        name = os.fsdecode(tree[space + 1 : nul])
        found[name] = tree[nul + 1 : nul + 1 + width].hex()
        pos = nul + 1 + width
    return found


def _ref(oid: str, author: bytes) -> CommitRef:
    """Who wrote the commit and when, as `git log --format='%an <%ae>'` and `%aI` say it."""
    match = _AUTHOR.match(author)
    if match is None:
        return CommitRef(oid, "", "")
    name, email, stamp, sign, hours, minutes = match.groups()
    who = f"{name.decode('utf-8', 'replace')} <{email.decode('utf-8', 'replace')}>"
    offset = timedelta(hours=int(hours), minutes=int(minutes)) * (-1 if sign == b"-" else 1)
    try:
        when = datetime.fromtimestamp(int(stamp), timezone(offset)).isoformat()
    except (ValueError, OverflowError, OSError):  # a date no calendar holds
        when = ""
    return CommitRef(oid, who, when)


def _skip(out: IO[bytes], size: int) -> bool:
    """Read past ``size`` bytes; False when git stopped first."""
    while size > 0:
        chunk = out.read(min(size, 1 << 20))
        if not chunk:
            return False
        size -= len(chunk)
    return True
