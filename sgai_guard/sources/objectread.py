"""Commits and trees read by id for the audit's triage (tips, authors, dates), through one
interactive `git cat-file --batch` and parsed here: SHA-1 and SHA-256 repositories alike.

Everything read is the scanned repository's, so hostile: an id that is not one is never
sent to git (a newline in it would ask for something else), what the triage does not need
of an object is read past or left to a new git, never held, and a malformed author line or
date gives empty fields rather than an error. An object git stops on costs that object
only: the next one is asked of a new git (a few times at most), and the caller is told how
many could not be read (``failures``).
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
from sgai_guard.sources.objectstream import drain

MAX_HEADERS = 64 << 10  # of a commit, only its headers are read: at most this much of it
MAX_TREE = 64 << 20  # a tree of a million entries is about 40 MiB
MAX_RESTARTS = 16  # new gits after one stopped; then nothing more is read
_SKIP_AT_MOST = 1 << 20  # an answer not wanted is read past up to this size
_TREE_MODE = b"40000"
_IN_STEP, _MIDWAY, _STOPPED = range(3)  # where git's answers are after one was read
# after the last ">" of an ident line: the date, then the zone, as git's split_ident_line
_WHEN = re.compile(rb"\s*(\d+)\s*([+-])(\d+)")


class Commit(NamedTuple):
    tree: str | None  # its root tree; None when it has none (or cannot be read)
    ref: CommitRef


class Entry(NamedTuple):
    oid: str
    tree: bool  # a folder (mode 40000): the only kind a path goes on through


class Objects:
    """An interactive `cat-file --batch`, started at the first object asked for."""

    def __init__(self, repo: str) -> None:
        self._repo = repo
        self._proc: subprocess.Popen[bytes] | None = None
        self._restarts = 0
        self.failures = 0  # objects asked for that git stopped on, or never got to

    def commit(self, oid: str) -> Commit:
        """The commit ``oid``: its tree, author and date; empty fields when it cannot be
        read or is no commit (a tag of a tag, a tagged tree)."""
        data = self._read(oid, "commit", MAX_HEADERS, whole=False)
        if data is None:
            return Commit(None, CommitRef(oid, "", ""))
        headers = data.split(b"\n\n", 1)[0].split(b"\n")
        first = headers[0]
        tree = first[5:].decode("ascii", "replace").lower() if first[:5] == b"tree " else ""
        authors = [line[7:] for line in headers if line.startswith(b"author ")]
        ref = _ref(oid, authors[-1]) if authors else CommitRef(oid, "", "")  # git takes the last
        return Commit(tree if is_object_id(tree) else None, ref)

    def tree(self, oid: str) -> dict[str, Entry]:
        """Each entry by name (the first of a name twice, as git looks it up); {} when
        ``oid`` is no readable tree."""
        data = self._read(oid, "tree", MAX_TREE, whole=True)
        return {} if data is None else entries(data, len(oid) // 2)

    def _read(self, oid: str, kind: str, limit: int, *, whole: bool) -> bytes | None:
        """The object, or its first ``limit`` bytes when not ``whole``; None when it is not
        of ``kind``, larger than ``limit`` when ``whole``, or cannot be read."""
        if not is_object_id(oid):
            return None
        proc = self._start()
        if proc is None:
            self.failures += 1
            return None
        try:
            stdin, stdout = catfile.pipe(proc.stdin), catfile.pipe(proc.stdout)
            stdin.write(oid.encode("ascii") + b"\n")
            stdin.flush()
            data, state = _answer(stdout, kind, limit, whole)
        except OSError:  # git is gone
            data, state = None, _STOPPED
        if state != _IN_STEP:  # git stopped, or what is left of its answer is not worth reading
            self.close()
            self.failures += state == _STOPPED
        return data

    def _start(self) -> subprocess.Popen[bytes] | None:
        if self._proc is None:
            if self._restarts > MAX_RESTARTS:
                return None
            self._restarts += 1
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


def _answer(out: IO[bytes], kind: str, limit: int, whole: bool) -> tuple[bytes | None, int]:
    """One answer of `cat-file --batch`: the data wanted (see Objects._read), and where the
    stream is: at the next answer, in the middle of this one, or stopped."""
    header = out.readline()
    if not header.endswith(b"\n"):
        return None, _STOPPED
    found = catfile.parse_header(header)
    if found is None:
        return None, _IN_STEP  # "<oid> missing"
    _, listed, size = found
    if listed != kind or (whole and size > limit):
        return None, _past(out, size + 1)
    data = out.read(min(size, limit))
    if len(data) != min(size, limit):
        return None, _STOPPED
    return data, _past(out, size - len(data) + 1)


def _past(out: IO[bytes], size: int) -> int:
    """Read past the rest of an answer when it is small."""
    if size >= _SKIP_AT_MOST:
        return _MIDWAY
    return _IN_STEP if drain(out, size) else _STOPPED


def entries(tree: bytes, width: int) -> dict[str, Entry]:
    """A raw tree's entries (`<mode> <name>\\0<id>`...), names decoded as paths are; {} for
    bytes that are no tree."""
    found: dict[str, Entry] = {}
    pos = 0
    while pos < len(tree):
        nul = tree.find(b"\0", pos)
        space = tree.find(b" ", pos, nul)
        if nul == -1 or space == -1 or nul + 1 + width > len(tree):
            return {}
        name = os.fsdecode(tree[space + 1 : nul])
        if name not in found:
            oid = tree[nul + 1 : nul + 1 + width].hex()
            found[name] = Entry(oid, tree[pos:space] == _TREE_MODE)
        pos = nul + 1 + width
    return found


def _ref(oid: str, ident: bytes) -> CommitRef:
    """Who wrote the commit and when, as `git log --format='%an <%ae>'` and `%aI` say it:
    the name before the first "<", the email up to the first ">" after it, the date and
    zone after the last ">"."""
    lt = ident.find(b"<")
    gt = ident.find(b">", lt + 1) if lt != -1 else -1
    if gt == -1:
        return CommitRef(oid, "", "")
    name = ident[:lt].rstrip().decode("utf-8", "replace")
    who = f"{name} <{ident[lt + 1 : gt].decode('utf-8', 'replace')}>"
    return CommitRef(oid, who, _when(ident[ident.rfind(b">") + 1 :]))


def _when(text: bytes) -> str:
    """A date and zone (`1700000000 +0530`) as git's strict ISO 8601; "" for none a
    calendar holds."""
    match = _WHEN.match(text)
    if match is None or len(match[1]) > 18 or len(match[3]) > 9:
        return ""
    zone = int(match[3])
    offset = timedelta(hours=zone // 100, minutes=zone % 100) * (-1 if match[2] == b"-" else 1)
    try:
        return datetime.fromtimestamp(int(match[1]), timezone(offset)).isoformat()
    except (ValueError, OverflowError, OSError):
        return ""
