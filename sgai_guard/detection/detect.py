"""Pure detection over bytes: which rule matched what, where, and whether it looks made up."""

from __future__ import annotations

import heapq
import re
from bisect import bisect_right
from collections.abc import Iterator, Sequence
from functools import cache
from itertools import accumulate
from typing import NamedTuple

from sgai_guard.detection.entropy import filler_reason
from sgai_guard.detection.position import Lines
from sgai_guard.detection.prefilter import Hits, Prefilter
from sgai_guard.detection.rules import ENCODINGS, RULES, encoded_keywords
from sgai_guard.models import Rule, Technique

_BOMS = (
    (b"\xff\xfe\0\0", "utf-32-le"),
    (b"\0\0\xfe\xff", "utf-32-le"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-le"),
)
_B64_CHARS = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/_-")
_B64_MAX_TOKEN = 4096
_LITERAL = rb"""(?:"[A-Za-z0-9_-]*"|'[A-Za-z0-9_-]*')"""
_CHAIN = re.compile(_LITERAL + rb"(?:\s*\+?\s*" + _LITERAL + rb")+")
_PIECE = re.compile(rb"""["']([A-Za-z0-9_-]*)["']""")
_BINARY_SNIFF = 8000


class Candidate(NamedTuple):
    """A rule match before policy: ``filler`` says why it looks like a placeholder, if it does."""

    rule: Rule
    secret: str  # never in repr
    line: int
    column: int
    filler: str | None
    offset: int = 0  # byte offset of the match in the data searched
    # the data searched, by line: a candidate holds no copy of its lines (a file of 100,000
    # keys held two per key until each was judged), the engine asks for them one at a time
    lines: Lines | None = None
    # where it starts in the bytes given to detect(), when ``offset`` is in a decoded view
    # of them (UTF-16, UTF-32, EBCDIC): a large file's pieces keep what starts before their
    # cut by it (found by a review: a view's offsets grew past the cut, and the key was
    # dropped by both pieces)
    raw: int = -1

    @property
    def place(self) -> int:
        """Where it starts in the bytes given to detect()."""
        return self.raw if self.raw >= 0 else self.offset

    def __repr__(self) -> str:
        return f"Candidate({self.rule.id!r}, {self.line}:{self.column}, filler={self.filler!r})"

    def texts(self) -> tuple[bytes, bytes]:
        """Its line (a window around the key when the line is long) and the line before it;
        they hold the secret."""
        return (b"", b"") if self.lines is None else self.lines.around(self.offset)


class Detector:
    """Runs the rules over blobs; one instance per scan so the prefilter can warm up."""

    def __init__(self, rules: Sequence[Rule] = RULES, *, allow_hyperscan: bool = True) -> None:
        self.rules = tuple(rules)
        # a prefix in UTF-16, UTF-32 or EBCDIC text: the text is decoded and searched
        encoded = {
            k: encoding
            for r in self.rules
            if r.provider.prefix
            for k, encoding in encoded_keywords(r.provider.prefix.encode()).items()
        }
        keywords = sorted({k for rule in self.rules for k in rule.keywords} | set(encoded))
        self._keywords = tuple(keywords)
        self._by_keyword = [tuple(r for r in self.rules if k in r.keywords) for k in self._keywords]
        self._encoded = {self._keywords.index(k): encoding for k, encoding in encoded.items()}
        self.prefilter = Prefilter(self._keywords, allow_hyperscan=allow_hyperscan)

    def detect(self, data: bytes) -> list[Candidate]:
        """Every candidate in ``data``, ordered by position: its bytes' own, then what the
        text it holds in another encoding gives (each such view searched on its own)."""
        hits = self.prefilter(data)
        bom = _bom(data)
        if not hits and bom is None:
            return []  # the common case: no keyword anywhere
        encodings = {self._encoded[i] for i in hits if i in self._encoded}
        if bom is not None:
            encodings.add(bom)
        found = [c for encoding in sorted(encodings) for c in self._detect_in(data, encoding)]
        return found + self._detect_view(data, hits)

    def could_find(self, data: bytes) -> bool:
        """False when detect() surely finds nothing in ``data``: no keyword, no BOM."""
        return _bom(data) is not None or bool(self.prefilter(data))

    def _detect_view(self, data: bytes, hits: Hits) -> list[Candidate]:
        rules = {rule for i in hits for rule in self._by_keyword[i]}
        if not rules:
            return []
        lines = Lines(data)
        binary = data.find(b"\0", 0, _BINARY_SNIFF) != -1
        firsts = {self._keywords[i]: where for i, where in hits.items()}
        found: dict[tuple[str, str, int], Candidate] = {}
        for rule in sorted(rules, key=self.rules.index):
            starts = _occurrences(data, rule.keywords, firsts)
            for offset, secret in _matches(rule, starts, data, binary):
                key = (rule.provider.id, secret, offset)
                if key not in found:
                    found[key] = _candidate(rule, secret, offset, lines)
        return sorted(found.values(), key=lambda c: (c.line, c.column, c.rule.id))

    def _detect_in(self, data: bytes, encoding: str) -> list[Candidate]:
        """What ``data`` holds as text in ``encoding``, at each alignment of its characters:
        little-endian read one byte on is big-endian (a key in text that a stray byte put
        out of step with the rest is found too)."""
        search = _prefilter(self._keywords)
        found = []
        for start in range(ENCODINGS[encoding]):
            view = data[start:].decode(encoding, "replace").encode("utf-8", "replace")
            hits = {i: v for i, v in search(view).items() if i not in self._encoded}
            found += _in_raw(self._detect_view(view, hits), view, start, encoding)
        return found


def _bom(data: bytes) -> str | None:
    """The encoding a byte order mark at the start of ``data`` tells."""
    if data[:1] not in (b"\xff", b"\xfe", b"\0"):
        return None  # the common case
    return next((encoding for mark, encoding in _BOMS if data.startswith(mark)), None)


def _in_raw(candidates: list[Candidate], view: bytes, start: int, encoding: str) -> list[Candidate]:
    """``candidates`` of a view of the bytes from ``start`` decoded from ``encoding``, each
    told where it starts in those bytes: what comes before it, encoded again (exact for
    these encodings, whatever the decoding replaced), a stretch at a time."""
    at, raw, placed = 0, start, []
    for candidate in sorted(candidates, key=lambda c: c.offset):
        stretch = view[at : candidate.offset].decode("utf-8", "replace")
        raw += len(stretch.encode(encoding, "replace"))
        at = candidate.offset
        placed.append(candidate._replace(raw=raw))
    return placed


@cache
def _prefilter(keywords: tuple[bytes, ...]) -> Prefilter:
    return Prefilter(keywords, allow_hyperscan=False)


def _candidate(rule: Rule, secret: str, offset: int, lines: Lines) -> Candidate:
    line, column = lines.locate(offset)
    return Candidate(
        rule=rule,
        secret=secret,
        line=line,
        column=column,
        filler=filler_reason(secret, rule.provider),
        offset=offset,
        lines=lines,
    )


def _occurrences(data: bytes, keywords: Sequence[bytes], firsts: dict[bytes, int]) -> Iterator[int]:
    """Every offset where one of ``keywords`` starts, in order, found as they are needed:
    nothing is held per occurrence, whatever their number."""
    streams = [_find_from(data, k, firsts[k]) for k in keywords if k in firsts]
    last = -1
    for at in heapq.merge(*streams):
        if at != last:
            yield at
            last = at


def _find_from(data: bytes, word: bytes, first: int) -> Iterator[int]:
    at = first
    while at != -1:
        yield at
        at = data.find(word, at + 1)


def _matches(
    rule: Rule, starts: Iterator[int], data: bytes, binary: bool
) -> Iterator[tuple[int, str]]:
    """Matches of ``rule``; ``starts`` are the sorted offsets of its keywords in ``data``."""
    if rule.technique is Technique.BASE64:
        yield from _base64_matches(rule, starts, data)
    elif rule.technique is Technique.SPLIT:
        yield from _split_matches(rule, data)
    elif binary and rule.technique is Technique.PREFIXED:
        yield from _binary_matches(rule, starts, data)
    elif rule.technique is Technique.PREFIXED:
        # a pattern that starts with its literal prefix: the regex engine finds each
        # occurrence itself, in C, from the first one (ten million prefixes stay fast)
        first = next(starts, None)
        if first is not None:
            for match in _compiled(rule.pattern + rule.end).finditer(data, first):
                yield match.start("key"), match.group("key").decode("ascii")
    else:
        for match in _anchored(_compiled(rule.pattern + rule.end), starts, data):
            yield match.start("key"), match.group("key").decode("ascii")


@cache
def _compiled(pattern: bytes) -> re.Pattern[bytes]:
    return re.compile(pattern)


def _anchored(
    pattern: re.Pattern[bytes], starts: Iterator[int], data: bytes
) -> Iterator[re.Match[bytes]]:
    """Matches of a pattern that starts with a keyword, tried only where a keyword occurs.

    Far faster than a regex sweep: the regex runs at a handful of offsets instead of at every
    byte. Overlapping matches are skipped, as ``finditer`` would.
    """
    end = -1
    for pos in starts:
        if pos < end:
            continue
        match = pattern.match(data, pos)
        if match:
            end = match.end()
            yield match


def _binary_matches(rule: Rule, starts: Iterator[int], data: bytes) -> Iterator[tuple[int, str]]:
    """Keys in binary files, where the next byte may be a letter (a marshal type code).

    Marshal (.pyc), protobuf and msgpack store a length byte before a string: when that byte
    delimits a whole key, it decides where the key ends.
    """
    unbounded = _compiled(rule.pattern)
    exact = _compiled(rule.pattern + b"\\Z")
    for match in _anchored(unbounded, starts, data):
        start, key = match.start("key"), match.group("key")
        size = data[start - 1] if start else 0
        if size < len(key) and exact.match(key[:size]):
            key = key[:size]
        yield start, key.decode("ascii")


def _base64_matches(rule: Rule, starts: Iterator[int], data: bytes) -> Iterator[tuple[int, str]]:
    seen_until = -1
    for pos in starts:
        if pos < seen_until:
            continue  # inside a token already decoded
        token_start, token_end = _b64_token(data, pos)
        seen_until = token_end
        for secret in _decoded_keys(rule, data[token_start:token_end]):
            yield token_start, secret


def _b64_token(data: bytes, pos: int) -> tuple[int, int]:
    start, end = pos, pos
    while start > 0 and pos - start < _B64_MAX_TOKEN and data[start - 1] in _B64_CHARS:
        start -= 1
    while end < len(data) and end - pos < _B64_MAX_TOKEN and data[end] in _B64_CHARS:
        end += 1
    return start, end


def _decoded_keys(rule: Rule, token: bytes) -> Iterator[str]:
    import base64  # noqa: PLC0415 - only when a base64 fragment was seen
    import binascii  # noqa: PLC0415

    pattern = _compiled(rule.pattern + rule.end)
    normal = token.replace(b"-", b"+").replace(b"_", b"/")
    found: set[str] = set()
    for skip in range(4):  # the key may start at any of the four character alignments
        chunk = normal[skip:]
        if len(chunk) % 4 == 1:  # one stray character cannot encode a byte
            chunk = chunk[:-1]
        chunk += b"=" * (-len(chunk) % 4)
        try:
            decoded = base64.b64decode(chunk, validate=True)
        except (binascii.Error, ValueError):
            continue
        for match in pattern.finditer(decoded):
            found.add(match.group("key").decode("ascii"))
    yield from sorted(found)


def _split_matches(rule: Rule, data: bytes) -> Iterator[tuple[int, str]]:
    if b'"' not in data and b"'" not in data:
        return  # no string literal, no chain: two memchr passes instead of a regex sweep
    pattern = _compiled(rule.pattern + rule.end)
    for chain in _CHAIN.finditer(data):
        spans = [m.span(1) for m in _PIECE.finditer(data, chain.start(), chain.end())]
        literals = [data[start:end] for start, end in spans]
        if len(literals) < 2 or any(pattern.search(part) for part in literals):
            continue  # a whole key inside one literal is the plain rule's finding
        joined_starts = list(accumulate(map(len, literals), initial=0))
        for match in pattern.finditer(b"".join(literals)):
            yield _where(match.start("key"), spans, joined_starts), match.group("key").decode()


def _where(at: int, spans: list[tuple[int, int]], joined_starts: list[int]) -> int:
    """Where the byte ``at`` of the joined literals is in the data: the key is placed where
    its first piece is, not where the chain of literals starts (an attacker review: an
    allow-next-line marker above a chain 20 lines long allowed a key split on its last
    lines)."""
    n = bisect_right(joined_starts, at) - 1
    while n + 1 < len(spans) and joined_starts[n + 1] == at and spans[n][0] == spans[n][1]:
        n += 1  # an empty literal ends where the next begins: the key is in the next
    return spans[n][0] + at - joined_starts[n]
