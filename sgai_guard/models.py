"""Plain data passed between layers: no logic beyond properties.

Records are immutable NamedTuples rather than dataclasses: the commit hook imports these on
every commit, and `import dataclasses` (which pulls in inspect) plus generating each class's
methods cost about 20 ms of its start-up; a NamedTuple costs a tenth of that. Reprs of records
that hold a secret or file content are written out so that neither ever shows.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import NamedTuple

from sgai_guard.definitions import Confidence, KeyShape, Provider, Rule, Technique

__all__ = [  # the records every layer uses; provider and rule records live in definitions.py
    "BARE_PUBLISHED_REFS",
    "MARKERS_OFF",
    "PUBLISHED_REFS",
    "ZERO_OID",
    "ZERO_OIDS",
    "Blob",
    "CommitRef",
    "Confidence",
    "Exposure",
    "Finding",
    "KeyShape",
    "Part",
    "Provider",
    "Rule",
    "ScanResult",
    "ScanStats",
    "Skipped",
    "Status",
    "Summary",
    "SuppressReason",
    "Suppression",
    "Technique",
    "Verdict",
    "Verification",
    "is_object_id",
]

# How a scan says that its configuration turned inline markers off (`inline-markers = false`):
# the hook's advice then offers no marker.
MARKERS_OFF = "inline markers allow nothing here"
REF_NAME = "(name of a ref the push creates)"  # where a file's path would be (sources.pushed)

# git's name for "no object" (a new or deleted ref): SHA-1 and SHA-256 repositories.
ZERO_OID = "0" * 40
ZERO_OIDS = frozenset({ZERO_OID, "0" * 64})


def is_object_id(text: str) -> bool:
    """A full object id as git prints it (SHA-1 or SHA-256, lowercase hex), nothing else: what
    a repository's own bytes claim is an id is checked with this before git is asked."""
    return len(text) in (40, 64) and not text.strip("0123456789abcdef")  # C speed: 20 k refs


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


class Verdict(str, enum.Enum):
    """What a provider said about a key when asked (opt-in ``--verify``)."""

    LIVE = "live"  # accepted, including out of quota or credits
    DEAD = "dead"  # the provider says the key is invalid or revoked
    UNKNOWN = "unknown"  # no verdict: rate limit, server error, timeout, TLS, odd answer


class Verification(NamedTuple):
    verdict: Verdict
    reason: str  # a few words, never the key: "HTTP 432: plan limit reached", "timed out"
    endpoint: str = ""  # the URL asked (holds no key)


class Part(NamedTuple):
    """Where a piece of a large file sits in it: files are read in bounded pieces that overlap,
    so a key across a piece's edge is still found, and found once."""

    line: int  # lines before the piece
    column: int  # characters before the piece on its first line (a piece cut mid-line)
    end: int  # matches starting at or after this offset belong to the next piece
    last: bool = False  # the final piece

    @property
    def first(self) -> bool:
        return self.line == 0 and self.column == 0


class Blob(NamedTuple):
    """One piece of content to scan, from any source."""

    path: str  # forward-slash, relative to the scan root
    data: bytes
    commit: str | None = None
    blob_id: str | None = None
    tracked_ignored: bool = False  # tracked by git although .gitignore matches it
    status: Status = Status.NEW
    # Loaded only when the blob has findings. ``prior``: what the path held before (a secret
    # found there too was already committed). ``after``: for a REMOVED blob, what the path
    # holds now (a secret still there was not removed).
    prior: Callable[[], tuple[bytes, ...]] | None = None
    after: Callable[[], tuple[bytes, ...]] | None = None
    part: Part | None = None  # a piece of a large file
    also: tuple[tuple[str, str | None], ...] = ()  # (path, commit): the same content elsewhere
    message: bool = False  # a commit's or tag's message, not a file (not counted as one)
    # in a range: what the path held at the range's base, loaded only for a key that the
    # range itself may have brought in allowed (engine.scan._unheld)
    base: Callable[[], tuple[bytes, ...]] | None = None

    def __repr__(self) -> str:
        return f"Blob({self.path!r}, {len(self.data)} bytes, commit={self.commit!r})"


class Skipped(NamedTuple):
    """A path that was not scanned, and why. ``error`` makes the scan incomplete."""

    path: str
    reason: str
    error: bool = False
    blob_id: str | None = None  # an object read by id, whose paths history can tell


