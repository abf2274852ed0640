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
from sgai_guard.sources import catfile
from sgai_guard.sources.repo import Repository


@dataclass(slots=True)
class Walked:
    commits: int = 0
    missing: list[str] = field(default_factory=list)
    error: str = ""  # git's complaint when the walk failed


_FEW = 16  # trees looked up one search each when there is no Hyperscan


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
        args = ["rev-list", "--objects", "--all", "--missing=print", *extra]
        self._proc = catfile.popen(args, repo.path, stdout=self.out)

    def finish(self) -> Walked:
        walked = Walked(error=catfile.complaint(self._proc, "git rev-list failed"))
        with _mapped(self.out) as text:
            # Commits come first, one id a line; every tree and blob comes with a space and a
            # path after its id; what is missing comes last, "?" and its id.
            first = text.find(b" ")
            objects = len(text) if first == -1 else text.rfind(b"\n", 0, first) + 1
            walked.commits = text[:objects].count(b"\n")
            at = text.find(b"\n?", objects - 1)
            while at != -1:
                end = text.find(b"\n", at + 1)
                line = text[at + 2 : end if end != -1 else len(text)]
                walked.missing.append(line.strip().decode("ascii", "replace"))
                at = text.find(b"\n?", at + 1)
        return walked

    def paths(self, trees: set[bytes]) -> dict[bytes, str]:
        """The path each of ``trees`` (hex ids) was first seen at: "" for a root tree."""
        if not trees:
            return {}
        if len(trees) > _FEW and not hyperscan_usable():
            return self._parsed_paths(trees)
        wanted = sorted(trees)
        found: dict[bytes, str] = {}
        with _mapped(self.out) as text:
            firsts = Prefilter([b"\n" + oid + b" " for oid in wanted])(text)
            for n, at in firsts.items():
                start = at + len(wanted[n]) + 2
                end = text.find(b"\n", start)
                path = text[start : end if end != -1 else len(text)]
                found[wanted[n]] = path.decode("utf-8", "surrogateescape")
        return found

    def _parsed_paths(self, trees: set[bytes]) -> dict[bytes, str]:
        found: dict[bytes, str] = {}
        self.out.seek(0)
        for line in self.out:
            oid, space, path = line.rstrip(b"\n").partition(b" ")
            if space and oid in trees and oid not in found:
                found[oid] = path.decode("utf-8", "surrogateescape")
        return found

    def close(self) -> None:
        self.out.close()
