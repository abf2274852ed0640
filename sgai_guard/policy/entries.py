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
        if len(pattern) > _LONGEST_PATTERN or _size(pattern) > _LARGEST_PATTERN:
            raise fail(where, "pattern is too large (nested counted repeats multiply): simplify it")
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


# A pattern's size, counted repeats unrolled: compiling `(?:(?:(?:a{100}){100}){100}){100}`
# took gigabytes before any scan began (found by a review); 100,000 costs about 40 MB.
_LARGEST_PATTERN = 100_000
_LONGEST_PATTERN = 4096
_COUNTED = re.compile(r"\{(\d*)(?:,(\d*))?\}")


def _size(pattern: str) -> int:
    """About how many nodes compiling ``pattern`` makes: each item once, times its counted
    repeat ({n}, {m,n}: the larger; *, + and ? loop, they do not copy), groups summed."""
    sums, last, at = [0], 1, 0
    while at < len(pattern):
        char, counted = pattern[at], _COUNTED.match(pattern, at)
        if counted is not None and (counted.group(1) or counted.group(2)):
            bound = max(int(counted.group(1) or 0), int(counted.group(2) or 0), 1)
            sums[-1] += last * (bound - 1)
            last, at = last * bound, counted.end()
            continue
        if char == "(":
            sums.append(0)
        elif char == ")" and len(sums) > 1:
            last = max(sums.pop(), 1)
            sums[-1] += last
        else:
            at = _class_end(pattern, at) if char == "[" else at + (char == "\\")
            last = 1
            sums[-1] += 1
        at += 1
    return sum(sums)


def _class_end(pattern: str, at: int) -> int:
    """Where the character class opened at ``at`` closes (its last character)."""
    at += 1 + (pattern[at + 1 : at + 2] == "^")
    at += pattern[at : at + 1] == "]"  # a first "]" is a member
    while at < len(pattern) and pattern[at] != "]":
        at += 2 if pattern[at] == "\\" else 1
    return at


def _only(
    record: Mapping[str, Any],
    allowed: set[str],
    where: str,
    fail: Callable[[str, str], ConfigError],
) -> None:
    unknown = sorted(set(record) - allowed)
    if unknown:
        raise fail(where, f"unknown key {unknown[0]!r} (known: {', '.join(sorted(allowed))})")
