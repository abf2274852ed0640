"""A whole-history audit: every blob reachable from every ref, each read once.

`git rev-list --objects` walks the history and names each reachable blob once, with a path;
its output streams straight into `git cat-file --batch`, so memory stays flat whatever the
history's size. `--missing=print` names objects a partial clone or a damaged mirror lacks.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO

from sgai_guard.models import Blob, Skipped
from sgai_guard.sources import catfile, gitcmd
from sgai_guard.sources.repo import Repository

_OID_LINE = re.compile(rb"^\??[0-9a-f]{40}(?:[0-9a-f]{24})?(?: |$)")


@dataclass(slots=True)
class AuditScan:
    repo: Repository
    include_reflog: bool = False
    include_unreachable: bool = False
    incomplete: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    commits: int = 0
    blobs_listed: int = 0

    def check(self) -> None:
        """Say up front what the history lacks: a shallow clone cannot be audited whole."""
        shallow = self.repo.shallow_commits()
        if shallow:
            self.incomplete.append(
                f"the repository is a shallow clone ({len(shallow)} boundary commit(s)): "
                "history before the boundary is missing; run git fetch --unshallow first"
            )
        if not self.repo.lines("for-each-ref", "--count=1", "--format=%(refname)"):
            self.notices.append("the repository has no refs: there is no history to audit")
            return
        count = ["rev-list", "--count", "--all", *(["--reflog"] if self.include_reflog else [])]
        proc = gitcmd.run(count, self.repo.path)
        if proc.returncode != 0:  # a damaged repository: the walk will say what it can read
            error = proc.stderr.decode("utf-8", "replace").strip().splitlines()
            self.incomplete.append(
                f"cannot walk the history: {error[-1] if error else 'git failed'}"
            )
            return
        self.commits = int(proc.stdout.strip() or 0)

    def _walk_args(self) -> list[str]:
        args = ["rev-list", "--objects", "--all", "--missing=print", "--filter=object:type=blob"]
        return [*args, "--reflog"] if self.include_reflog else args

    def blobs(self) -> Iterator[Blob | Skipped]:
        walk = catfile.popen(self._walk_args(), self.repo.path)
        missing: list[str] = []
        seen: set[str] | None = set() if self.include_unreachable else None
        requests = self._requests(catfile.pipe(walk.stdout), missing, seen)
        for answer in catfile.read_blobs(self.repo.path, requests):
            if answer.data is None:
                yield Skipped(f"{answer.request} ({answer.oid[:12]})", answer.problem or "", True)
            else:
                yield Blob(answer.request, answer.data, blob_id=answer.oid)
        yield from self._walk_end(walk, missing)
        if seen is not None:
            yield from self._unreachable(seen)

    def _requests(
        self, lines: IO[bytes], missing: list[str], seen: set[str] | None
    ) -> Iterator[tuple[str, str]]:
        """(oid, path) of each blob the walk lists; commits are counted, missing ones noted."""
        pending: tuple[str, str] | None = None
        for raw in lines:
            line = raw.rstrip(b"\n")
            if not _OID_LINE.match(line):  # a path holding a newline continues here
                if pending is not None:
                    pending = (pending[0], pending[1] + "\n" + os.fsdecode(line))
                continue
            if pending is not None:
                yield pending
                pending = None
            oid, named, path = line.partition(b" ")
            if oid.startswith(b"?"):
                missing.append(oid[1:].decode())
            elif named:  # lines without a name are commits
                self.blobs_listed += 1
                if seen is not None:
                    seen.add(oid.decode())
                pending = (oid.decode(), os.fsdecode(path))
        if pending is not None:
            yield pending

    def _walk_end(self, walk: subprocess.Popen[bytes], missing: list[str]) -> Iterator[Skipped]:
        error = catfile.pipe(walk.stderr).read().decode("utf-8", "replace").strip()
        if walk.wait() != 0:
            yield Skipped("(history walk)", f"git rev-list failed: {error[-300:]}", error=True)
        for oid in missing:
            yield Skipped(
                f"object {oid[:12]}",
                "missing from the repository (partial clone or damaged mirror): not scanned",
                error=True,
            )

    def _unreachable(self, seen: set[str]) -> Iterator[Blob | Skipped]:
        listing = catfile.popen(
            ["cat-file", "--batch-all-objects", "--batch-check=%(objecttype) %(objectname)"],
            self.repo.path,
        )
        extra = [
            line.split()[1].decode()
            for line in catfile.pipe(listing.stdout)
            if line.startswith(b"blob ") and line.split()[1].decode() not in seen
        ]
        listing.wait()
        requests = ((oid, f"(unreachable blob {oid[:12]})") for oid in extra)
        for answer in catfile.read_blobs(self.repo.path, requests):
            if answer.data is not None:
                yield Blob(answer.request, answer.data, blob_id=answer.oid)


def count_blobs(repo: Repository) -> int:
    """How many blobs the object store holds: the denominator of an audit's ETA."""
    listing = catfile.popen(
        ["cat-file", "--batch-all-objects", "--batch-check=%(objecttype)", "--unordered"],
        repo.path,
    )
    total = sum(1 for line in catfile.pipe(listing.stdout) if line == b"blob\n")
    listing.wait()
    return total
