"""Many repositories' results as one ScanResult for the report formats: every finding keeps
its repository, and a key found in several repositories is one entry (the formats list a
secret once) whose note names every repository, path and exposure: revoke once, clean up
everywhere. Failed and incomplete repositories make the whole result incomplete."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from sgai_guard.engine.outcome import incompleteness
from sgai_guard.errors import ConfigError, GuardError
from sgai_guard.fleet.resultfile import Stored
from sgai_guard.fleet.store import Store
from sgai_guard.models import Exposure, Finding, ScanResult, ScanStats, Skipped, Suppression


class MixedSaltsError(ConfigError):
    """Fingerprints made with different salts cannot be compared: merging would hide keys."""


def load(folder: Path) -> tuple[list[Stored], list[str]]:
    """Every result file's content, and why some could not be read or are in doubt (two
    for one repository)."""
    if not folder.is_dir():
        raise ConfigError(f"{folder}: no such results folder")
    store, items = Store(folder), []
    paths, failed = store.latest()
    for path in paths:
        try:
            items.append(store.read(path))
        except (OSError, GuardError) as exc:
            failed.append(f"{path.name}: {exc}")
    return items, failed


def check_salts(items: Iterable[Stored]) -> None:
    salts: dict[str, list[str]] = {}
    for item in items:
        if item.result is not None:
            salts.setdefault(item.salt_id, []).append(item.name)
    if len(salts) > 1:
        groups = "; ".join(f"salt {s}: {', '.join(names[:3])}" for s, names in salts.items())
        raise MixedSaltsError(
            "the results were made with different fingerprint salts, so the same key would "
            f"not be recognised across repositories: refusing to merge ({groups}). Audit "
            "every repository with the same salt (one --config for the whole fleet)."
        )


def merged(items: Sequence[Stored], unreadable: Sequence[str] = ()) -> ScanResult:
    check_salts(items)
    pairs = [(i.name, i.result) for i in items if i.result is not None]
    findings: list[Finding] = []
    suppressed: list[Suppression] = []
    skipped: list[Skipped] = []
    notices: list[str] = []
    for name, result in pairs:
        findings += result.findings
        suppressed += result.suppressed
        skipped += [s._replace(path=f"{name}: {s.path}") for s in result.skipped]
        notices += [f"{name}: {n}" for n in result.notices]
    return ScanResult(
        findings=grouped(findings),
        suppressed=tuple(suppressed),
        skipped=tuple(skipped),
        stats=_summed([r.stats for _, r in pairs]),
        notices=tuple(notices),
        incomplete=_incomplete(items, unreadable),
        empty_ok=bool(pairs),
    )


def _summed(stats: Sequence[ScanStats]) -> ScanStats:
    return (
        ScanStats(*(sum(column) for column in zip(*stats, strict=True))) if stats else ScanStats()
    )


def _incomplete(items: Sequence[Stored], unreadable: Sequence[str]) -> tuple[str, ...]:
    """Failed repositories, unreadable files, then each repository's own reasons (its
    unreadable paths are counted once, over all)."""
    reasons = [f"{i.name} ({i.target}): failed: {i.error}" for i in items if i.result is None]
    reasons += [f"result files: {reason}" for reason in unreadable]
    for item in items:
        if item.result is not None:
            own = incompleteness(item.result._replace(skipped=()))
            reasons += [f"{item.name}: {reason}" for reason in own]
    return tuple(reasons)


def _urgency(finding: Finding) -> int:
    return finding.exposure.urgency if finding.exposure else 9


def grouped(findings: Iterable[Finding]) -> tuple[Finding, ...]:
    """Most urgent key first; each key's findings together, its most urgent one first."""
    keys: dict[tuple[str, str], list[Finding]] = {}
    for finding in findings:
        keys.setdefault((finding.rule.id, finding.fingerprint), []).append(finding)
    out: list[Finding] = []
    for group in sorted(keys.values(), key=lambda g: (min(map(_urgency, g)), g[0].fingerprint)):
        group.sort(key=lambda f: (_urgency(f), f.repository, f.path, f.line, f.column))
        note = _everywhere(group)
        out += [f._replace(notes=(*f.notes, note)) if note else f for f in group]
    return tuple(out)


def _everywhere(group: Sequence[Finding]) -> str:
    """One line naming each repository holding the key, its paths and exposure."""
    where: dict[str, tuple[list[str], Exposure | None]] = {}
    for finding in group:
        paths, _ = where.setdefault(finding.repository, ([], finding.exposure))
        if finding.path not in paths:
            paths.append(finding.path)
    if len(where) < 2:
        return ""
    parts = [f"{repo} ({', '.join(paths)}{_exposed(e)})" for repo, (paths, e) in where.items()]
    return (
        f"the same key is in {len(where)} repositories: revoke it once, then clean up each: "
        + "; ".join(parts)
    )


def _exposed(exposure: Exposure | None) -> str:
    if exposure is None:
        return ""
    pushed = "pushed" if exposure.pushed else "local only"
    head = "at HEAD" if exposure.at_head else "in history"
    since = f", since {exposure.introduced.oid[:12]}" if exposure.introduced else ""
    return f": {pushed}, {head}{since}"