class Passed(NamedTuple):
    """Content a source read and screened for the engine: no keyword, no UTF-16 text, no
    container, so the detector could find nothing in it. Counted, never scanned again."""

    files: int
    bytes: int


class CommitRef(NamedTuple):
    oid: str
    author: str
    date: str  # ISO 8601, as git prints it


PUBLISHED_REFS = (
    "refs/remotes/",
    "refs/pull/",  # GitHub pull requests
    "refs/merge-requests/",  # GitLab merge requests
    "refs/changes/",  # Gerrit reviews
    "refs/keep-around/",  # GitLab keeps commits it has shown
    "refs/pipelines/",  # GitLab pipelines
    "refs/for/",  # Gerrit pushes for review
)
BARE_PUBLISHED_REFS = ("refs/heads/", "refs/tags/")


class Exposure(NamedTuple):
    """Where one secret lives in a repository's history, for an audit's triage."""

    paths: tuple[str, ...]
    introduced: CommitRef | None  # the earliest commit adding a blob that holds it
    last_seen: CommitRef | None  # the newest commit that still holds it
    at_head: bool
    refs: tuple[str, ...]  # refs whose history holds it
    reachable: bool = True  # False: only in unreachable objects or the reflog
    bare: bool = False  # audited in a bare repository (a server's copy or a --mirror clone)

    @property
    def pushed(self) -> bool:
        """It has left a developer's machine: a remote-tracking ref reaches it, or a ref that
        only a server has (pull and merge requests, review changes), or any branch or tag of
        a bare repository, whose branches and tags are what it publishes."""
        published = PUBLISHED_REFS + (BARE_PUBLISHED_REFS if self.bare else ())
        return any(ref.startswith(published) for ref in self.refs)

    @property
    def urgency(self) -> int:
        """Lower is more urgent: pushed and live at HEAD first, local leftovers last."""
        return (0 if self.pushed else 2) + (0 if self.at_head else 1)


class Finding(NamedTuple):
    rule: Rule
    path: str
    line: int
    column: int
    secret: str  # never in repr; reports show ``redacted`` unless asked
    fingerprint: str
    redacted: str
    commit: str | None = None
    status: Status = Status.NEW
    blocking: bool = True
    notes: tuple[str, ...] = ()
    blob_id: str | None = None
    exposure: Exposure | None = None
    line_text: bytes = b""  # the line holding the secret (for inline markers): never in repr
    previous_line: bytes = b""
    verification: Verification | None = None  # set only under --verify
    line_hash: str = ""  # GitHub's hash of the content at this line (linehash.py)
    repository: str = ""  # the fleet target that holds it (audits of many repositories)

    def __repr__(self) -> str:
        return (
            f"Finding({self.rule.id!r}, {self.path!r}:{self.line}:{self.column}, "
            f"{self.redacted!r}, {self.status.value})"
        )


class Suppression(NamedTuple):
    finding: Finding
    reason: SuppressReason
    detail: str


class Summary(NamedTuple):
    """What a source learnt while its blobs were read (see engine.run)."""

    commits: int | None = None  # None: the engine's own count of commits seen
    notices: tuple[str, ...] = ()
    incomplete: tuple[str, ...] = ()  # reasons the source could not cover what was asked
    empty_ok: bool = False  # it said why there was nothing to scan (an empty range)


class ScanStats(NamedTuple):
    files: int = 0
    bytes: int = 0
    commits: int = 0
    seconds: float = 0.0


class ScanResult(NamedTuple):
    findings: tuple[Finding, ...]
    suppressed: tuple[Suppression, ...]
    skipped: tuple[Skipped, ...]
    stats: ScanStats
    notices: tuple[str, ...] = ()  # things the user should know that are not findings
    incomplete: tuple[str, ...] = ()  # reasons the scan did not cover everything asked
    empty_ok: bool = False  # the source said why there was nothing to scan (an empty range)

    @property
    def blocking(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.blocking)

    @property
    def errors(self) -> tuple[Skipped, ...]:
        return tuple(s for s in self.skipped if s.error)

    @property
    def complete(self) -> bool:
        """Everything asked for was scanned (reports say so; the exit code is outcome.py's)."""
        return not self.incomplete and not self.errors
