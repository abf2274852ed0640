"""What a source is (engine.run takes any): blobs out, then what it learnt. For type checking
only, so that no Protocol class is built on the commit hook's start-up path."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from sgai_guard.models import Blob, Passed, ScanResult, Skipped, Summary


class Source(Protocol):
    """Where blobs come from: the work tree, the index, a range, a push, a whole history."""

    def items(self) -> Iterable[Blob | Skipped | Passed]:
        """The blobs to scan, and what could not be read; may raise GitError up front. A
        source that screens what it reads counts what it passed over (models.Passed)."""
        ...

    def summary(self) -> Summary:
        """What the source learnt while its items were read (asked once they are drained)."""
        ...


class Refining(Source, Protocol):
    """A source that revisits the engine's result (the audit places each secret in history)."""

    def refine(self, result: ScanResult) -> ScanResult: ...
