"""The audit's one walk of the history: `git rev-list --objects --all --missing=print`, written
by git straight to a temporary file while the object store is read. It tells how many commits
the history holds, which objects the history names but the store lacks (a partial clone or a
damaged mirror), and the path of every tree, which names unreadable objects (sources.naming).
"""

from __future__ import annotations

import contextlib
import mmap
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO

from sgai_guard.detection.prefilter import Prefilter, hyperscan_usable
from sgai_guard.sources import catfile, gitcmd
from sgai_guard.sources.repo import Repository


@dataclass(slots=True)
class Walked:
    commits: int = 0
    missing: list[str] = field(default_factory=list)
    error: str = ""  # git's complaint when the walk failed


_FEW = 16  # trees looked up one search each when there is no Hyperscan
_MANY = 1000  # more trees than this: one pass over the lines (a database of each costs more)
_SCAN_LIMIT = 1 << 32  # Hyperscan takes a 32-bit length: a larger file is read line by line


def _question_lines(text: bytes | mmap.mmap) -> Iterator[bytes]:
    """The ids on the lines that start with "?" (what the walk found missing). A name never
    holds a newline (rev-list cuts it there), so no name can fake one."""
    mark = 0 if text[:1] == b"?" else _next_mark(text, 0)
    while mark != -1:  # ``mark``: where a "?" starts a line
        end = text.find(b"\n", mark)
        yield text[mark + 1 : end if end != -1 else len(text)].strip()
        mark = _next_mark(text, mark)


def _next_mark(text: bytes | mmap.mmap, after: int) -> int:
    found = text.find(b"\n?", after)
    return -1 if found == -1 else found + 1


def _commits_end(text: bytes | mmap.mmap) -> int:
    """Where the commits end: they come first, an id alone on its line, before the first line
    with a space (a tree, blob or tag with its name) or with a "?" (a missing object). A walk
    may hold no commit at all (refs to trees only) or nothing but commits and "?" lines (a
    treeless clone)."""
    first_space = text.find(b" ")
    ends = [len(text)]
    if first_space != -1:
        ends.append(text.rfind(b"\n", 0, first_space) + 1)
    if text[:1] == b"?":
        ends.append(0)
    question = text.find(b"\n?")
    if question != -1:
        ends.append(question + 1)
    return min(ends)


@contextlib.contextmanager
def _mapped(out: IO[bytes]) -> Iterator[bytes | mmap.mmap]:
    """The walk's whole output, mapped (an empty file cannot be)."""
    out.flush()
    if os.fstat(out.fileno()).st_size == 0:
        yield b""
        return
    with mmap.mmap(out.fileno(), 0, access=mmap.ACCESS_READ) as text:
        yield text


class Walk:
    def __init__(self, repo: Repository, extra: list[str]) -> None:
        self.out: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 - kept until close()
        args = ["rev-list", "--objects", *repo.all_refs(), "--missing=print", *extra]
        self._proc = catfile.walk_popen(args, repo.path, repo.tip_ids, stdout=self.out)

    def finish(self) -> Walked:
        walked = Walked(error=catfile.complaint(self._proc, "git rev-list failed"))
        with _mapped(self.out) as text:
            walked.missing = [line.decode("ascii", "replace") for line in _question_lines(text)]
            walked.commits = text[: _commits_end(text)].count(b"\n")
        return walked

    def paths(self, trees: set[bytes]) -> dict[bytes, str]:
        """The path each of ``trees`` (hex ids) was first seen at: "" for a root tree."""
        if not trees:
            return {}
        size = os.fstat(self.out.fileno()).st_size
        many = len(trees) > _FEW and not hyperscan_usable()
        if many or len(trees) > _MANY or size >= _SCAN_LIMIT:
            return self._parsed_paths(trees)
        wanted = sorted(trees)
        found: dict[bytes, str] = {}
        with _mapped(self.out) as text:
            oid, space, path = text[: text.find(b"\n")].partition(b" ")
            if space and oid in trees:  # the first line has no newline before it
                found[oid] = path.decode("utf-8", "surrogateescape")
            firsts = Prefilter([b"\n" + oid + b" " for oid in wanted])(text)
            for n, at in firsts.items():
                start = at + len(wanted[n]) + 2
                end = text.find(b"\n", start)
                path = text[start : end if end != -1 else len(text)]
                found.setdefault(wanted[n], path.decode("utf-8", "surrogateescape"))
        return found

    def _parsed_paths(self, trees: set[bytes]) -> dict[bytes, str]:
        found: dict[bytes, str] = {}
        self.out.seek(0)
        for line in self.out:
            oid, space, path = line.rstrip(b"\n").partition(b" ")
            if space and oid in trees and oid not in found:
                found[oid] = path.decode("utf-8", "surrogateescape")
        return found

    def kill(self) -> None:
        """Stop the walk's git now; its output and complaints stay open (see ``finish``)."""
        gitcmd.kill(self._proc)

    def close(self) -> None:
        """Let go of the walk's file; a walk still running (the audit was interrupted) is
        killed first: git runs in a session of its own, which ^C never reaches."""
        if self._proc.poll() is None:
            gitcmd.stop(self._proc)
        self.out.close()
        if self._proc.stderr is not None:  # git's complaints (catfile.popen's temporary file)
            self._proc.stderr.close()
