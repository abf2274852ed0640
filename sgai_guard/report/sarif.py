"""SARIF 2.1.0 for code-scanning dashboards: rules carry the remediation, results are redacted."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

from sgai_guard import __version__
from sgai_guard.detection.rules import RULES
from sgai_guard.display import message, name, redacted
from sgai_guard.models import Confidence, Finding, Rule, ScanResult, Suppression, SuppressReason
from sgai_guard.report import RenderOptions
from sgai_guard.report.common import dot_segments, headline, state_text, steps
from sgai_guard.report.jsonstream import Lazy, chunks, text

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
FINGERPRINT_KEY = "sgaiGuardSecret/v1"


# GitHub ranks alerts by security-severity (9.0 and up: critical; 7.0 to 8.9: high; 4.0 to
# 6.9: medium): a prefixed key is certain, a key found only by context less so.
SEVERITY = {Confidence.HIGH: "9.5", Confidence.MEDIUM: "8.0", Confidence.LOW: "6.0"}
PRECISION = {Confidence.HIGH: "very-high", Confidence.MEDIUM: "high", Confidence.LOW: "medium"}


def _rules(result: ScanResult) -> tuple[Rule, ...]:
    """Every rule sgai-guard runs, then any other rule a finding names (a provider added by a
    caller): ``ruleIndex`` points into this."""
    found = (f.rule for f in (*result.findings, *(s.finding for s in result.suppressed)))
    return tuple(dict.fromkeys((*RULES, *found)))


def _rule(rule: Rule) -> dict[str, Any]:
    provider = rule.provider
    numbered = steps(provider)
    doc = f"{provider.name}'s own guide to managing keys: {provider.docs}"
    return {
        "id": rule.id,
        "name": "".join(part.title() for part in rule.id.split("-")),
        "shortDescription": {"text": rule.name},
        "fullDescription": {"text": f"{rule.name}: a live credential for {provider.name}."},
        "helpUri": provider.docs,
        "help": {
            "text": "\n".join((*numbered, doc)),
            "markdown": "\n".join(
                (
                    f"**A {provider.name} API key is in the code.** Act in this order:",
                    "",
                    *numbered,
                    "",
                    f"[{provider.name}: managing API keys]({provider.docs})",
                )
            ),
        },
        "defaultConfiguration": {"level": "error"},
        "properties": {
            "tags": ["security", "secret", f"external/provider/{provider.id}"],
            "precision": PRECISION[rule.confidence],
            "security-severity": SEVERITY[rule.confidence],
        },
    }


def _result(finding: Finding, options: RenderOptions, rules: tuple[Rule, ...]) -> dict[str, Any]:
    index = rules.index(finding.rule)
    text = (
        f"{headline(finding, options)}: "
        f"{state_text(finding)}. Revoke it in {finding.rule.provider.dashboard} and "
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
        # GitHub keys alerts by the line hash; the secret's own fingerprint, which no edit
        # around it changes, is the one other tools should key on
        "fingerprints": {FINGERPRINT_KEY: finding.fingerprint},
        "partialFingerprints": _partial(finding),
        "properties": {
            "status": finding.status.value,
            "commit": finding.commit,
            "confidence": finding.rule.confidence.value,
            **_verdict(finding),
            **({"repository": name(finding.repository)} if finding.repository else {}),
        },
    }
    return out


def _verdict(finding: Finding) -> dict[str, str]:
    check = finding.verification
    if check is None:
        return {}
    return {"verdict": check.verdict.value, "verdictReason": redacted(check.reason)}


def _partial(finding: Finding) -> dict[str, str]:
    """GitHub's line hash when the engine could compute it; otherwise left to the upload
    action, which computes it from the checkout."""
    return {"primaryLocationLineHash": finding.line_hash} if finding.line_hash else {}


def _uri(path: str) -> str:
    """The path's own bytes, percent-encoded: lossless for any name git or the file system
    gives, including bytes that are not UTF-8."""
    raw = os.fsencode(redacted(path)).replace(b"\\", b"/")
    return quote(raw, safe="" if dot_segments(path) else "/")


def _suppressed(
    item: Suppression, options: RenderOptions, rules: tuple[Rule, ...]
) -> dict[str, Any]:
    out = _result(item.finding, options, rules)
    kind = "inSource" if item.reason is SuppressReason.INLINE else "external"
    justification = message(f"{item.reason.value}: {item.detail}")
    out["suppressions"] = [{"kind": kind, "justification": justification}]
    return out


def as_dict(result: ScanResult, options: RenderOptions) -> dict[str, Any]:
    rules = _rules(result)

    def results() -> Iterator[dict[str, Any]]:
        yield from (_result(f, options, rules) for f in result.findings)
        if options.show_suppressed:
            yield from (_suppressed(s, options, rules) for s in result.suppressed)

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
                        "rules": [_rule(rule) for rule in rules],
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
                "automationDetails": {"id": options.automation or "sgai-guard/"},
                "columnKind": "unicodeCodePoints",
                "results": Lazy(results),
            }
        ],
    }


def render(result: ScanResult, options: RenderOptions) -> str:
    return text(as_dict(result, options))


def stream(result: ScanResult, options: RenderOptions) -> Iterator[str]:
    """The log in pieces, one result at a time (see report.jsonstream)."""
    return chunks(as_dict(result, options))
