"""SARIF 2.1.0 for code-scanning dashboards: rules carry the remediation, results are redacted."""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import quote

from sgai_guard import __version__
from sgai_guard.display import message, redacted
from sgai_guard.models import Finding, ScanResult, Suppression, SuppressReason
from sgai_guard.report import RenderOptions
from sgai_guard.report.common import STATUS_TEXT, json_text, shown_secret
from sgai_guard.rules import RULES

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
FINGERPRINT_KEY = "sgaiGuardSecret/v1"


def _rule(index: int) -> dict[str, Any]:
    rule = RULES[index]
    steps = rule.provider.remediation
    return {
        "id": rule.id,
        "name": "".join(part.title() for part in rule.id.split("-")),
        "shortDescription": {"text": rule.name},
        "fullDescription": {"text": f"{rule.name}: a live credential for {rule.provider.name}."},
        "help": {
            "text": "\n".join(f"{n}. {step}" for n, step in enumerate(steps, 1)),
            "markdown": "\n".join(f"{n}. {step}" for n, step in enumerate(steps, 1)),
        },
        "defaultConfiguration": {"level": "error"},
        "properties": {
            "tags": ["security", "secret", rule.provider.id],
            "precision": {"high": "very-high", "medium": "high"}.get(
                rule.confidence.value, "medium"
            ),
            "security-severity": "9.0",
        },
    }


def _result(finding: Finding, options: RenderOptions) -> dict[str, Any]:
    index = RULES.index(finding.rule)
    secret = shown_secret(finding, options.show_secrets)
    text = (
        f"{finding.rule.name} {secret} (fingerprint {finding.fingerprint}): "
        f"{STATUS_TEXT[finding.status]}. Revoke it in {finding.rule.provider.dashboard} and "
        f"read it from {finding.rule.provider.env_var} instead."
    )
    out: dict[str, Any] = {
        "ruleId": finding.rule.id,
        "ruleIndex": index,
        "level": "error" if finding.blocking else "warning",
        "message": {"text": text},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {
                        "uri": _uri(finding.path),
                        "uriBaseId": "%SRCROOT%",
                    },
                    "region": {"startLine": finding.line, "startColumn": finding.column},
                }
            }
        ],
        "partialFingerprints": {FINGERPRINT_KEY: finding.fingerprint},
        "properties": {
            "status": finding.status.value,
            "commit": finding.commit,
            "confidence": finding.rule.confidence.value,
        },
    }
    return out


def _uri(path: str) -> str:
    """The path's own bytes, percent-encoded: lossless for any name git or the file system
    gives, including bytes that are not UTF-8."""
    return quote(os.fsencode(redacted(path)).replace(b"\\", b"/"), safe="/")


def _suppressed(item: Suppression, options: RenderOptions) -> dict[str, Any]:
    out = _result(item.finding, options)
    kind = "inSource" if item.reason is SuppressReason.INLINE else "external"
    justification = message(f"{item.reason.value}: {item.detail}")
    out["suppressions"] = [{"kind": kind, "justification": justification}]
    return out


def as_dict(result: ScanResult, options: RenderOptions) -> dict[str, Any]:
    results = [_result(f, options) for f in result.findings]
    if options.show_suppressed:
        results += [_suppressed(s, options) for s in result.suppressed]
    problems = [
        message(text)
        for text in (*result.incomplete, *(f"{s.path}: {s.reason}" for s in result.errors))
    ]
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "sgai-guard",
                        "version": __version__,
                        "informationUri": "https://pypi.org/project/sgai-guard/",
                        "rules": [_rule(i) for i in range(len(RULES))],
                    }
                },
                "invocations": [
                    {
                        "executionSuccessful": not problems,
                        "toolExecutionNotifications": [
                            {"level": "error", "message": {"text": text}} for text in problems
                        ],
                    }
                ],
                "columnKind": "unicodeCodePoints",
                "results": results,
            }
        ],
    }


def render(result: ScanResult, options: RenderOptions) -> str:
    return json_text(as_dict(result, options))
