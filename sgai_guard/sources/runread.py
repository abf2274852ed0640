"""The runs of the audit's plan that one reader takes, read: in-process from the packs where
it can be (sources.packread), and through one interactive `git cat-file --batch` for each
object that cannot (loose objects of an alternate store, an entry that does not add up, an
object over packread's cap, which git streams in pieces). Without a store, each run goes
through a `cat-file --batch` of its own, as before.
"""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import tempfile
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from itertools import repeat
from typing import IO

from sgai_guard.fsread import CHUNK
from sgai_guard.models import Blob, Skipped
from sgai_guard.sources import catfile
from sgai_guard.sources.objectstream import from_memory, objects, one, silent
from sgai_guard.sources.packfile import ShortError
from sgai_guard.sources.packread import ObjectReader, Store

_READ_SIZE = 1 << 20


Work = Iterable[tuple[bytes, Sequence[int] | None]]


def read_runs(
    repo: str,
    work: Work,
    max_size: int | None,
    store: Store | None = None,
    dropped: Callable[[bytes], bool] | None = None,
    *,
    forked: bool = False,
) -> Iterator[Blob | Skipped | int]:
    """The objects each run of ``work`` names (ids, one a line), in its order, one run after
    the other, each with where its objects start in the store's only pack, as the listing
    told (listing.Hints), or None. A blob read in-process, whole, that ``dropped`` says holds
    nothing to scan comes as its size alone: most blobs of a history, which then cost no Blob
    and no name. ``forked``: this is a reader process of its own, which may map the packs
    (sources.packfile). One reader and one git serve every run: the packs are mapped once,
    and a delta's base read in one run is still at hand in the next."""
    if store is None:
        for run, _ in work:
            yield from _through_git(repo, run, max_size)
        return
    reader = ObjectReader(store, mapped=forked)
    limit = CHUNK if max_size is None else min(CHUNK, max_size)
    with contextlib.closing(_Asker(repo)) as asker:
        for run, offsets in work:
            yield from _in_process(reader, asker, run, offsets, (max_size, limit, dropped))
        yield from asker.finish()


def _in_process(
    reader: ObjectReader,
    asker: _Asker,
    run: bytes,
    offsets: Sequence[int] | None,
    how: tuple[int | None, int, Callable[[bytes], bool] | None],
) -> Iterator[Blob | Skipped | int]:
    """One run read by ``reader``, and what it cannot read by git (``asker``)."""
    max_size, limit, dropped = how
    # the plan gives as many offsets as ids (listing.plan), or none at all
    for line, offset in zip(io.BytesIO(run), offsets or repeat(0), strict=False):
        oid = line.rstrip(b"\n")
        try:
            found = reader.read(oid, offset)
        except ShortError as exc:  # never asked of git: it would answer short
            name = oid.decode("ascii", "replace")
            yield Skipped(f"object {name[:12]}", str(exc), error=True, blob_id=name)
            continue
        if found is None:
            yield from asker.ask(oid, max_size)
        elif found[0] != "blob":
            if not silent(*found):
                yield from from_memory(oid.decode("ascii"), *found, max_size)
        elif dropped is not None and len(found[1]) <= limit and dropped(found[1]):
            yield len(found[1])
        else:
            yield from from_memory(oid.decode("ascii"), *found, max_size)


def _through_git(repo: str, run: bytes, max_size: int | None) -> Iterator[Blob | Skipped]:
    with batch(repo, run) as (proc, stream):
        answers = yield from objects(stream, max_size)
    detail = catfile.complaint(proc, "exit status {status}")
    asked = run.count(b"\n")
    if detail:
        yield Skipped("(object store)", f"git cat-file stopped: {detail}", error=True)
    elif answers != asked:  # a blob git streamed shorter than its header took the rest
        reason = (
            f"git answered {answers} of the {asked} objects asked: the others were not read "
            "(an object shorter than its header says takes the answers after it for its own)"
        )
        yield Skipped("(object store)", reason, error=True)


class _Asker:
    """An interactive `cat-file --batch`, started at the first object it is asked for."""

    def __init__(self, repo: str) -> None:
        self._repo = repo
        self._proc: subprocess.Popen[bytes] | None = None
        self._stopped = False

    def ask(self, oid: bytes, max_size: int | None) -> Generator[Blob | Skipped, None, None]:
        if not self._stopped:
            try:
                proc = self._start()
                stdin, stdout = catfile.pipe(proc.stdin), catfile.pipe(proc.stdout)
                stdin.write(oid + b"\n")
                stdin.flush()
            except OSError:  # git is gone: said below, per object
                self._stopped = True
            else:
                self._stopped = yield from one(stdout, oid, max_size)
                return
        name = oid.decode("ascii", "replace")
        yield Skipped(f"object {name[:12]}", "git stopped before it", error=True, blob_id=name)

    def _start(self) -> subprocess.Popen[bytes]:
        if self._proc is None:
            self._proc = catfile.popen(["cat-file", "--batch"], self._repo, stdin=True)
        return self._proc

    def finish(self) -> Iterator[Skipped]:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        _end(proc)
        detail = catfile.complaint(proc, "exit status {status}")
        if detail:
            yield Skipped("(object store)", f"git cat-file stopped: {detail}", error=True)

    def close(self) -> None:
        if self._proc is not None:
            _end(self._proc)
            self._proc.wait()


def _end(proc: subprocess.Popen[bytes]) -> None:
    for stream in (proc.stdin, proc.stdout):
        if stream is not None:
            with contextlib.suppress(OSError):
                stream.close()


@contextlib.contextmanager
def batch(repo: str, ids: bytes) -> Iterator[tuple[subprocess.Popen[bytes], IO[bytes]]]:
    """`git cat-file --batch` answering ``ids`` (one a line, from a file: no writer thread),
    and its output read through a wide pipe in large reads."""
    with tempfile.TemporaryFile() as listed:
        listed.write(ids)
        listed.seek(0)
        proc = catfile.popen(["cat-file", "--batch", "--buffer"], repo, stdin=listed)
    out = catfile.pipe(proc.stdout)
    widen(out)
    try:
        with os.fdopen(out.fileno(), "rb", _READ_SIZE, closefd=False) as stream:
            yield proc, stream
    finally:
        out.close()  # git stops at once if the reader stopped early


def widen(pipe: IO[bytes]) -> None:
    """A pipe of 1 MiB instead of 64 KiB: git and the reader take turns far less often, which
    on a history of several GiB saves a fifth of the time (Linux; elsewhere a no-op)."""
    try:
        import fcntl  # noqa: PLC0415 - POSIX only

        fcntl.fcntl(pipe.fileno(), getattr(fcntl, "F_SETPIPE_SZ", 1031), _READ_SIZE)
    except (ImportError, OSError):
        pass  # the size is capped (fs.pipe-max-size) or the platform has no such call
