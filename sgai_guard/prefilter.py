"""Literal keyword prefilter: tells which rules can possibly match before any regex runs.

Small inputs (a commit hook's staged files) use ``bytes in`` checks, which need no import.
Once a scan has read enough bytes to pay for it, a Hyperscan database answers for all
keywords in one pass when the library is installed.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

# Bytes read with plain ``in`` checks before switching to Hyperscan: its import and
# compile cost about 15 ms, which a hook scanning a few files never earns back.
SWITCH_AFTER = 4 * 1024 * 1024
DISABLE_ENV = "SGAI_GUARD_NO_HYPERSCAN"


class Prefilter:
    """Maps a blob to the set of keyword indexes present in it."""

    def __init__(self, keywords: Sequence[bytes], *, allow_hyperscan: bool = True) -> None:
        self.keywords = tuple(keywords)
        self._seen = 0
        self._allow = allow_hyperscan and not os.environ.get(DISABLE_ENV)
        self._scan: Callable[[bytes], frozenset[int]] | None = None
        self.engine = "in"

    def __call__(self, data: bytes) -> frozenset[int]:
        if self._scan is not None:
            return self._scan(data)
        self._seen += len(data)
        if self._allow and self._seen > SWITCH_AFTER:
            self._allow = False
            self._scan = _hyperscan(self.keywords)
            if self._scan is not None:
                self.engine = "hyperscan"
                return self._scan(data)
        return frozenset(i for i, word in enumerate(self.keywords) if word in data)


def _hyperscan(keywords: Sequence[bytes]) -> Callable[[bytes], frozenset[int]] | None:
    try:
        import hyperscan  # noqa: PLC0415 - optional and costly, loaded only for bulk scans
    except ImportError:
        return None
    db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
    expressions = [b"".join(b"\\x%02x" % c for c in word) for word in keywords]
    db.compile(
        expressions=expressions,
        ids=list(range(len(keywords))),
        flags=[hyperscan.HS_FLAG_SINGLEMATCH] * len(keywords),
        elements=len(keywords),
    )
    scratch = hyperscan.Scratch(db)

    def scan(data: bytes) -> frozenset[int]:
        hits: set[int] = set()

        def on_match(ident: int, *_: Any) -> None:
            hits.add(ident)

        db.scan(data, match_event_handler=on_match, scratch=scratch)
        return frozenset(hits)

    return scan
