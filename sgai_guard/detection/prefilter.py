"""Literal keyword prefilter: which keywords occur, and where first, before any regex runs.

Small inputs (a commit hook's staged files) use ``bytes`` searches, which need no import.
Once a scan has read enough bytes to pay for it, a Hyperscan database finds every keyword in
one pass when the library is installed.
"""

from __future__ import annotations

import os
from bisect import bisect_right
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import mmap

    Searchable = bytes | bytearray | mmap.mmap  # a mapped file is searched where it lies

# Bytes read with plain searches before switching to Hyperscan: its import and compile cost
# about 15 ms, which a hook scanning a few files never earns back.
SWITCH_AFTER = 4 * 1024 * 1024
DISABLE_ENV = "SGAI_GUARD_NO_HYPERSCAN"

# keyword index -> the offset of its first occurrence. Only the first: the detector finds the
# others lazily, so memory stays flat however many times a keyword occurs.
Hits = dict[int, int]


class Prefilter:
    """Maps a blob to the offsets of every keyword occurrence in it."""

    def __init__(self, keywords: Sequence[bytes], *, allow_hyperscan: bool = True) -> None:
        self.keywords = tuple(keywords)
        self._seen = 0
        self._allow = allow_hyperscan and not os.environ.get(DISABLE_ENV)
        self._scan: Callable[[Searchable], Hits] | None = None
        self.engine = "bytes.find"

    def warm(self) -> None:
        """Switch to Hyperscan now (when allowed and installed): for a caller that knows it
        will search a lot, such as the audit's readers, which compile it once before they
        fork rather than each after its first few MiB (a run of small commits never gets
        there, and is searched keyword by keyword)."""
        if self._scan is None and self._allow:
            self._allow = False
            self._scan = _hyperscan(self.keywords)
            if self._scan is not None:
                self.engine = "hyperscan"

    def __call__(self, data: Searchable) -> Hits:
        scan = self._scan
        if scan is not None:
            return scan(data)
        self._seen += len(data)
        if self._allow and self._seen > SWITCH_AFTER:
            self.warm()
            if self._scan is not None:
                return self._scan(data)
        found = ((i, data.find(w)) for i, w in enumerate(self.keywords))
        return {i: at for i, at in found if at != -1}


def parts_hit(
    data: bytes, keywords: Sequence[bytes], firsts: Hits, starts: Sequence[int], offset: int = 0
) -> set[int]:
    """Which parts of a stream a keyword of ``firsts`` (a Prefilter's hits in ``data``, the
    stream from ``offset`` on) starts in: part n runs from ``starts[n]`` to ``starts[n + 1]``.
    Once a part holds a keyword, that keyword is looked for from the next part on: a search
    for each part holding it, however often it occurs there (a planted part of 16 MiB of
    one keyword costs one search, not a million)."""
    hit: set[int] = set()
    for n, first in firsts.items():
        at = first
        while at != -1:
            part = bisect_right(starts, offset + at) - 1
            hit.add(part)
            if part + 1 >= len(starts):
                break
            at = data.find(keywords[n], max(at + 1, starts[part + 1] - offset))
    return hit


def hyperscan_usable() -> bool:
    """Whether a Prefilter over a large input finds many keywords in one pass."""
    if os.environ.get(DISABLE_ENV):
        return False
    try:
        import hyperscan  # noqa: F401, PLC0415 - optional and costly
    except ImportError:
        return False
    return True


def _hyperscan(keywords: Sequence[bytes]) -> Callable[[Searchable], Hits] | None:
    try:
        import hyperscan  # noqa: PLC0415 - optional and costly, loaded only for bulk scans
    except ImportError:
        return None
    db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
    db.compile(
        expressions=[b"".join(b"\\x%02x" % c for c in word) for word in keywords],
        ids=list(range(len(keywords))),
        # one report per keyword and scan: a file of ten million prefixes costs no more
        flags=[hyperscan.HS_FLAG_SINGLEMATCH] * len(keywords),
        elements=len(keywords),
    )
    scratch = hyperscan.Scratch(db)
    sizes = [len(word) for word in keywords]
    hits: Hits = {}

    def on_match(ident: int, _start: int, end: int, *_: Any) -> None:
        hits[ident] = min(hits.get(ident, end), end) - sizes[ident]

    def scan(data: Searchable) -> Hits:
        # any buffer will do (a mapped file included); the stubs say str or bytes
        db.scan(data, match_event_handler=on_match, scratch=scratch)  # type: ignore[type-var]
        if not hits:
            return {}
        found = dict(hits)
        hits.clear()
        return found

    return scan
