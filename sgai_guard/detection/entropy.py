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

FILLER_WORDS: tuple[str, ...] = (
    "your",
    "xxxx",
    "example",
    "sample",
    "dummy",
    "fake",
    "placeholder",
    "replace",
    "insert",
    "redact",
    "changeme",
    "secret",
    "test",
    "abcdef",
    "abc123",
    "qwerty",
    "1234",
    "0000",
)
RUN_LENGTH = 5
MIN_TAVILY_ENTROPY = 3.5
MIN_DISTINCT_HEX = 8


def shannon(text: str) -> float:
    """Shannon entropy in bits per character."""
    if not text:
        return 0.0
    size = len(text)
    return -sum(n / size * math.log2(n / size) for n in Counter(text).values())


def _repeat_run(text: str) -> str | None:
    run = 1
    for prev, cur in pairwise(text):
        run = run + 1 if cur == prev else 1
        if run >= RUN_LENGTH:
            return f"{RUN_LENGTH} identical characters in a row"
    return None


def _sequence_run(text: str) -> str | None:
    up = down = 1
    for prev, cur in pairwise(text.lower()):
        step = ord(cur) - ord(prev)
        same_class = prev.isdigit() == cur.isdigit()
        up = up + 1 if step == 1 and same_class else 1
        down = down + 1 if step == -1 and same_class else 1
        if max(up, down) >= RUN_LENGTH:
            return f"a run of {RUN_LENGTH} sequential characters"
    return None


def _filler_word(text: str) -> str | None:
    lowered = text.lower()
    for word in FILLER_WORDS:
        if word in lowered:
            return f"contains the filler {word!r}"
    return None


def _common(body: str) -> str | None:
    return _repeat_run(body) or _sequence_run(body) or _filler_word(body)


def tavily_body(body: str) -> str | None:
    """Why a Tavily key body (tag and hyphens removed) looks made up, if it does."""
    reason = _common(body)
    if reason:
        return reason
    if body.lower() == body or body.upper() == body:
        return "letters all of one case"
    if shannon(body) < MIN_TAVILY_ENTROPY:
        return f"entropy {shannon(body):.2f} bits/char below {MIN_TAVILY_ENTROPY}"
    return None


def hex_body(body: str) -> str | None:
    """Why a ScrapeGraphAI key body (hex digits only) looks made up, if it does."""
    reason = _common(body)
    if reason:
        return reason
    distinct = len(set(body.lower()))
    if distinct < MIN_DISTINCT_HEX:
        return f"only {distinct} distinct hex digits"
    return None


def key_body(secret: str, prefix: str, tags: tuple[str, ...] = ()) -> str:
    """The random part of a key: prefix and environment tag dropped, hyphens removed (a value
    assigned without its prefix may still start with a tag)."""
    secret = secret.removeprefix(prefix)
    tag = next((t for t in tags if secret.startswith(t)), "")
    return secret.removeprefix(tag).replace("-", "")


def filler_reason(secret: str, provider: Provider) -> str | None:
    """Why ``secret`` looks like a placeholder under its provider's check, or ``None``."""
    if provider.check is None:
        return _common(key_body(secret, provider.prefix, provider.tags))
    return provider.check(key_body(secret, provider.prefix, provider.tags))
