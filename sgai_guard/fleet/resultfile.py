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
    """A result file; ConfigError naming ``where`` when it is not one this version reads.
    Every field is checked for its type and bounded in size, as a file a repository or a
    job could have planted: a wrong one fails this file only, never the merge (found by a
    review: a list as salt_id, or three million empty notices, stopped or swamped it)."""
    try:
        data = json.loads(text)
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ValueError(f"not a {FORMAT} file")
        raw, name = data["result"], _str(data["name"])
        result = None if raw is None else _load_result(_dict(raw))
        if result is not None and _elsewhere(result, name):  # found by a review
            raise ValueError("a finding of another repository than the file's")
        return Stored(
            name,
            _str(data["target"]),
            _str(data["state"]),
            _str(data["salt_id"]),
            result,
            redacted(_str(data.get("error", ""))),
            _str(data.get("version", "")),
        )
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
        raise ConfigError(f"{where}: not a readable fleet result ({exc})") from None


def _elsewhere(result: ScanResult, name: str) -> bool:
    """A finding said to be another repository's: one file placing a key in another."""
    found = (*result.findings, *(s.finding for s in result.suppressed))
    return any(finding.repository != name for finding in found)


_MAX_ITEMS = 100_000  # entries of any one list: findings, notices, paths...
_MAX_TEXT = 64 << 10  # characters of any one string
_LARGEST = 1 << 53  # of any count (a float holds every integer up to it)


def _dict(value: object) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise TypeError("an object was expected")
    return value


def _str(value: object) -> str:
    if not isinstance(value, str) or len(value) > _MAX_TEXT:
        raise TypeError("a string of at most 64 KiB was expected")
    return value


def _list(value: object) -> list[Any]:
    if not isinstance(value, list) or len(value) > _MAX_ITEMS:
        raise TypeError(f"a list of at most {_MAX_ITEMS} entries was expected")
    return value


def _strs(value: object) -> tuple[str, ...]:
    return tuple(redacted(_str(item)) for item in _list(value))


def _bool(value: object) -> bool:
    if not isinstance(value, bool):
        raise TypeError("true or false was expected")
    return value


def _number(value: object) -> int | float:
    """A count or a duration: finite, from 0 to 2^53 (a number of 400 digits overflowed the
    merge's sums, and NaN made its JSON invalid: found by a review)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError("a number was expected")
    if not 0 <= value <= _LARGEST:  # NaN compares false: refused too
        raise ValueError(f"a number outside 0 to {_LARGEST}")
    return value


def _load_result(raw: dict[str, Any]) -> ScanResult:
    return ScanResult(
        findings=tuple(_load_finding(_dict(f)) for f in _list(raw["findings"])),
        suppressed=tuple(
            Suppression(
                _load_finding(_dict(_dict(s)["finding"])),
                SuppressReason(s["reason"]),
                redacted(_str(s["detail"])),
            )
            for s in _list(raw["suppressed"])
        ),
        skipped=tuple(_skipped(item) for item in _list(raw["skipped"])),
        stats=ScanStats(*(_number(n) for n in _list(raw["stats"])[:4])),  # type: ignore[arg-type]
        notices=_strs(raw["notices"]),
        incomplete=_strs(raw["incomplete"]),
        empty_ok=_bool(raw["empty_ok"]),
    )


def _skipped(raw: object) -> Skipped:
    path, reason, error, blob = _list(raw)
    blob_id = None if blob is None else _str(blob)
    if blob_id is not None and not _HEX.fullmatch(blob_id):
        raise ValueError("a blob_id that is not an object id")
    return Skipped(redacted(_str(path)), redacted(_str(reason)), _bool(error), blob_id)


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


_LINE_HASH = re.compile(r"[0-9a-f]{1,16}:[0-9]{1,9}")


def _load_finding(d: dict[str, Any]) -> Finding:
    rule = _RULES.get(d["rule_id"])
    if rule is None:
        raise ValueError(f"unknown rule {d['rule_id']!r} (written by another version?)")
    d = _checked(d)
    exposure, check, line_hash = d["exposure"], d["verification"], d["line_hash"]
    if line_hash is not None and not _LINE_HASH.fullmatch(_str(line_hash)):
        raise ValueError("a line hash that is not one")  # GitHub groups alerts by it
    return Finding(
        rule,
        redacted(_str(d["path"])),
        d["line"],
        d["column"],
        "",
        d["fingerprint"],
        d["redacted"],
        commit=d["commit"],
        status=Status(d["status"]),
        blocking=_bool(d["blocking"]),
        notes=_strs(d["notes"]),
        blob_id=d["blob_id"],
        exposure=None if exposure is None else _load_exposure(_dict(exposure)),
        verification=None if check is None else _verification(check),
        line_hash=line_hash,
        repository=_str(d["repository"]),
    )


def _verification(raw: object) -> Verification:
    verdict, *rest = _list(raw)
    if len(rest) > 2:
        raise ValueError("a verification of more than three fields")
    return Verification(Verdict(verdict), *(redacted(_str(text)) for text in rest))


def _load_exposure(d: dict[str, Any]) -> Exposure:
    return Exposure(
        _strs(d["paths"]),
        _commit_ref(d["introduced"]),
        _commit_ref(d["last_seen"]),
        _bool(d["at_head"]),
        _strs(d["refs"]),
        _bool(d["reachable"]),
        _bool(d["bare"]),
    )


def _commit_ref(raw: object) -> CommitRef | None:
    if raw is None:
        return None
    oid, author, date = (_str(item) for item in _list(raw))
    if not _HEX.fullmatch(oid):
        raise ValueError("a commit that is not an object id")
    return CommitRef(oid, redacted(author), redacted(date))
