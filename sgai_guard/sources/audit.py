"""A whole-history audit: every blob in the object store, each read once, in pack order.

`git cat-file --batch-all-objects --unordered` reads objects in the order they sit in their
packs, which keeps git's delta cache warm: on a delta-heavy history it is twice as fast as
reading the same blobs in history order. Memory stays flat whatever the history's size.
Which blobs a ref reaches is settled afterwards, only for blobs holding secrets (see
sources.history). Meanwhile a `rev-list --missing=print` walk names the objects a partial
clone or a damaged mirror lacks.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from functools import partial
from typing import IO

from sgai_guard.detection.rules import RULES, utf16_keyword
from sgai_guard.models import Blob, Part, Skipped
from sgai_guard.sources import catfile, gitcmd
from sgai_guard.sources.messages import message_path
from sgai_guard.sources.pieces import StreamChunks, pieces
from sgai_guard.sources.repo import Repository

MAX_MESSAGE_OBJECT = 1 << 20  # a larger commit or tag object is drained, not scanned
# Every keyword a rule looks for, in every encoding: a message without one holds no key.
_KEYWORDS = {k for rule in RULES for k in rule.keywords}
_KEYWORDS |= {utf16_keyword(rule.provider.prefix.encode()) for rule in RULES}
_HINTS = re.compile(b"|".join(re.escape(k) for k in sorted(_KEYWORDS)))


@dataclass(slots=True)
class AuditScan:
    repo: Repository
    include_reflog: bool = False
    max_blob_size: int | None = None  # a cap the user set; else large blobs come in pieces
    incomplete: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    commits: int = 0
    empty_ok: bool = False  # no refs: nothing to audit, and said so

    def check(self) -> None:
        """Say up front what the history lacks: a shallow clone cannot be audited whole."""
        gitcmd.require_version((2, 32), "an audit (rev-list --filter=object:type=blob)")
        shallow = self.repo.shallow_commits()
        if shallow:
            self.incomplete.append(
                f"the repository is a shallow clone ({len(shallow)} boundary commit(s)): "
                "history before the boundary is missing; run git fetch --unshallow first"
            )
        if not self.repo.lines("for-each-ref", "--count=1", "--format=%(refname)"):
            self.notices.append("the repository has no refs: there is no history to audit")
            self.empty_ok = True
            return
        count = ["rev-list", "--count", "--all", *self._reflog()]
        proc = gitcmd.run(count, self.repo.path)
        if proc.returncode != 0:  # a damaged repository: the walk will say what it can read
            error = proc.stderr.decode("utf-8", "replace").strip().splitlines()
            self.incomplete.append(
                f"cannot walk the history: {error[-1] if error else 'git failed'}"
            )
            return
        self.commits = int(proc.stdout.strip() or 0)

    def _reflog(self) -> list[str]:
        return ["--reflog"] if self.include_reflog else []

    def blobs(self) -> Iterator[Blob | Skipped]:
        walk = _MissingWalk(self.repo, self._reflog())
        reader = catfile.popen(
            ["cat-file", "--batch-all-objects", "--batch", "--unordered"], self.repo.path
        )
        yield from _objects(catfile.pipe(reader.stdout), self.max_blob_size)
        error = catfile.pipe(reader.stderr).read().decode("utf-8", "replace").strip()
        status = reader.wait()
        if status != 0:
            detail = _last_line(error) or f"exit status {status}"
            yield Skipped("(object store)", f"git cat-file stopped: {detail}", error=True)
        yield from walk.finish()


def _objects(out: IO[bytes], max_size: int | None) -> Iterator[Blob | Skipped]:
    while header := out.readline():
        if not header.endswith(b"\n"):
            yield Skipped("(object store)", "git stopped in the middle of the object list", True)
            return
        found = catfile.parse_header(header)
        if found is None:
            oid = header.split(b" ", 1)[0].decode("ascii", "replace")
            yield Skipped(f"object {oid[:12]}", "unreadable object", error=True, blob_id=oid)
            continue
        stopped = yield from _object(out, *found, max_size)
        if stopped:
            return


def _object(
    out: IO[bytes], oid: str, kind: str, size: int, max_size: int | None
) -> Generator[Blob | Skipped, None, bool]:
    """A blob's pieces, a message, or why it was passed over; True when git stopped in the
    middle."""
    if kind == "blob" and (max_size is None or size <= max_size):
        whole = yield from _read_blob(out, oid, size)
    elif kind in ("commit", "tag") and size <= MAX_MESSAGE_OBJECT:
        data = out.read(size)
        whole = len(data) == size and out.read(1) == b"\n"
        yield from _message(oid, kind, data) if whole else ()
    else:
        whole = _drain(out, size + 1)
        yield from _over_cap(oid, kind, size, max_size) if whole else ()
    if not whole:
        yield Skipped(f"{kind} {oid[:12]}", "git stopped while reading it", True, oid)
    return not whole


def _read_blob(out: IO[bytes], oid: str, size: int) -> Generator[Blob, None, bool]:
    """The blob's pieces; False when git stopped before its end."""
    reader = StreamChunks(out, size)
    yield from pieces(reader, partial(_blob, oid))
    return not reader.short and out.read(1) == b"\n"


