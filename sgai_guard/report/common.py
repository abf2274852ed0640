"""Small helpers shared by the report formats."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from sgai_guard.display import message
from sgai_guard.models import Finding, Provider, ScanResult, Status, Verdict, Verification
from sgai_guard.summaryline import scanned

if TYPE_CHECKING:
    from sgai_guard.report import RenderOptions

URGENCY_TEXT = {
    0: "PUSHED and still at HEAD: revoke it now",
    1: "PUSHED, deleted since, but still in the pushed history: revoke it now",
    2: "only local, still at HEAD: remove it before pushing; revoke it if it was shared",
    3: "only local, in history: rewrite it out before pushing; revoke it if it was shared",
}

STATUS_TEXT = {
    Status.NEW: "new: blocks",
    Status.COMMITTED: "already committed before this change: rotate it (does not block)",
    Status.REMOVED: "removed here, but still in history and live until revoked",
}


# What a live check's verdict means for the person who must act (see --verify).
VERDICT_TEXT = {
    Verdict.LIVE: "LIVE: the provider accepts this key right now: revoke it first",
    Verdict.DEAD: (
        "dead: the provider rejects this key, so there is nothing to revoke; still remove it "
        "from the code"
    ),
    Verdict.UNKNOWN: "unknown: no verdict, so treat it as live and revoke it",
}


def verdict_line(verification: Verification) -> str:
    """``live check: <what it means> (<why>)``, for every text-based format."""
    reason = message(verification.reason)
    return f"live check: {VERDICT_TEXT[verification.verdict]} ({reason})"


def status_text(finding: Finding) -> str:
    """Whether the finding blocks, in words: how exposed it is (an audit's), else its status
    (a new key that --fail-on lets through says so)."""
    if finding.exposure is not None:
        return URGENCY_TEXT[finding.exposure.urgency]
    if finding.status is Status.NEW and not finding.blocking:
        return "new: reported, not blocking (its live check's verdict is not in --fail-on)"
    return STATUS_TEXT[finding.status]


def state_text(finding: Finding) -> str:
    """Where the finding stands: its status, and the live check's verdict when there is one."""
    text = status_text(finding)
    if finding.verification is not None:
        text += f"; {verdict_line(finding.verification)}"
    return text


def steps(provider: Provider, findings: Iterable[Finding] = ()) -> list[str]:
    """The provider's revoke-and-rotate steps, numbered; when the live check found each of
    ``findings`` dead, a line first saying the first step is done (a newcomer review: a
    dead key read "nothing to revoke", then "1. Revoke the key first")."""
    numbered = [f"{n}. {step}" for n, step in enumerate(provider.remediation, 1)]
    verdicts = [f.verification.verdict if f.verification else None for f in findings]
    if verdicts and all(v is Verdict.DEAD for v in verdicts):
        return [ALL_DEAD, *numbered]
    return numbered


ALL_DEAD = (
    "Each of these keys is dead (the live check), so it needs no revoking: the steps below "
    "still say where a replacement comes from and what to clean up."
)


def headline(finding: Finding, options: RenderOptions) -> str:
    """``Tavily API key tvly-dev-****Wq3z (fingerprint 1a2b…)``: the same in every format."""
    secret = shown_secret(finding, options.show_secrets)
    return f"{finding.rule.name} {secret} (fingerprint {finding.fingerprint})"


def shown_secret(finding: Finding, show_secrets: bool) -> str:
    return finding.secret if show_secrets else finding.redacted


def summary_line(result: ScanResult) -> str:
    stats = result.stats
    parts = [f"{len(result.blocking)} blocking"]
    if len(result.findings) > len(result.blocking):
        parts.append(f"{len(result.findings) - len(result.blocking)} non-blocking")
    parts.append(f"{len(result.suppressed)} suppressed")
    if result.skipped:
        parts.append(f"{len(result.skipped)} skipped")
    if result.errors:
        parts.append(f"{len(result.errors)} unreadable")
    return scanned(stats.files, stats.bytes, stats.commits, stats.seconds, parts)


def dot_segments(path: str) -> bool:
    """Whether ``path`` has a "." or ".." segment, which no file git or a folder walk names
    holds: an archive member's own name (`a.zip!../../.github/workflows/ci.yml`). Where a
    consumer resolves the path (a SARIF URI, a GitHub annotation's file), its slashes are
    escaped, or the alert would land on another file (found by an attacker review)."""
    return any(part in (".", "..") for part in path.replace("\\", "/").split("/"))
