"""Plain data passed between layers: no logic beyond properties."""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field


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


class Status(str, enum.Enum):
    """Where a finding stands relative to what is being committed or pushed."""

    NEW = "new"  # introduced by what is being scanned: blocks
    COMMITTED = "already-committed"  # already in HEAD: rotate, but this commit did not add it
    REMOVED = "removed"  # deleted by the change, still in history and live until revoked


class SuppressReason(str, enum.Enum):
    PLACEHOLDER = "placeholder"
    PATH = "path"
    REGEX = "regex"
    INLINE = "inline"
    FINGERPRINT = "fingerprint"
    BASELINE = "baseline"


@dataclass(frozen=True, slots=True)
class Provider:
    id: str
    name: str
    env_var: str
    dashboard: str
    remediation: tuple[str, ...] = field(repr=False)


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    name: str
    provider: Provider
    technique: Technique
    pattern: bytes = field(repr=False)  # compiled by detect; the group "key" is the secret
    keywords: tuple[bytes, ...] = field(repr=False)  # prefilter: the regex runs if one occurs
    confidence: Confidence
    body_check: str  # which filler check applies to the key body: "tavily" or "hex"


@dataclass(frozen=True, slots=True)
class Blob:
    """One piece of content to scan, from any source."""

    path: str  # forward-slash, relative to the scan root
    data: bytes = field(repr=False)
    commit: str | None = None
    blob_id: str | None = None
    tracked_ignored: bool = False  # tracked by git although .gitignore matches it
    status: Status = Status.NEW
    # Loaded only when the blob has findings. ``prior``: what the path held before (a secret
    # found there too was already committed). ``after``: for a REMOVED blob, what the path
    # holds now (a secret still there was not removed).
    prior: Callable[[], tuple[bytes, ...]] | None = field(default=None, repr=False)
    after: Callable[[], tuple[bytes, ...]] | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class Skipped:
    """A path that was not scanned, and why. ``error`` makes the scan incomplete."""

    path: str
    reason: str
    error: bool = False
    blob_id: str | None = None  # an object read by id, whose paths history can tell


@dataclass(frozen=True, slots=True)
class CommitRef:
    oid: str
    author: str
    date: str  # ISO 8601, as git prints it


@dataclass(frozen=True, slots=True)
class Exposure:
    """Where one secret lives in a repository's history, for an audit's triage."""

    paths: tuple[str, ...]
    introduced: CommitRef | None  # the earliest commit adding a blob that holds it
    last_seen: CommitRef | None  # the newest commit that still holds it
    at_head: bool
    refs: tuple[str, ...]  # refs whose history holds it
    reachable: bool = True  # False: only in unreachable objects or the reflog

    @property
    def pushed(self) -> bool:
        """Reachable from a remote-tracking ref: it has left this machine."""
        return any(ref.startswith("refs/remotes/") for ref in self.refs)

    @property
    def urgency(self) -> int:
        """Lower is more urgent: pushed and live at HEAD first, local leftovers last."""
        return (0 if self.pushed else 2) + (0 if self.at_head else 1)


@dataclass(frozen=True, slots=True)
class Finding:
    rule: Rule
    path: str
    line: int
    column: int
    secret: str = field(repr=False)
    fingerprint: str
    redacted: str
    commit: str | None = None
    status: Status = Status.NEW
    blocking: bool = True
    notes: tuple[str, ...] = ()
    blob_id: str | None = None
    exposure: Exposure | None = None
    line_text: bytes = field(default=b"", repr=False, compare=False)
    previous_line: bytes = field(default=b"", repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class Suppression:
    finding: Finding
    reason: SuppressReason
    detail: str


@dataclass(frozen=True, slots=True)
class ScanStats:
    files: int = 0
    bytes: int = 0
    commits: int = 0
    seconds: float = 0.0


@dataclass(frozen=True, slots=True)
class ScanResult:
    findings: tuple[Finding, ...]
    suppressed: tuple[Suppression, ...]
    skipped: tuple[Skipped, ...]
    stats: ScanStats
    notices: tuple[str, ...] = ()  # things the user should know that are not findings
    incomplete: tuple[str, ...] = ()  # reasons the scan did not cover everything asked

    @property
    def blocking(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.blocking)

    @property
    def errors(self) -> tuple[Skipped, ...]:
        return tuple(s for s in self.skipped if s.error)
