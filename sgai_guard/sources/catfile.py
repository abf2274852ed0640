"""Streaming object contents out of `git cat-file`, with bounded memory.

A writer thread feeds object ids to ``--batch`` while the caller reads answers, so neither
pipe can fill up and deadlock; answers come back in request order. A missing object, or git
dying mid-stream, is reported per object instead of ending the scan.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import threading
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from functools import partial
from typing import IO, TYPE_CHECKING, Generic, TypeVar

from sgai_guard.errors import GitError
from sgai_guard.models import Part
from sgai_guard.sources import gitargs, gitcmd, hardening
from sgai_guard.sources.pieces import StreamChunks, pieces

if TYPE_CHECKING:
    from _typeshed import StrPath

T = TypeVar("T")
_STOPPED_LISTING = b"error: unable to open "  # git's words for a folder it could not open
_LAST_WORDS = 64 * 1024  # of what git said, the end is what names why it stopped


class Answer(Generic[T]):
    """One requested object, or one piece of a large one: its data, or why it could not be
    read. ``part`` says where a piece sits (see models.Part); None for a whole object."""

    __slots__ = ("data", "oid", "part", "problem", "request")

    def __init__(
        self,
        request: T,
        oid: str,
        data: bytes | None,
        problem: str | None = None,
        part: Part | None = None,
    ) -> None:
        self.request = request
        self.oid = oid
        self.data = data
        self.problem = problem
        self.part = part


def popen(
    args: Sequence[str],
    repo: StrPath,
    *,
    stdin: bool | IO[bytes] = False,
    stdout: IO[bytes] | None = None,
    keep_env: Sequence[str] = (),
) -> subprocess.Popen[bytes]:
    """git with its complaints going to a temporary file, not a pipe: a caller reads the
    output first, and a git that says a lot on the way (a planted alternates file of
    thousands of lines) would block on a full stderr pipe while the caller waits for output."""
    env = hardening.git_env(keep=keep_env)
    errors = tempfile.TemporaryFile()  # noqa: SIM115 - the process's, closed with it
    try:
        proc = gitcmd.spawn(gitargs.git_argv(args), repo, env, stdin, stdout, errors)
    except BaseException:
        errors.close()
        raise
    proc.stderr = errors
    return proc


def walk_popen(
    args: Sequence[str], repo: StrPath, tip_ids: bytes | None, *, stdout: IO[bytes] | None = None
) -> subprocess.Popen[bytes]:
    """``popen`` for a rev-list or log of all refs: ``tip_ids`` (Repository.tip_ids, the tips'
    ids for ``--stdin``) from a file, so no writer thread is needed however many there are."""
    if tip_ids is None:
        return popen(args, repo, stdout=stdout)
    with tempfile.TemporaryFile() as ids:
        ids.write(tip_ids)
        ids.seek(0)
        return popen(args, repo, stdin=ids, stdout=stdout)


def pipe(stream: IO[bytes] | None) -> IO[bytes]:
    """A Popen pipe that was asked for; narrows the Optional without an assert."""
    if stream is None:  # pragma: no cover - only if popen's arguments change
        raise GitError("internal error: git was started without the pipe it needs")
    return stream


def complaint(proc: subprocess.Popen[bytes], fallback: str, *, strict: bool = False) -> str:
    """Waits for git; "" when it succeeded, else its last line of complaint (whole: redaction
    happens when it is shown), or ``fallback`` (where {status} is the exit status) when it
    said nothing. ``strict``: a folder git could not open is a failure even when it exits 0
    (its listing of objects stops at a loose objects' folder it cannot open, says so, and
    exits 0; what else it says only on stderr, a stale alternate, a corrupt object, is
    reported by the audit's other steps)."""
    status = proc.wait()
    said = pipe(proc.stderr)
    if status == 0:
        return _stopped_listing(said) if strict else ""
    said.seek(max(0, os.fstat(said.fileno()).st_size - _LAST_WORDS))
    error = said.read().decode("utf-8", "replace").strip()
    return error.rsplit("\n", 1)[-1] or fallback.format(status=status)


def _stopped_listing(said: IO[bytes]) -> str:
    """git's "unable to open" line, wherever it is in what git said: not only in its last
    words (found by a review: a thousand planted packs too small to be read each had git
    say so after it, and the line was out of the tail)."""
    said.seek(0)
    for line in said:
        if line.startswith(_STOPPED_LISTING):
            return line.decode("utf-8", "replace").strip()
    return ""


def read_blobs(
    repo: StrPath,
    requests: Iterable[tuple[str, T]],
    *,
    keep_env: Sequence[str] = (),
    kinds: tuple[str, ...] = ("blob",),
) -> Iterator[Answer[T]]:
    """Contents of the given (oid, request) pairs, in order, through one cat-file process;
    an object of another kind than ``kinds`` is an answer with a problem and no data."""
    proc = popen(["cat-file", "--batch", "--buffer"], repo, stdin=True, keep_env=keep_env)
    pending: deque[tuple[str, T]] = deque()
    done = threading.Event()
    writer = threading.Thread(
        target=_feed, args=(pipe(proc.stdin), requests, pending, done), daemon=True
    )
    writer.start()
    try:
        yield from _answers(pipe(proc.stdout), pending, done, kinds)
    finally:
        _close(proc)
        writer.join(timeout=5)


def _feed(
    sink: IO[bytes],
    requests: Iterable[tuple[str, T]],
    pending: deque[tuple[str, T]],
    done: threading.Event,
) -> None:
    try:
        for oid, request in requests:
            pending.append((oid, request))
            sink.write(os.fsencode(oid) + b"\n")
        sink.close()
    except (BrokenPipeError, ValueError, OSError):
        pass  # git went away; the reader reports what it did not answer
    finally:
        done.set()


def _answers(
    out: IO[bytes],
    pending: deque[tuple[str, T]],
    done: threading.Event,
    kinds: tuple[str, ...] = ("blob",),
) -> Iterator[Answer[T]]:
    while True:
        header = out.readline()
        if not header:
            break
        oid, request = pending.popleft()
        found = parse_header(header, os.fsencode(oid))
        if found is None:  # "<what was asked> missing" (or ambiguous)
            yield Answer(request, oid, None, f"object {oid} is missing from the repository")
            continue
        _, kind, size = found
        if kind not in kinds:
            out.read(size + 1)  # a tree or commit named where a blob was expected: small
            yield Answer(request, oid, None, f"not a blob ({kind})")
            continue
        chunks = StreamChunks(out, size)
        yield from pieces(chunks, partial(_piece, request, oid))
        if chunks.short or out.read(1) != b"\n":  # the newline after the content
            yield Answer(request, oid, None, f"git stopped while reading object {oid}")
            break
    done.wait(timeout=5)
    for oid, request in pending:
        yield Answer(request, oid, None, f"git stopped before reading object {oid}")


def _piece(request: T, oid: str, data: bytes, part: Part | None) -> Answer[T]:
    return Answer(request, oid, data, None, part)


def parse_header(line: bytes, asked: bytes = b"") -> tuple[str, str, int] | None:
    """``<oid> <type> <size>`` from cat-file --batch, or None for an object it could not find
    (its answer is what was asked, then "missing" or "ambiguous", and a rev:path may hold
    spaces, so the fields are taken from the right)."""
    parts = line.split()
    if len(parts) == 3 and parts[2].isdigit():  # the common case, an object id first
        return parts[0].decode("ascii", "replace"), parts[1].decode("ascii"), int(parts[2])
    text = line.rstrip(b"\n")
    if asked and text in (asked + b" missing", asked + b" ambiguous"):
        return None
    parts = text.rsplit(b" ", 2)
    if len(parts) != 3 or not parts[2].isdigit():
        return None
    return parts[0].decode("ascii", "replace"), parts[1].decode("ascii", "replace"), int(parts[2])


def contents(repo: StrPath, revs: Sequence[str], limit: int | None = None) -> tuple[bytes, ...]:
    """The whole content of each blob ``revs`` names (ids, or rev:path without a newline),
    through one cat-file process; what names no blob is left out, and so is every blob that
    would take the total past ``limit`` bytes. For the few blobs that hold a finding: what a
    path held before, or holds now."""
    whole: dict[int, list[bytes]] = {}
    total, dropped = 0, set()
    for answer in read_blobs(repo, ((rev, n) for n, rev in enumerate(revs))):
        n = answer.request
        if answer.data is None or n in dropped:
            total -= sum(map(len, whole.pop(n, [])))
            continue
        end = answer.part.end if answer.part is not None else len(answer.data)
        whole.setdefault(n, []).append(answer.data[:end])
        total += end
        if limit is not None and total > limit:
            dropped.add(n)
            total -= sum(map(len, whole.pop(n)))
    return tuple(b"".join(whole[n]) for n in sorted(whole))


def _close(proc: subprocess.Popen[bytes]) -> None:
    for stream in (proc.stdin, proc.stdout, proc.stderr):
        if stream is not None:
            stream.close()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
