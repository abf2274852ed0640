"""What a provider and a rule are: the records detection is built from (see models.py for
everything a scan produces). Plain data, cheap to import: the commit hook loads these."""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import NamedTuple


class Confidence(str, enum.Enum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class Technique(str, enum.Enum):
    """How a rule finds a key: the plain prefixed shape, or one of the indirect forms."""

    PREFIXED = "prefixed"
    ASSIGNED = "assigned"  # a prefix-less value assigned to one of the provider's own names
    BASE64 = "base64"
    SPLIT = "split"  # a key split across a string concatenation


class KeyShape(NamedTuple):
    """One form a provider's keys take after the provider's prefix."""

    name: str  # "Tavily API key"
    body: bytes  # regex of what follows the prefix
    confidence: Confidence
    suffix: str = ""  # added to the rule id for shapes after the first ("hex")


class Provider(NamedTuple):
    """Everything sgai-guard knows about one provider; rules and texts are derived from it
    (rules.rules_for): adding a provider is adding one of these."""

    id: str
    name: str
    env_var: str
    dashboard: str
    remediation: tuple[str, ...]
    docs: str = ""  # the provider's own page on managing and rotating keys
    prefix: str = ""  # what every key starts with: "tvly-"
    tags: tuple[str, ...] = ()  # environment tags after the prefix, shown when redacted
    shapes: tuple[KeyShape, ...] = ()  # the first is the main shape
    names: bytes = b""  # regex (case-insensitive) of the variable names that hold a key
    bare: bytes = b""  # regex of a key assigned to such a name without its prefix
    name_keywords: tuple[bytes, ...] = ()  # literals one of ``names`` holds, for the prefilter
    # why a key body (prefix, tag and hyphens removed) looks made up; None when it looks real
    check: Callable[[str], str | None] | None = None
    verifier: str = ""  # the live check in verify/ that knows this provider ("": none)

    def __repr__(self) -> str:
        return f"Provider({self.id!r})"


class Rule(NamedTuple):
    id: str
    name: str
    provider: Provider
    technique: Technique
    pattern: bytes  # compiled by detect; the named group "key" is the secret
    keywords: tuple[bytes, ...]  # prefilter: the regex runs only where one occurs
    confidence: Confidence
    end: bytes = b""  # the boundary after the key, matched after ``pattern``

    def __repr__(self) -> str:
        return f"Rule({self.id!r})"
