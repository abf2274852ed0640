"""Standard input as one file (`sgai-guard scan -`), read in bounded pieces."""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

from sgai_guard.fsread import CHUNK
from sgai_guard.models import Blob, Part
from sgai_guard.sources.pieces import pieces

STDIN_NAME = "<stdin>"


def stdin_blobs(stream: BinaryIO, path: str = STDIN_NAME) -> Iterator[Blob]:
    """The stream's content as ``path``: whole when small, else in overlapping pieces."""
    chunks = iter(lambda: stream.read(CHUNK), b"")

    def make(data: bytes, part: Part | None) -> Blob:
        return Blob(path, data, part=part)

    yield from pieces(chunks, make)