def _over_cap(oid: str, kind: str, size: int, max_size: int | None) -> Iterator[Skipped]:
    """A blob over the user's cap: drained, never held, and listed."""
    if kind == "blob":
        cap = f"larger than the size cap set by --max-blob-size ({size} > {max_size} bytes)"
        yield Skipped(f"blob {oid[:12]}", cap, blob_id=oid)


def _message(oid: str, kind: str, data: bytes) -> Iterator[Blob]:
    """A commit's or tag's message, when it holds any of the detector's keywords (most hold
    none: checking costs one regex search, scanning would cost a blob each)."""
    body = data.partition(b"\n\n")[2]
    if _HINTS.search(body):
        commit = oid if kind == "commit" else None
        path = message_path(kind, oid)
        yield Blob(path, body, commit=commit, blob_id=oid, message=True)


def _blob(oid: str, data: bytes, part: Part | None) -> Blob:
    return Blob(f"(blob {oid[:12]})", data, blob_id=oid, part=part)


def _drain(out: IO[bytes], size: int) -> bool:
    while size > 0:
        chunk = out.read(min(size, 1 << 20))
        if not chunk:
            return False
        size -= len(chunk)
    return True


class _MissingWalk:
    """Walks the history in a thread while blobs are read, collecting missing objects."""

    def __init__(self, repo: Repository, extra: list[str]) -> None:
        args = ["rev-list", "--objects", "--all", "--missing=print", "--filter=object:type=blob"]
        self._proc = catfile.popen([*args, *extra], repo.path)
        self.missing: list[str] = []
        self._thread = threading.Thread(target=self._collect, daemon=True)
        self._thread.start()

    def _collect(self) -> None:
        for line in catfile.pipe(self._proc.stdout):
            if line.startswith(b"?"):
                self.missing.append(line[1:].strip().decode())

    def finish(self) -> Iterator[Skipped]:
        self._thread.join()
        error = catfile.pipe(self._proc.stderr).read().decode("utf-8", "replace").strip()
        if self._proc.wait() != 0:
            yield Skipped("(history walk)", f"git rev-list failed: {_last_line(error)}", error=True)
        for oid in self.missing:
            yield Skipped(
                f"object {oid[:12]}",
                "missing from the repository (partial clone or damaged mirror): not scanned",
                error=True,
                blob_id=oid,
            )


def count_blobs(repo: Repository) -> int:
    """How many blobs the object store holds: the denominator of an audit's ETA."""
    listing = catfile.popen(
        ["cat-file", "--batch-all-objects", "--batch-check=%(objecttype)", "--unordered"],
        repo.path,
    )
    total = sum(1 for line in catfile.pipe(listing.stdout) if line == b"blob\n")
    listing.wait()
    return total


def _last_line(text: str) -> str:
    """git's last line of complaint, whole: cutting it could split a key in it past
    recognition, and redaction happens when it is shown."""
    lines = text.strip().split("\n")
    return lines[-1] if lines else ""
