"""The engine: blobs in, a ScanResult out. Knows nothing of git, click or report formats."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import NamedTuple, Protocol

from sgai_guard.detection.containers import Limits
from sgai_guard.detection.detect import Candidate, Detector
from sgai_guard.detection.expand import expanded
from sgai_guard.detection.fingerprint import DEFAULT_SALT, fingerprint, redact
from sgai_guard.detection.rules import shown_prefixes
from sgai_guard.display import without_secret
from sgai_guard.models import (
    Blob,
    Finding,
    Part,
    Passed,
    ScanResult,
    ScanStats,
    Skipped,
    Status,
    Suppression,
    SuppressReason,
    Technique,
)

TRACKED_IGNORED = "tracked by git although .gitignore matches it: still scanned"


class Policy(Protocol):
    """Decides whether a finding is suppressed (allowlists, baselines); may annotate it."""

    def check(self, finding: Finding) -> Suppression | Finding: ...


class NoPolicy:
    def check(self, finding: Finding) -> Suppression | Finding:
        return finding


_Recorded = tuple[str, str, str, Callable[[], tuple[bytes, ...]]]


class _Tally:
    """What one scan has gathered so far (mutable; the engine's own bookkeeping)."""

    __slots__ = ("based", "bytes", "commits", "files", "findings", "skipped", "suppressed")

    def __init__(self) -> None:
        self.findings: list[Finding] = []
        self.suppressed: list[Suppression] = []
        self.skipped: list[Skipped] = []
        self.files = 0
        self.bytes = 0
        self.commits: set[str] = set()
        # (fingerprint, path, key, what the range's base held at the path): asked only for
        # keys the range also holds allowed (see _unheld)
        self.based: list[_Recorded] = []


Progress = Callable[[int, int], None]  # (files, bytes) so far


BLOCKING_BY_DEFAULT = frozenset({Status.NEW})


class Settings(NamedTuple):
    """How findings are turned into a verdict; the same for every source."""

    salt: str = DEFAULT_SALT
    blocking: frozenset[Status] = BLOCKING_BY_DEFAULT
    archives: Limits = Limits()  # how far containers are opened (depth 0: not at all)


def scan(
    items: Iterable[Blob | Skipped | Passed],
    *,
    policy: Policy | None = None,
    settings: Settings | None = None,
    detector: Detector | None = None,
    progress: Progress | None = None,
) -> ScanResult:
    """Scan every blob; return findings, suppressions and everything that was skipped."""
    started = time.perf_counter()
    detector = detector or Detector()
    policy = policy or NoPolicy()
    settings = settings or Settings()
    tally = _Tally()
    opened: set[str] = set()
    for item in expanded(items, settings.archives, opened):
        if isinstance(item, Skipped):
            tally.skipped.append(item)
            continue
        if isinstance(item, Passed):  # screened by the source: nothing to detect
            tally.files += item.files
            tally.bytes += item.bytes
        else:
            _scan_blob(item, detector, policy, settings, tally)
        if progress is not None:
            progress(tally.files, tally.bytes)
    stats = ScanStats(
        files=tally.files,
        bytes=tally.bytes,
        commits=len(tally.commits),
        seconds=time.perf_counter() - started,
    )
    findings = _unheld(tally.findings, tally.suppressed, settings, _Based(tally.based, detector))
    return ScanResult(
        findings=_outermost_dropped(findings, opened),
        suppressed=tuple(tally.suppressed),
        skipped=tuple(tally.skipped),
        stats=stats,
    )


def _outermost_dropped(findings: list[Finding], opened: set[str]) -> tuple[Finding, ...]:
    """A key in an uncompressed container (a plain tar, a stored zip member) is seen twice:
    in the container's own bytes and in the member. Only the member's finding, which says
    where the key is, is kept; only for containers that were opened (a file merely named
    `a!b` hides nothing)."""
    inside = {
        (f.fingerprint, f.path[:cut])
        for f in findings
        for cut in (i for i, c in enumerate(f.path) if c == "!")
        if f.path[:cut] in opened
    }
    return tuple(f for f in findings if (f.fingerprint, f.path) not in inside)


def _scan_blob(
    blob: Blob, detector: Detector, policy: Policy, settings: Settings, tally: _Tally
) -> None:
    _count(blob, tally)
    candidates = _candidates(blob, detector)
    if not candidates:
        return
    hashes = _line_hashes(blob, candidates)
    held = _held(blob.prior() if blob.prior else (), detector)
    after = blob.after() if blob.after else ()
    places = ((blob.path, blob.commit), *blob.also)
    candidates.reverse()
    while candidates:  # each candidate is let go once judged: a file of 100,000 keys
        candidate = candidates.pop()  # never holds its candidates and findings both
        secret = candidate.secret.encode()
        if any(secret in text for text in after):
            continue  # a REMOVED blob's secret that the path still holds was not removed
        status = Status.COMMITTED if canonical(candidate) in held else blob.status
        line_hash = hashes.get(candidate.line, "")
        for path, commit in places:
            placed = blob._replace(path=path, commit=commit)
            finding = to_finding(candidate, placed, settings.salt, status, line_hash)
            if status is Status.COMMITTED and blob.base is not None and path == blob.path:
                tally.based.append((finding.fingerprint, path, canonical(candidate), blob.base))
            _judge(finding, candidate, policy, settings, tally)


def _unheld(
    findings: list[Finding],
    suppressed: list[Suppression],
    settings: Settings,
    based: _Based,
) -> list[Finding]:
    """Findings "already committed" only because an earlier commit of the same range held
    the key while it was suppressed (an excluded path, an allowed line, a marker), then
    moved or edited it out of reach: that key was never reported, so it is new here and
    blocks as new keys do (found by a review: add it allowed, un-allow it next, exit 0). A
    key the range also reports as new blocks through that finding already; one that the
    range's base held at the finding's path was committed before (``based``: a file holding
    an old key, edited beside an allowed example of it, blocked as new: found by the next
    review)."""
    allowed = {
        s.finding.fingerprint
        for s in suppressed
        if s.finding.status is Status.NEW and s.finding.commit
    }
    hidden = allowed - {f.fingerprint for f in findings if f.status is Status.NEW}
    if not hidden:
        return findings
    kept = based.held(hidden)
    new = Status.NEW in settings.blocking
    return [
        f._replace(status=Status.NEW, blocking=new)
        if f.status is Status.COMMITTED
        and f.commit
        and f.fingerprint in hidden
        and (f.fingerprint, f.path) not in kept
        else f
        for f in findings
    ]


class _Based:
    """What a range's base held at the paths of its "already committed" findings, read only
    for the keys ``_unheld`` would otherwise call new, and judged per path: a key the base
    held in one file says nothing of another it is moved into (found by a review)."""

    def __init__(self, recorded: list[_Recorded], detector: Detector) -> None:
        self._recorded, self._detector = recorded, detector

    def held(self, fingerprints: set[str]) -> set[tuple[str, str]]:
        """(fingerprint, path) of each such finding whose key the base held at its path."""
        kept: set[tuple[str, str]] = set()
        loaded: dict[Callable[[], tuple[bytes, ...]], frozenset[str]] = {}  # one read a blob
        for mark, path, key, load in self._recorded:
            if mark in fingerprints:
                if load not in loaded:
                    loaded[load] = _held(load(), self._detector)
                if key in loaded[load]:
                    kept.add((mark, path))
        return kept


def _line_hashes(blob: Blob, candidates: list[Candidate]) -> dict[int, str]:
    """GitHub's line hash of each candidate's line, computed before any finding is made
    (its working set and the candidates, which hold no text of their own, are smaller
    than the findings); only for content read whole, since the hash of a line counts the
    lines before it that look the same."""
    if blob.part is not None:
        return {}
    from sgai_guard.detection.linehash import line_hashes  # noqa: PLC0415 (only when a key is found)

    return line_hashes(blob.data, {candidate.line for candidate in candidates})


def _held(prior: tuple[bytes, ...], detector: Detector) -> frozenset[str]:
    """The keys the detector finds in what came before (the path in HEAD or the parent, the
    branch being merged, the paths the change deletes). A key is already committed only if
    it was there in a form that would have been reported: bytes that merely contain it (a
    key with a letter after it, `KEYZ`) do not count, or a key could be slipped in
    undetected first and shown later as "already committed"."""
    return frozenset(canonical(c) for text in prior for c in detector.detect(text))


def _count(blob: Blob, tally: _Tally) -> None:
    part = blob.part
    if (part is None or part.first) and not blob.message:
        tally.files += 1  # content read, once however many paths hold it
    tally.bytes += len(blob.data) if part is None else part.end
    if blob.commit:
        tally.commits.add(blob.commit)


def _candidates(blob: Blob, detector: Detector) -> list[Candidate]:
    """What the detector finds in the blob; for a piece, only what starts in it, placed in
    the whole file."""
    candidates = detector.detect(blob.data)
    part = blob.part
    if part is None:
        return candidates
    return [_placed(c, part) for c in candidates if c.place < part.end]


def _placed(candidate: Candidate, part: Part) -> Candidate:
    """A candidate found in a piece, with its line and column in the whole file."""
    column = candidate.column + (part.column if candidate.line == 1 else 0)
    return candidate._replace(line=candidate.line + part.line, column=column)


def _judge(
    finding: Finding, candidate: Candidate, policy: Policy, settings: Settings, tally: _Tally
) -> None:
    finding = finding._replace(blocking=finding.status in settings.blocking)
    if candidate.filler is not None:
        reason, detail = SuppressReason.PLACEHOLDER, candidate.filler
        tally.suppressed.append(Suppression(_without_lines(finding), reason, detail))
        return
    verdict = policy.check(finding)
    # the lines were for the policy's markers and line regexes; kept, a long line would cost
    # its 64 KiB window per finding (and they hold the key: nothing after this reads them)
    if isinstance(verdict, Suppression):
        detail = without_secret(verdict.detail, finding.secret)  # a reason may quote the key
        found = _without_lines(verdict.finding)
        tally.suppressed.append(verdict._replace(finding=found, detail=detail))
    else:
        tally.findings.append(_without_lines(verdict))


def _without_lines(finding: Finding) -> Finding:
    return finding._replace(line_text=b"", previous_line=b"")


def canonical(candidate: Candidate) -> str:
    """The key as its provider issues it: a value assigned without its prefix gets it back,
    so that both forms of one key share a fingerprint (and one allow entry or baseline)."""
    prefix = candidate.rule.provider.prefix
    if candidate.rule.technique is Technique.ASSIGNED and not candidate.secret.startswith(prefix):
        return prefix + candidate.secret
    return candidate.secret


def to_finding(
    candidate: Candidate, blob: Blob, salt: str, status: Status, line_hash: str = ""
) -> Finding:
    notes = (TRACKED_IGNORED,) if blob.tracked_ignored else ()
    key = canonical(candidate)
    line_text, previous_line = candidate.texts()
    return Finding(
        rule=candidate.rule,
        path=blob.path,
        line=candidate.line,
        column=candidate.column,
        secret=candidate.secret,
        fingerprint=fingerprint(candidate.rule.provider.id, key, salt),
        redacted=redact(key, shown_prefixes(candidate.rule.provider)),
        commit=blob.commit,
        status=status,
        notes=notes,
        blob_id=blob.blob_id,
        line_text=line_text,
        previous_line=previous_line,
        line_hash=line_hash,
    )
