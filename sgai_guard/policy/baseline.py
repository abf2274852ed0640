"""Baseline files: known secrets by fingerprint, with the paths where each was seen.

Sorted, no line numbers, no timestamps, forward-slash paths: the same bytes on every run and
every operating system, so a baseline never churns on unrelated edits.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path

from sgai_guard import fsread
from sgai_guard.display import redacted
from sgai_guard.errors import ConfigError
from sgai_guard.models import Finding

FORMAT_KEY = "sgai-guard-baseline"
FORMAT_VERSION = 1

Entries = dict[str, dict[str, object]]  # fingerprint -> {"rule": str, "paths": [str]}


def load(path: Path) -> Entries:
    try:
        data = json.loads(fsread.read_text(path, 256 << 20))
    except fsread.NotRegularError as exc:
        raise ConfigError(f"{path}: the baseline is {exc.kind}, not a file") from exc
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the baseline: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: the baseline is not UTF-8 text") from exc
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}: the baseline is not valid JSON: {exc}") from exc
    if not isinstance(data, dict) or data.get(FORMAT_KEY) != FORMAT_VERSION:
        raise ConfigError(f"{path}: not an sgai-guard baseline (missing {FORMAT_KEY!r}: 1)")
    secrets = data.get("secrets")
    if not isinstance(secrets, dict):
        raise ConfigError(f"{path}: the baseline has no 'secrets' object")
    return {fp: _entry(value) for fp, value in secrets.items()}


def _entry(value: object) -> dict[str, object]:
    entry = value if isinstance(value, dict) else {}
    paths = entry.get("paths", [])
    return {
        "rule": str(entry.get("rule", "")),
        "paths": sorted({str(p).replace("\\", "/") for p in paths if isinstance(paths, list)}),
    }


def entries_from(findings: Iterable[Finding]) -> Entries:
    """The entries for ``findings``; a path holding a key is written redacted (a baseline is
    meant to be committed; it is matched by fingerprint alone, the paths only inform)."""
    out: Entries = {}
    for finding in findings:
        entry = out.setdefault(finding.fingerprint, {"rule": finding.rule.id, "paths": []})
        paths = entry["paths"]
        assert isinstance(paths, list)  # noqa: S101 - built just above
        path = _shown(redacted(finding.path.replace("\\", "/")))
        if path not in paths:
            paths.append(path)
    return out


def _shown(path: str) -> str:
    """A path as text: the bytes of a name that is no UTF-8 as ``\\xff`` escapes (such a name
    crashed the writing, and left a baseline that was there empty: a review)."""
    return path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def prune(previous: Mapping[str, dict[str, object]], current: Entries) -> Entries:
    """--update: keep baselined secrets still present (with today's paths), drop the rest.
    Never adds a secret: a new one must be looked at, not swallowed."""
    return {fp: current[fp] for fp in previous if fp in current}


def render(entries: Mapping[str, dict[str, object]]) -> str:
    secrets = {
        fp: {"rule": e["rule"], "paths": sorted(e["paths"])}  # type: ignore[call-overload]
        for fp, e in entries.items()
    }
    return (
        json.dumps(
            {FORMAT_KEY: FORMAT_VERSION, "secrets": secrets},
            indent=2,
            sort_keys=True,
            ensure_ascii=False,
        )
        + "\n"
    )
