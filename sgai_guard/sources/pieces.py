"""Large contents in bounded pieces, so memory stays flat whatever the size of a file or blob.

Each piece is cut after its last newline (mid-line only for a line longer than a piece) and is
scanned together with the next OVERLAP bytes: a key across a cut is found whole, and found
once, by the piece in which it starts (see models.Part and the engine).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import IO, Protocol, TypeVar

from sgai_guard.fsread import CHUNK
from sgai_guard.models import Part

T = TypeVar("T")


class Hasher(Protocol):
    def update(self, data: bytes, /) -> None: ...


OVERLAP = 8192  # longer than any key or base64 fragment the detector decodes


def pieces(chunks: Iterator[bytes], make: Callable[[bytes, Part | None], T]) -> Iterator[T]:
    """What ``make`` builds from the content ``chunks`` yields: one whole piece when it fits
    in one chunk (the usual case), else overlapping pieces."""
    buffer = next(chunks, b"")
    following = next(chunks, None)
    if following is None:
        yield make(buffer, None)
        return
    line = column = 0
    for chunk in itertools.chain((following,), chunks):
        buffer += chunk
        cut = _cut(buffer)
        yield make(buffer[: cut + OVERLAP], Part(line, column, cut))
        line, column = _advance(buffer[:cut], line, column)
        buffer = buffer[cut:]
    yield make(buffer, Part(line, column, len(buffer), last=True))


def _cut(data: bytes) -> int:
    newline = data.rfind(b"\n", 0, len(data) - OVERLAP)
    return newline + 1 if newline != -1 else max(len(data) - OVERLAP, 0)


def _advance(done: bytes, line: int, column: int) -> tuple[int, int]:
    """Line and column offsets after ``done``, for the piece that follows it."""
    newlines = done.count(b"\n")
    tail = done[done.rfind(b"\n") + 1 :]
    chars = len(tail.decode("utf-8", "replace"))
    return line + newlines, (chars if newlines else column + chars)


class StreamChunks:
    """One object's content from a `git cat-file --batch` stream, in chunks of at most CHUNK
    bytes; ``short`` tells that git stopped before the end."""

    def __init__(self, out: IO[bytes], size: int, seen: Hasher | None = None) -> None:
        """``seen``: a hash every chunk read goes into (the caller checks the object's id)."""
        self.out, self.left, self.short, self.seen = out, size, False, seen

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        if self.left <= 0:
            raise StopIteration
        chunk = self.out.read(min(self.left, CHUNK))
        if not chunk:
            self.short = True
            raise StopIteration
        self.left -= len(chunk)
        if self.seen is not None:
            self.seen.update(chunk)
        return chunk
