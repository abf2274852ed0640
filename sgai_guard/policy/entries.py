"""The `[[allow]]` and `[[allow-regex]]` tables of the configuration, checked record by record."""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from sgai_guard.detection.fingerprint import FINGERPRINT_CHARS
from sgai_guard.errors import ConfigError

_FINGERPRINT = re.compile(rf"[0-9a-f]{{{FINGERPRINT_CHARS}}}")


class AllowEntry(NamedTuple):
    """One secret, named by its keyed fingerprint, allowed for a reason (until a date)."""

    fingerprint: str
    reason: str
    path: str | None = None  # gitignore-style pattern; None: anywhere
    expires: datetime.date | None = None


class AllowRegex(NamedTuple):
    pattern: str
    target: str  # "secret" or "line"
    reason: str


def _records(raw: Any, key: str, fail: Callable[[str, str], ConfigError]) -> list[dict[str, Any]]:
    if not isinstance(raw, list) or not all(isinstance(r, dict) for r in raw):
        raise fail(key, f"must be an array of tables ([[{key}]])")
    return raw


def entries(raw: Any, fail: Callable[[str, str], ConfigError]) -> list[AllowEntry]:
    out = []
    for n, record in enumerate(_records(raw, "allow", fail), 1):
        where = f"allow #{n}"
        _only(record, {"fingerprint", "reason", "path", "expires"}, where, fail)
        fingerprint = record.get("fingerprint")
        if not isinstance(fingerprint, str) or not _FINGERPRINT.fullmatch(fingerprint):
            raise fail(
                where,
                f"fingerprint must be {FINGERPRINT_CHARS} lower-case hex digits, "
                "as printed next to a finding",
            )
        reason = record.get("reason")
        if not isinstance(reason, str) or not reason.strip():
            raise fail(where, "reason is required: say why this value is not a live key")
        glob = record.get("path")
        if glob is not None and not isinstance(glob, str):
            raise fail(where, "path must be a string (a gitignore-style pattern)")
        out.append(
            AllowEntry(fingerprint, reason.strip(), glob, _date(record.get("expires"), where, fail))
        )
    return out


def _date(value: Any, where: str, fail: Callable[[str, str], ConfigError]) -> datetime.date | None:
    if value is None or (
        isinstance(value, datetime.date) and not isinstance(value, datetime.datetime)
    ):
        return value
    if isinstance(value, str):
        try:
            return datetime.date.fromisoformat(value)
        except ValueError:
            pass
    raise fail(where, f"expires must be a date such as 2027-01-31, not {value!r}")


def regexes(raw: Any, fail: Callable[[str, str], ConfigError]) -> list[AllowRegex]:
    import regex  # noqa: PLC0415 - user patterns only: the timeout needs the regex module

    out = []
    for n, record in enumerate(_records(raw, "allow-regex", fail), 1):
        where = f"allow-regex #{n}"
        _only(record, {"pattern", "target", "reason"}, where, fail)
        pattern, target = record.get("pattern"), record.get("target", "line")
        reason = record.get("reason")
        if not isinstance(pattern, str):
            raise fail(where, "pattern must be a string")
        try:
            regex.compile(pattern)
        except regex.error as exc:
            raise fail(where, f"pattern {pattern!r} does not compile: {exc}") from exc
        if target not in ("secret", "line"):
            raise fail(where, f'target must be "secret" or "line", not {target!r}')
        if not isinstance(reason, str) or not reason.strip():
            raise fail(where, "reason is required")
        out.append(AllowRegex(pattern, target, reason.strip()))
    return out


def _only(
    record: Mapping[str, Any],
    allowed: set[str],
    where: str,
    fail: Callable[[str, str], ConfigError],
) -> None:
    unknown = sorted(set(record) - allowed)
    if unknown:
        raise fail(where, f"unknown key {unknown[0]!r} (known: {', '.join(sorted(allowed))})")
