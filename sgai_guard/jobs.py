"""One function per way of scanning: build the source, run the engine, fold in what the
source learnt (commit counts, shallow boundaries, notices). No click, no report formats."""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable, Sequence
from pathlib import Path

from sgai_guard.models import ScanResult, Status
from sgai_guard.scan import Policy, Progress, Settings, scan
from sgai_guard.sources.repo import Repository, open_repository


def _merged(
    result: ScanResult,
    *,
    commits: int | None = None,
    notices: Sequence[str] = (),
    incomplete: Sequence[str] = (),
) -> ScanResult:
    stats = result.stats if commits is None else dataclasses.replace(result.stats, commits=commits)
    return dataclasses.replace(
        result,
        stats=stats,
        notices=(*result.notices, *notices),
        incomplete=(*result.incomplete, *incomplete),
    )


def worktree(
    paths: Sequence[Path],
    *,
    use_gitignore: bool,
    max_size: int,
    settings: Settings,
    policy: Policy | None = None,
) -> ScanResult:
    from sgai_guard.sources.worktree import worktree_blobs  # noqa: PLC0415

    blobs = worktree_blobs(paths, use_gitignore=use_gitignore, max_size=max_size)
    return scan(blobs, settings=settings, policy=policy)


def staged(path: Path, *, settings: Settings, policy: Policy | None = None) -> ScanResult:
    from sgai_guard.sources.staged import staged_blobs, staged_entries  # noqa: PLC0415

    repo = open_repository(path)
    entries = staged_entries(repo)
    result = scan(staged_blobs(repo, entries), settings=settings, policy=policy)
    notices = () if entries else ("nothing is staged: the next commit adds no file content",)
    return _merged(result, notices=notices)


def commit_range(
    repo: Repository,
    base: str | None,
    head: str,
    *,
    settings: Settings,
    policy: Policy | None = None,
    exclude: Sequence[str] = (),
    label: str = "",
) -> ScanResult:
    """Blobs added by base..head, plus keys the range removes (status REMOVED)."""
    from sgai_guard.sources.commits import RangeScan  # noqa: PLC0415

    source = RangeScan(repo, base, head, tuple(exclude), label or f"{base or ''}..{head}")
    source.resolve()

    items = itertools.chain(source.blobs(), source.removed())
    result = scan(items, settings=settings, policy=policy)
    return _merged(
        result, commits=len(source.commits), notices=source.notices, incomplete=source.incomplete
    )


def audit(
    path: Path,
    *,
    settings: Settings,
    include_reflog: bool,
    include_unreachable: bool,
    policy: Policy | None = None,
    progress: Callable[[int | None], Progress] | None = None,
) -> ScanResult:
    """Every reachable blob once, then exposure triage for the secrets found."""
    from sgai_guard.sources.audit import AuditScan, count_blobs  # noqa: PLC0415
    from sgai_guard.sources.history import blob_histories  # noqa: PLC0415
    from sgai_guard.triage import triage  # noqa: PLC0415

    repo = open_repository(path)
    source = AuditScan(repo, include_reflog, include_unreachable)
    source.check()
    report = progress(count_blobs(repo)) if progress else None
    result = scan(source.blobs(), settings=settings, policy=policy, progress=report)
    histories = blob_histories(
        repo, {f.blob_id for f in result.findings if f.blob_id}, include_reflog=include_reflog
    )
    findings, dropped = triage(result.findings, histories, keep_unreachable=include_unreachable)
    notices = list(source.notices)
    if dropped:
        notices.append(
            f"{dropped} secret(s) are in objects no ref reaches: --include-unreachable lists them"
        )
    result = dataclasses.replace(result, findings=tuple(findings))
    return _merged(result, commits=source.commits, notices=notices, incomplete=source.incomplete)


def removed_blocking(block: bool) -> frozenset[Status]:
    return frozenset({Status.NEW, Status.REMOVED}) if block else frozenset({Status.NEW})
