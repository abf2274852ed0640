"""GitLab secret-detection report (security report format 15.x), redacted.

Only the fields the 15.x secret-detection schema defines for a vulnerability are written (no
per-vulnerability scanner, no source extract): GitLab rejects a whole report that does not
match its schema.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Iterator
from typing import Any

from sgai_guard import __version__
from sgai_guard.display import message, name
from sgai_guard.models import Finding, ScanResult
from sgai_guard.report import RenderOptions
from sgai_guard.report.common import headline, state_text, steps
from sgai_guard.report.jsonstream import Lazy, chunks, text

REPORT_VERSION = "15.2.1"  # the newest that GitLab's pinned schema gem accepts
SCHEMA_URL = (
    "https://gitlab.com/gitlab-org/security-products/security-report-schemas/-/raw/"
    f"v{REPORT_VERSION}/dist/secret-detection-report-format.json"
)
_TOOL = {
    "id": "sgai-guard",
    "name": "sgai-guard",
    "version": __version__,
    "vendor": {"name": "sgai-guard"},
}
_NAMESPACE = uuid.UUID("5f0c7a52-4e8e-4c55-9d0e-2b1a6c3d9e11")


def _vulnerability(finding: Finding, options: RenderOptions) -> dict[str, Any]:
    provider = finding.rule.provider
    key = f"{finding.fingerprint}:{name(finding.path)}:{finding.line}"
    return {
        "id": str(uuid.uuid5(_NAMESPACE, key)),
        "name": finding.rule.name,
        "description": f"{headline(finding, options)}, {state_text(finding)}.",
        "severity": "Critical" if finding.blocking else "High",
        "solution": " ".join(steps(provider)),
        "location": {
            "file": name(finding.path),
            "start_line": finding.line,
            "commit": {"sha": finding.commit or options.commit or ""},
        },
        "identifiers": [
            {"type": "sgai_guard_rule_id", "name": finding.rule.name, "value": finding.rule.id}
        ],
    }


def as_dict(result: ScanResult, options: RenderOptions) -> dict[str, Any]:
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0, tzinfo=None)
    start = now - datetime.timedelta(seconds=int(result.stats.seconds))
    ok = result.complete
    return {
        "version": REPORT_VERSION,
        "schema": SCHEMA_URL,
        "scan": {
            "analyzer": _TOOL,
            "scanner": _TOOL,
            "type": "secret_detection",
            "start_time": start.isoformat(),
            "end_time": now.isoformat(),
            "status": "success" if ok else "failure",
            "messages": [{"level": "fatal", "value": message(r)} for r in result.incomplete],
        },
        "vulnerabilities": Lazy(lambda: (_vulnerability(f, options) for f in result.findings)),
    }


def render(result: ScanResult, options: RenderOptions) -> str:
    return text(as_dict(result, options))


def stream(result: ScanResult, options: RenderOptions) -> Iterator[str]:
    """The report in pieces, one vulnerability at a time (see report.jsonstream)."""
    return chunks(as_dict(result, options))
