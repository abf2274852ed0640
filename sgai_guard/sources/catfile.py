"""Streaming object contents out of `git cat-file`, with bounded memory.

A writer thread feeds object ids to ``--batch`` while the caller reads answers, so neither
pipe can fill up and deadlock; answers come back in request order. A missing object, or git
dying mid-stream, is reported per object instead of ending the scan.
"""

from __future__ import annotations

import subprocess
import threading
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from typing import IO, TYPE_CHECKING, Generic, TypeVar

from sgai_guard.errors import GitError
from sgai_guard.sources import gitcmd

if TYPE_CHECKING:
    from _typeshed import StrPath

T = TypeVar("T")


class Answer(Generic[T]):
    """One requested object: its data, or why it could not be read."""

    __slots__ = ("data", "oid", "problem", "request")

    def __init__(
        self, request: T, oid: str, data: bytes | None, problem: str | None = None
    ) -> None:
        self.request = request
        self.oid = oid
        self.data = data
        self.problem = problem


def popen(
    args: Sequence[str], repo: StrPath, *, stdin: bool = False, keep_env: Sequence[str] = ()
) -> subprocess.Popen[bytes]:
    try:
        return subprocess.Popen(
            gitcmd.git_argv(args),
            cwd=repo,
            env=gitcmd.git_env(keep=keep_env),
            stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
    except FileNotFoundError as exc:
        raise GitError("git is not installed or not on PATH") from exc


def pipe(stream: IO[bytes] | None) -> IO[bytes]:
    """A Popen pipe that was asked for; narrows the Optional without an assert."""
    if stream is None:  # pragma: no cover - only if popen's arguments change
        raise GitError("internal error: git was started without the pipe it needs")
    return stream


def read_blobs(
    repo: StrPath, requests: Iterable[tuple[str, T]], *, keep_env: Sequence[str] = ()
) -> Iterator[Answer[T]]:
    """Contents of the given (oid, request) pairs, in order, through one cat-file process."""
    proc = popen(["cat-file", "--batch", "--buffer"], repo, stdin=True, keep_env=keep_env)
    pending: deque[tuple[str, T]] = deque()
    done = threading.Event()
    writer = threading.Thread(
        target=_feed, args=(pipe(proc.stdin), requests, pending, done), daemon=True
    )
    writer.start()
    try:
        yield from _answers(pipe(proc.stdout), pending, done)
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
            sink.write(oid.encode("ascii") + b"\n")
        sink.close()
    except (BrokenPipeError, ValueError, OSError):
        pass  # git went away; the reader reports what it did not answer
    finally:
        done.set()


def _answers(
    out: IO[bytes], pending: deque[tuple[str, T]], done: threading.Event
) -> Iterator[Answer[T]]:
    while True:
        header = out.readline()
        if not header:
            break
        oid, request = pending.popleft()
        parts = header.split()
        if len(parts) < 3:  # "<oid> missing" or "<oid> ambiguous"
            yield Answer(request, oid, None, f"object {oid} is missing from the repository")
            continue
        size = int(parts[2])
        data = out.read(size)
        out.read(1)  # the newline after the content
        if len(data) < size:
            yield Answer(request, oid, None, f"git stopped while reading object {oid}")
            break
        yield Answer(request, oid, data if parts[1] == b"blob" else None, _kind(parts[1]))
    done.wait(timeout=5)
    for oid, request in pending:
        yield Answer(request, oid, None, f"git stopped before reading object {oid}")


def _kind(kind: bytes) -> str | None:
    return None if kind == b"blob" else f"not a blob ({kind.decode()})"


def _close(proc: subprocess.Popen[bytes]) -> None:
    for stream in (proc.stdin, proc.stdout, proc.stderr):
        if stream is not None:
            stream.close()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
