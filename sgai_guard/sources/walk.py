"""The audit's one walk of the history: `git rev-list --objects --all --missing=print`, written
by git straight to a temporary file while the object store is read. It tells how many commits
the history holds, which objects the history names but the store lacks (a partial clone or a
damaged mirror), and the path of every tree, which names unreadable objects (sources.naming).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from typing import IO

from sgai_guard.sources import catfile
from sgai_guard.sources.repo import Repository


@dataclass(slots=True)
class Walked:
    commits: int = 0
    missing: list[str] = field(default_factory=list)
    error: str = ""  # git's complaint when the walk failed


class Walk:
    def __init__(self, repo: Repository, extra: list[str]) -> None:
        self.out: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 - kept until close()
        args = ["rev-list", "--objects", "--all", "--missing=print", *extra]
        self._proc = catfile.popen(args, repo.path, stdout=self.out)

    def finish(self) -> Walked:
        walked = Walked(error=catfile.complaint(self._proc, "git rev-list failed"))
        self.out.seek(0)
        for line in self.out:
            if line.startswith(b"?"):
                walked.missing.append(line[1:].strip().decode("ascii", "replace"))
            elif b" " not in line:  # a commit; trees and blobs come with a path
                walked.commits += 1
        return walked

    def paths(self, trees: set[bytes]) -> dict[bytes, str]:
        """The path each of ``trees`` (hex ids) was first seen at: "" for a root tree."""
        found: dict[bytes, str] = {}
        if not trees:
            return found
        self.out.seek(0)
        for line in self.out:
            oid, space, path = line.rstrip(b"\n").partition(b" ")
            if space and oid in trees and oid not in found:
                found[oid] = path.decode("utf-8", "surrogateescape")
        return found

    def close(self) -> None:
        self.out.close()
