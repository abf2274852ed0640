"""Checks that separate a random key body from a placeholder, a mask or a test filler.

Every function returns the reason a body looks made up, or ``None`` when it looks random.
The thresholds come from the key shapes seen in public code (see KEY-FORMATS.md): no real
key seen there is rejected by them.
"""

from __future__ import annotations

import math
from collections import Counter
from itertools import pairwise
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sgai_guard.models import Provider

# Words that mark a filler. Only words of five letters or more: a shorter one ("your", "test",
# "1234") turns up by chance in about one random key in a few thousand, and a real key must
# never be taken for a placeholder. Short fillers are caught by the case, entropy, run and
# distinct-digit checks instead (`tvly-YOUR_API_KEY` does not even match a key's shape).
FILLER_WORDS: tuple[str, ...] = (
    "example",
    "sample",
    "dummy",
    "placeholder",
    "replace",
    "insert",
    "redact",
    "changeme",
    "secret",
    "abcdef",
    "abc123",
    "qwerty",
)
# A run this long (identical or consecutive characters) marks a filler: in a random body it
# happens about once in 10^5 (hex) to 10^7 (alphanumeric) keys.
RUN_LENGTH = 6
HEX_RUN_LENGTH = 7
MIN_TAVILY_ENTROPY = 3.5
MIN_DISTINCT_HEX = 8


def shannon(text: str) -> float:
    """Shannon entropy in bits per character."""
    if not text:
        return 0.0
    size = len(text)
    return -sum(n / size * math.log2(n / size) for n in Counter(text).values())


def _repeat_run(text: str, length: int) -> str | None:
    run = 1
    for prev, cur in pairwise(text):
        run = run + 1 if cur == prev else 1
        if run >= length:
            return f"{length} identical characters in a row"
    return None


def _sequence_run(text: str, length: int) -> str | None:
    up = down = 1
    for prev, cur in pairwise(text.lower()):
        step = ord(cur) - ord(prev)
        same_class = prev.isdigit() == cur.isdigit()
        up = up + 1 if step == 1 and same_class else 1
        down = down + 1 if step == -1 and same_class else 1
        if max(up, down) >= length:
            return f"a run of {length} sequential characters"
    return None


def _filler_word(text: str) -> str | None:
    lowered = text.lower()
    for word in FILLER_WORDS:
        if word in lowered:
            return f"contains the filler {word!r}"
    return None


def _runs(parts: list[str], length: int) -> str | None:
    """Runs within each part: a run across a UUID's hyphen is chance, not a pattern."""
    for part in parts:
        reason = _repeat_run(part, length) or _sequence_run(part, length)
        if reason:
            return reason
    return None


def tavily_body(body: str) -> str | None:
    """Why a Tavily key body (tag and hyphens removed) looks made up, if it does."""
    body = body.replace("-", "")  # the 5-8 character segment and the body read as one
    reason = _runs([body], RUN_LENGTH) or _filler_word(body)
    if reason:
        return reason
    if body.lower() == body or body.upper() == body:
        return "letters all of one case"
    if shannon(body) < MIN_TAVILY_ENTROPY:
        return f"entropy {shannon(body):.2f} bits/char below {MIN_TAVILY_ENTROPY}"
    return None


# UUIDs that documentation prints as examples (RFC 4122 and RFC 9562's, Wikipedia's, the
# name-space UUIDs): a review found `SGAI_API_KEY=123e4567-…` reported as a key.
EXAMPLE_UUIDS = frozenset(
    {
        "123e4567-e89b-12d3-a456-426614174000",
        "123e4567-e89b-12d3-a456-426655440000",
        "550e8400-e29b-41d4-a716-446655440000",
        "f47ac10b-58cc-4372-a567-0e02b2c3d479",
        "6ba7b810-9dad-11d1-80b4-00c04fd430c8",
        "6ba7b811-9dad-11d1-80b4-00c04fd430c8",
        "6ba7b812-9dad-11d1-80b4-00c04fd430c8",
        "6ba7b814-9dad-11d1-80b4-00c04fd430c8",
    }
)


def hex_body(body: str) -> str | None:
    """Why a ScrapeGraphAI key body (hex digits; hyphens kept, a UUID's groups apart) looks
    made up, if it does. No words: hex digits spell few, and those by chance."""
    if body.lower() in EXAMPLE_UUIDS:
        return "a UUID documentation prints as an example"
    reason = _runs(body.split("-"), HEX_RUN_LENGTH)
    if reason:
        return reason
    distinct = len(set(body.lower().replace("-", "")))
    if distinct < MIN_DISTINCT_HEX:
        return f"only {distinct} distinct hex digits"
    return None


def _common(body: str) -> str | None:
    """The checks for a provider that names none of its own (see Provider.check)."""
    return _runs(body.split("-"), RUN_LENGTH) or _filler_word(body)


def key_body(secret: str, prefix: str, tags: tuple[str, ...] = ()) -> str:
    """The random part of a key: prefix and environment tag dropped (a value assigned without
    its prefix may still start with a tag). Hyphens stay: checks split on them as they need."""
    secret = secret.removeprefix(prefix)
    tag = next((t for t in tags if secret.startswith(t)), "")
    return secret.removeprefix(tag)


def filler_reason(secret: str, provider: Provider) -> str | None:
    """Why ``secret`` looks like a placeholder under its provider's check, or ``None``."""
    if provider.check is None:
        return _common(key_body(secret, provider.prefix, provider.tags))
    return provider.check(key_body(secret, provider.prefix, provider.tags))
