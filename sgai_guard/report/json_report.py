"""Machine-readable report: one JSON object, secrets redacted unless asked for, written as it is
encoded."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sgai_guard import __version__
from sgai_guard.display import message, name
from sgai_guard.models import CommitRef, Exposure, Finding, ScanResult, Suppression
from sgai_guard.report import RenderOptions
from sgai_guard.report.jsonstream import Lazy, chunks, text


def finding_dict(finding: Finding, show_secrets: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "rule_id": finding.rule.id,
        "rule_name": finding.rule.name,
        "provider": finding.rule.provider.id,
        "confidence": finding.rule.confidence.value,
        "path": name(finding.path),
        "line": finding.line,
        "column": finding.column,
        "commit": finding.commit,
        "status": finding.status.value,
        "blocking": finding.blocking,
        "redacted": finding.redacted,
        "fingerprint": finding.fingerprint,
        "notes": [message(n) for n in finding.notes],
        "remediation": list(finding.rule.provider.remediation),
    }
    if finding.exposure is not None:
        out["exposure"] = exposure_dict(finding.exposure)
    if finding.verification is not None:
        out["verification"] = {
            "verdict": finding.verification.verdict.value,
            "reason": message(finding.verification.reason),
        }
    if finding.repository:
        out["repository"] = name(finding.repository)
    if show_secrets:
        out["secret"] = finding.secret
    return out


def _commit(ref: CommitRef | None) -> dict[str, str] | None:
    if ref is None:
        return None
    return {"commit": ref.oid, "author": name(ref.author), "date": name(ref.date)}


def exposure_dict(exposure: Exposure) -> dict[str, Any]:
    return {
        "paths": [name(p) for p in exposure.paths],
        "introduced": _commit(exposure.introduced),
        "last_seen": _commit(exposure.last_seen),
        "at_head": exposure.at_head,
        "pushed": exposure.pushed,
        "refs": [name(r) for r in exposure.refs],
        "reachable": exposure.reachable,
        "urgency": exposure.urgency,
    }


def suppression_dict(item: Suppression, show_secrets: bool) -> dict[str, Any]:
    out = finding_dict(item.finding, show_secrets)
    out.update(reason=item.reason.value, detail=message(item.detail))
    return out


def as_dict(result: ScanResult, options: RenderOptions) -> dict[str, Any]:
    stats = result.stats
    return {
        "version": __version__,
        "scanned": {
            "files": stats.files,
            "bytes": stats.bytes,
            "commits": stats.commits,
            "seconds": round(stats.seconds, 3),
        },
        "complete": result.complete,
        "findings": Lazy(lambda: (finding_dict(f, options.show_secrets) for f in result.findings)),
        "suppressed": Lazy(
            lambda: (suppression_dict(s, options.show_secrets) for s in result.suppressed)
        ),
        "errors": [{"path": name(s.path), "message": message(s.reason)} for s in result.errors],
        "skipped": [
            {"path": name(s.path), "reason": message(s.reason)}
            for s in result.skipped
            if not s.error
        ],
        "incomplete": [message(r) for r in result.incomplete],
        "notices": [message(n) for n in result.notices],
    }


def render(result: ScanResult, options: RenderOptions) -> str:
    return text(as_dict(result, options))


def stream(result: ScanResult, options: RenderOptions) -> Iterator[str]:
    """The report in pieces, one finding at a time (see report.jsonstream)."""
    return chunks(as_dict(result, options))
