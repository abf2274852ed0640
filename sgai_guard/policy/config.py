"""Configuration: `.sgai-guard.toml`, or `[tool.sgai-guard]` in pyproject.toml, validated on load.

Every problem is one ConfigError naming the file, the key and what is wrong (exit 2).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, NamedTuple

from sgai_guard import fsread
from sgai_guard.detection.containers import Limits
from sgai_guard.detection.fingerprint import DEFAULT_SALT
from sgai_guard.errors import ConfigError
from sgai_guard.policy.configfile import find
from sgai_guard.policy.entries import AllowEntry, AllowRegex, entries, regexes
from sgai_guard.policy.sizes import EXAMPLE, parse_size


class Config(NamedTuple):
    source: Path | None = None
    table: str = ""  # where the settings live, for messages: "" or "[tool.sgai-guard]"
    salt: str = DEFAULT_SALT
    exclude_paths: tuple[str, ...] = ()
    allow_regex: tuple[AllowRegex, ...] = ()
    allow: tuple[AllowEntry, ...] = ()
    other_markers: bool = False
    inline_markers: bool = True  # False: no marker in the content allows anything
    baseline: str | None = None
    max_file_size: int | None = None  # bytes
    regex_timeout: float = 0.25
    fail_on_removed: bool = False
    archives: Limits = Limits()
    fail_on: tuple[str, ...] | None = None  # with --verify: the verdicts that block


def discover(start: Path) -> Config:
    """The configuration governing ``start`` (see configfile.find), or the defaults."""
    path = find(start)
    return load(Path(path)) if path else Config()


def load(where: str | Path, *, named: bool = False) -> Config:
    """``named``: the user named the file (--config), so a pyproject.toml without the table
    is a mistake, not the defaults (found by a newcomer review: it was taken silently)."""
    path = Path(where)
    data = _read(path)
    if path.name == "pyproject.toml":
        tool = data.get("tool", {})
        table = tool.get("sgai-guard") if isinstance(tool, dict) else None
        if table is None and named:
            raise ConfigError(f"{path}: no [tool.sgai-guard] table: nothing to configure with")
        table = {} if table is None else table
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: [tool.sgai-guard] is not a table")
        return _parse(table, path, "[tool.sgai-guard] ")
    return _parse(data, path, "")


def _read(path: Path) -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib  # noqa: PLC0415
    else:  # pragma: no cover - exercised on Python 3.10 only
        import tomli as tomllib  # noqa: PLC0415
    try:
        return tomllib.loads(fsread.read_text(path, 1 << 20))
    except fsread.NotRegularError as exc:
        raise ConfigError(f"{path}: is {exc.kind}, not a file: refusing to read it") from exc
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc


# The most a configuration file may set: it is the scanned repository's, and a hostile one
# must not buy itself a scan that never ends or a runner out of memory (found by an attacker
# review: archive-max-bytes = "100g" with a ratio of 10^8 took 1.6 GiB for a 400 KB gzip,
# and regex-timeout = 1e6 let one allow-regex run for ever). The archive options may go further.
MAX_REGEX_TIMEOUT = 10.0
MAX_ARCHIVES = Limits(depth=10, total_bytes=512 << 20, ratio=10_000, members=1_000_000)

_Check = Callable[[Any], str | None]  # returns what is wrong, or None


def _kind(expected: type, name: str) -> _Check:
    def check(value: Any) -> str | None:
        # bool is an int in Python: keep true/false out of numbers and numbers out of flags
        ok = isinstance(value, expected) and (expected is bool) == isinstance(value, bool)
        return None if ok else f"must be {name}, not {type(value).__name__}"

    return check


def _strings(v: Any) -> str | None:
    if not isinstance(v, list) or not all(isinstance(i, str) for i in v):
        return "must be a list of strings"
    return None


VERDICTS = frozenset({"live", "unknown", "dead"})

SCALARS: dict[str, _Check] = {
    "salt": _kind(str, "a string"),
    "exclude-paths": _strings,
    "other-markers": _kind(bool, "true or false"),
    "inline-markers": _kind(bool, "true or false"),
    "baseline": _kind(str, "a path string"),
    "max-file-size": lambda v: None if parse_size(v) is not None else f"must be {EXAMPLE}",
    "regex-timeout": lambda v: (
        None
        if isinstance(v, (int, float)) and not isinstance(v, bool) and 0 < v <= MAX_REGEX_TIMEOUT
        else f"must be a number of seconds above 0, at most {MAX_REGEX_TIMEOUT}"
    ),
    "fail-on-removed": _kind(bool, "true or false"),
    "archive-depth": lambda v: _count(v, minimum=0, maximum=MAX_ARCHIVES.depth),
    "archive-max-bytes": lambda v: (
        None
        if 0 < (parse_size(v) or 0) <= MAX_ARCHIVES.total_bytes
        else f"must be {EXAMPLE}, above 0, at most {MAX_ARCHIVES.total_bytes >> 20} MiB"
    ),
    "archive-max-ratio": lambda v: _count(v, minimum=1, maximum=MAX_ARCHIVES.ratio),
    "archive-max-members": lambda v: _count(v, minimum=1, maximum=MAX_ARCHIVES.members),
    "fail-on": lambda v: (
        None
        if isinstance(v, list) and {"live", "unknown"} <= set(v) <= VERDICTS
        else 'must list "live" and "unknown" (and may add "dead")'
    ),
}
ARCHIVE_KEYS = {
    "archive-depth": "depth",
    "archive-max-bytes": "total_bytes",
    "archive-max-ratio": "ratio",
    "archive-max-members": "members",
}


def _archive_limits(table: Mapping[str, Any]) -> Limits:
    """The archive limits a (validated) table sets; archive-max-bytes may be a size string."""
    given = {field: parse_size(table[key]) for key, field in ARCHIVE_KEYS.items() if key in table}
    return Limits()._replace(**{k: v for k, v in given.items() if v is not None})


def _count(value: Any, *, minimum: int, maximum: int) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool) and minimum <= value <= maximum:
        return None
    return f"must be a whole number, at least {minimum} and at most {maximum}"


TABLES = ("allow", "allow-regex")


def _parse(table: Mapping[str, Any], path: Path, prefix: str) -> Config:
    def fail(key: str, problem: str) -> ConfigError:
        return ConfigError(f"{path}: {prefix}{key}: {problem}")

    for key, value in table.items():
        if key not in SCALARS and key not in TABLES:
            known = ", ".join(sorted([*SCALARS, *TABLES]))
            raise fail(key, f"unknown key (known keys: {known})")
        problem = SCALARS[key](value) if key in SCALARS else None
        if problem:
            raise fail(key, problem)
    timeout = float(table.get("regex-timeout", 0.25))
    return Config(
        source=path,
        table=prefix.strip(),
        salt=table.get("salt", DEFAULT_SALT),
        exclude_paths=tuple(table.get("exclude-paths", ())),
        allow_regex=tuple(regexes(table.get("allow-regex", []), fail)),
        allow=tuple(entries(table.get("allow", []), fail)),
        other_markers=table.get("other-markers", False),
        inline_markers=table.get("inline-markers", True),
        baseline=table.get("baseline"),
        max_file_size=parse_size(table["max-file-size"]) if "max-file-size" in table else None,
        regex_timeout=timeout,
        fail_on_removed=table.get("fail-on-removed", False),
        archives=_archive_limits(table),
        fail_on=tuple(table["fail-on"]) if "fail-on" in table else None,
    )
