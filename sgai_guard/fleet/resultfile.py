"""One repository's result as a file: everything a ScanResult holds except the secrets (and
the lines around them), so that it can be merged later. Loading rebuilds the records, with
``secret=""`` and each rule looked up by its id."""

from __future__ import annotations

import json
import re
from typing import Any, NamedTuple

from sgai_guard import __version__
from sgai_guard.detection.rules import RULES
from sgai_guard.display import redacted
from sgai_guard.errors import ConfigError
from sgai_guard.models import (
    CommitRef,
    Exposure,
    Finding,
    ScanResult,
    ScanStats,
    Skipped,
    Status,
    Suppression,
    SuppressReason,
    Verdict,
    Verification,
)

FORMAT = "sgai-guard-fleet-result/1"
_RULES = {rule.id: rule for rule in RULES}


class Stored(NamedTuple):
    name: str
    target: str
    state: str
    salt_id: str
    result: ScanResult | None  # None: the repository failed
    error: str = ""
    version: str = __version__


def dump(item: Stored) -> str:
    data = {
        "format": FORMAT,
        "version": item.version,
        "name": item.name,
        "target": item.target,
        "state": item.state,
        "salt_id": item.salt_id,
        "error": redacted(item.error),
        "result": None if item.result is None else _result(item.result),
    }
    return json.dumps(data, indent=1, sort_keys=True) + "\n"  # ASCII: lone surrogates survive


def _result(result: ScanResult) -> dict[str, Any]:
    return {
        "findings": [_finding(f) for f in result.findings],
        "suppressed": [
            {"finding": _finding(s.finding), "reason": s.reason.value, "detail": redacted(s.detail)}
            for s in result.suppressed
        ],
        "skipped": [
            [redacted(s.path), redacted(s.reason), s.error, s.blob_id] for s in result.skipped
        ],
        "stats": list(result.stats),
        "notices": [redacted(n) for n in result.notices],
        "incomplete": [redacted(r) for r in result.incomplete],
        "empty_ok": result.empty_ok,
    }


def _finding(f: Finding) -> dict[str, Any]:
    """Never ``secret``, ``line_text`` or ``previous_line``: each holds the key."""
    return {
        "rule_id": f.rule.id,
        "path": redacted(f.path),
        "line": f.line,
        "column": f.column,
        "fingerprint": f.fingerprint,
        "redacted": f.redacted,
        "commit": f.commit,
        "status": f.status.value,
        "blocking": f.blocking,
        "notes": [redacted(n) for n in f.notes],
        "blob_id": f.blob_id,
        "exposure": None if f.exposure is None else _exposure(f.exposure),
        "verification": None if f.verification is None else list(f.verification),
        "line_hash": f.line_hash,
        "repository": f.repository,
    }


def _exposure(e: Exposure) -> dict[str, Any]:
    return {
        "paths": [redacted(p) for p in e.paths],
        "introduced": _commit(e.introduced),
        "last_seen": _commit(e.last_seen),
        "at_head": e.at_head,
        "refs": [redacted(r) for r in e.refs],
        "reachable": e.reachable,
        "bare": e.bare,
    }


def _commit(ref: CommitRef | None) -> list[str] | None:
    return None if ref is None else [ref.oid, redacted(ref.author), ref.date]


def load(text: str, where: str) -> Stored:
    """A result file; ConfigError naming ``where`` when it is not one this version reads."""
    try:
        data = json.loads(text)
        if data.get("format") != FORMAT:
            raise ValueError(f"not a {FORMAT} file")
        raw = data["result"]
        result = None if raw is None else _load_result(raw)
        return Stored(
            data["name"],
            data["target"],
            data["state"],
            data["salt_id"],
            result,
            data.get("error", ""),
            data.get("version", ""),
        )
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ConfigError(f"{where}: not a readable fleet result ({exc})") from exc


def _load_result(raw: dict[str, Any]) -> ScanResult:
    return ScanResult(
        findings=tuple(_load_finding(f) for f in raw["findings"]),
        suppressed=tuple(
            Suppression(_load_finding(s["finding"]), SuppressReason(s["reason"]), s["detail"])
            for s in raw["suppressed"]
        ),
        skipped=tuple(Skipped(*s) for s in raw["skipped"]),
        stats=ScanStats(*raw["stats"]),
        notices=tuple(raw["notices"]),
        incomplete=tuple(raw["incomplete"]),
        empty_ok=raw["empty_ok"],
    )


_HEX = re.compile(r"[0-9a-f]{20}|[0-9a-f]{40}|[0-9a-f]{64}")
_REDACTED = re.compile(r"[A-Za-z0-9_-]{0,16}\*\*\*\*[A-Za-z0-9_-]{0,4}")


def _checked(d: dict[str, Any]) -> dict[str, Any]:
    """A finding as written by sgai-guard, or ValueError: a planted file cannot smuggle a
    clear key, markup or a bogus position into a merged report."""
    if not _HEX.fullmatch(str(d["fingerprint"])) or len(d["fingerprint"]) != 20:
        raise ValueError("a fingerprint that is not 20 hex digits")
    for key in ("commit", "blob_id"):
        if d[key] is not None and not _HEX.fullmatch(str(d[key])):
            raise ValueError(f"a {key} that is not an object id")
    if not _REDACTED.fullmatch(str(d["redacted"])):
        raise ValueError("a redacted value that is not one")
    if (
        not (isinstance(d["line"], int) and isinstance(d["column"], int))
        or min(d["line"], d["column"]) < 1
    ):
        raise ValueError("a line or column below 1")
    return d


def _load_finding(d: dict[str, Any]) -> Finding:
    rule = _RULES.get(d["rule_id"])
    if rule is None:
        raise ValueError(f"unknown rule {d['rule_id']!r} (written by another version?)")
    d = _checked(d)
    exposure, check = d["exposure"], d["verification"]
    return Finding(
        rule,
        d["path"],
        d["line"],
        d["column"],
        "",
        d["fingerprint"],
        d["redacted"],
        commit=d["commit"],
        status=Status(d["status"]),
        blocking=d["blocking"],
        notes=tuple(d["notes"]),
        blob_id=d["blob_id"],
        exposure=None if exposure is None else _load_exposure(exposure),
        verification=None if check is None else Verification(Verdict(check[0]), *check[1:]),
        line_hash=d["line_hash"],
        repository=d["repository"],
    )


def _load_exposure(d: dict[str, Any]) -> Exposure:
    def commit(raw: list[str] | None) -> CommitRef | None:
        return None if raw is None else CommitRef(*raw)

    return Exposure(
        tuple(d["paths"]),
        commit(d["introduced"]),
        commit(d["last_seen"]),
        d["at_head"],
        tuple(d["refs"]),
        d["reachable"],
        d["bare"],
    )
