"""Exposure triage for audits: one entry per secret, with where it lives and who can see it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Protocol

from sgai_guard.detection.expand import stem
from sgai_guard.models import CommitRef, Exposure, Finding


class History(Protocol):
    """What the git layer knows of one blob (see sources.history.BlobHistory)."""

    @property
    def paths(self) -> set[str]: ...
    @property
    def added(self) -> dict[str, CommitRef]: ...
    @property
    def removed_parents(self) -> dict[str, CommitRef]: ...
    @property
    def refs(self) -> set[str]: ...
    @property
    def at_head(self) -> bool: ...
    @property
    def tips(self) -> dict[str, CommitRef]: ...


NO_COMMIT = (
    "a ref reaches it through no commit (it names a tree or a blob, or a tag of one): "
    "which ref is not told"
)


def triage(
    findings: Sequence[Finding],
    histories: Mapping[str, History],
    *,
    keep_unreachable: bool,
    bare: bool = False,
    walked: frozenset[str] = frozenset(),
) -> tuple[list[Finding], int]:
    """Findings with exposure, one per secret and path, most urgent first; and how many
    secrets were left out because no ref reaches them. ``walked``: blobs the walk of every
    ref reached though no commit added them (a ref naming a tree or a blob, or a tag of
    one): never left out."""
    by_secret: dict[str, list[Finding]] = {}
    for finding in findings:
        by_secret.setdefault(finding.fingerprint, []).append(finding)
    out: list[Finding] = []
    dropped = 0
    for group in by_secret.values():
        placed = _placed(
            group, histories, keep_unreachable=keep_unreachable, bare=bare, walked=walked
        )
        dropped += not placed
        out += placed
    out.sort(key=lambda f: (f.exposure.urgency if f.exposure else 9, f.fingerprint, f.path))
    return out, dropped


def _placed(
    group: Sequence[Finding],
    histories: Mapping[str, History],
    *,
    keep_unreachable: bool,
    bare: bool,
    walked: frozenset[str],
) -> list[Finding]:
    """One secret's findings with its exposure; none when no ref reaches it (unless kept)."""
    blobs = [h for f in group if (h := histories.get(f.blob_id or "")) is not None]
    exposure = _exposure(blobs, group)._replace(bare=bare)
    other = [f._replace(notes=(*f.notes, NO_COMMIT)) for f in group if f.blob_id in walked]
    if not exposure.reachable and other:
        return _one_per_path(other, histories, exposure._replace(reachable=True))
    if not exposure.reachable and not keep_unreachable:
        return []
    # only the blobs a ref reaches; dangling copies stay out unless asked for
    shown = group if keep_unreachable else [f for f in group if _reached(histories, f)]
    return _one_per_path(shown, histories, exposure)


def _reached(histories: Mapping[str, History], finding: Finding) -> bool:
    history = histories.get(finding.blob_id or "")
    return history is not None and bool(history.added)


def _exposure(blobs: Sequence[History], group: Sequence[Finding]) -> Exposure:
    added = [c for b in blobs for c in b.added.values()]
    later = [c for b in blobs for c in (*b.removed_parents.values(), *b.tips.values())]
    return Exposure(
        paths=_paths(blobs, group),
        introduced=_earliest(added),
        last_seen=_latest(later) or _latest(added),
        at_head=any(b.at_head for b in blobs),
        refs=_refs(blobs),
        reachable=bool(added),
    )


def _paths(blobs: Sequence[History], group: Sequence[Finding]) -> tuple[str, ...]:
    return tuple(sorted({p for b in blobs for p in b.paths} or {f.path for f in group}))


def _refs(blobs: Sequence[History]) -> tuple[str, ...]:
    return tuple(sorted({r for b in blobs for r in b.refs}))


def _earliest(commits: Iterable[CommitRef]) -> CommitRef | None:
    return min(commits, key=lambda c: c.date, default=None)


def _latest(commits: Iterable[CommitRef]) -> CommitRef | None:
    return max(commits, key=lambda c: c.date, default=None)


def _one_per_path(
    group: Sequence[Finding], histories: Mapping[str, History], exposure: Exposure
) -> list[Finding]:
    """One finding per path where the secret occurs; blobs read by id get their real paths."""
    seen: dict[str, Finding] = {}
    commit = exposure.introduced.oid if exposure.introduced else None
    for finding in group:
        history = histories.get(finding.blob_id or "")
        for path in sorted(history.paths) if history and history.paths else [finding.path]:
            where = path + _member(finding.path, path) if history and history.paths else path
            if where not in seen:
                seen[where] = finding._replace(path=where, exposure=exposure, commit=commit)
    return list(seen.values())


def _member(found: str, path: str) -> str:
    """The `!member` chain of a finding inside an archive read by blob id, "(blob …)!a/b",
    for the blob's real ``path``. A compressed stream's content is named after its file
    (`app.txt.gz!app.txt`), which only the real path tells."""
    head, bang, rest = found.partition(")!")
    if not bang or not head.startswith("(blob "):
        return ""
    label = head + ")"
    if rest.startswith(label):
        rest = stem(path) + rest[len(label) :]
    return f"!{rest}"
