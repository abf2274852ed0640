"""One function per way of scanning: build the source, run the engine, fold in what the
source learnt (commit counts, shallow boundaries, notices). No click, no report formats."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, NamedTuple

from sgai_guard.detection.containers import Limits
from sgai_guard.engine.scan import Policy, Progress, Settings, scan
from sgai_guard.errors import GitError
from sgai_guard.models import ZERO_OIDS, ScanResult, Skipped, Status
from sgai_guard.sources.repo import Repository, here, open_repository

if TYPE_CHECKING:
    from pathlib import Path

    from _typeshed import StrPath

    from sgai_guard.ci import Plan
    from sgai_guard.policy.allowlist import Allowlist
    from sgai_guard.policy.config import Config
    from sgai_guard.sources.deepen import Remote
    from sgai_guard.sources.history import BlobHistory


class Prepared(NamedTuple):
    """Configuration, verdict settings and allowlist for one run (None: no configuration)."""

    config: Config | None
    settings: Settings
    allowlist: Allowlist | None  # None: no configuration (its notices are empty)
    policy: Policy


def prepare(
    start: StrPath,
    *,
    config_path: Path | None = None,
    baseline_path: Path | None = None,
    fail_on_removed: bool = False,
    other_markers: bool = False,
    archives: Mapping[str, int] | None = None,
    use_baseline: bool = True,
) -> Prepared:
    """Load the configuration governing ``start``; options given on the command line win
    (``archives``: Limits fields set on the command line).

    With no configuration file and no baseline, nothing of the configuration is imported:
    the commit hook runs this on every commit."""
    from sgai_guard.policy import configfile  # noqa: PLC0415

    source = config_path or configfile.find(start)
    if source is None and baseline_path is None and not other_markers:
        from sgai_guard.policy.inline import InlineOnly  # noqa: PLC0415

        limits = Limits()._replace(**(archives or {}))
        settings = Settings(blocking=removed_blocking(fail_on_removed), archives=limits)
        return Prepared(None, settings, None, InlineOnly())
    from sgai_guard.policy.allowlist import Allowlist  # noqa: PLC0415
    from sgai_guard.policy.config import Config, load  # noqa: PLC0415

    config = load(source) if source else Config()
    if other_markers:
        config = config._replace(other_markers=True)
    if use_baseline and baseline_path is None and config.baseline and config.source:
        default = config.source.parent / config.baseline
        baseline_path = default if default.exists() else None
    known = None
    if baseline_path:
        from sgai_guard.policy import baseline  # noqa: PLC0415 - json only when there is one

        known = baseline.load(baseline_path)
    blocking = removed_blocking(fail_on_removed or config.fail_on_removed)
    limits = config.archives._replace(**(archives or {}))
    settings = Settings(salt=config.salt, blocking=blocking, archives=limits)
    allowlist = Allowlist(config, known)
    return Prepared(config, settings, allowlist, allowlist)


def with_allowlist_notices(
    result: ScanResult, prepared: Prepared, *, full_scan: bool
) -> ScanResult:
    if prepared.allowlist is None:
        return result
    return _merged(result, notices=prepared.allowlist.notices(full_scan=full_scan))


def _merged(
    result: ScanResult,
    *,
    commits: int | None = None,
    notices: Sequence[str] = (),
    incomplete: Sequence[str] = (),
    empty_ok: bool = False,
) -> ScanResult:
    """Fold in what a source learnt; ``empty_ok``: it said why there was nothing to scan."""
    stats = result.stats if commits is None else result.stats._replace(commits=commits)
    return result._replace(
        stats=stats,
        notices=(*result.notices, *notices),
        incomplete=(*result.incomplete, *incomplete),
        empty_ok=result.empty_ok or empty_ok,
    )


def worktree(
    paths: Sequence[Path],
    *,
    use_gitignore: bool,
    max_size: int | None,
    settings: Settings,
    policy: Policy | None = None,
    progress: Progress | None = None,
) -> ScanResult:
    from sgai_guard.sources.worktree import worktree_blobs  # noqa: PLC0415

    blobs = worktree_blobs(paths, use_gitignore=use_gitignore, max_size=max_size)
    return scan(blobs, settings=settings, policy=policy, progress=progress)


def staged(
    path: StrPath, *, settings: Settings, policy: Policy | None = None, check_bare: bool = False
) -> ScanResult:
    """What the next commit holds. ``check_bare``: refuse a bare repository up front (one git
    process; the commit hook skips it, since git never runs it in a bare repository)."""
    from sgai_guard.sources.staged import staged_blobs, staged_entries  # noqa: PLC0415

    repo = here(path)
    if check_bare:
        open_repository(path).require_work_tree("nothing can be staged in it")
    try:
        entries = staged_entries(repo)
    except GitError:
        open_repository(path)  # says "not a git repository" when that is the reason
        raise
    if not entries:
        repo.require_work_tree("nothing can be staged in it")
    result = scan(staged_blobs(repo, entries), settings=settings, policy=policy)
    notices = () if entries else ("nothing is staged: the next commit adds no file content",)
    return _merged(result, notices=notices, empty_ok=not entries)


def index_files(
    path: StrPath,
    files: Sequence[str],
    *,
    settings: Settings,
    in_commit: bool,
    policy: Policy | None = None,
) -> ScanResult:
    """The named files as the index holds them (what pre-commit passes to a hook)."""
    from sgai_guard.sources.staged import index_blobs  # noqa: PLC0415

    repo = here(path)
    try:
        return scan(
            index_blobs(repo, list(files), with_prior=in_commit), settings=settings, policy=policy
        )
    except GitError:
        open_repository(path).require_work_tree("it has no staged files")
        raise


def push(
    path: StrPath,
    updates: Sequence[tuple[str, str, str, str]],
    *,
    settings: Settings,
    policy: Policy | None = None,
    known: tuple[str, ...] = ("--not", "--remotes"),
) -> ScanResult:
    """The commits a push sends: one range per ref update, scanned together. A new ref's
    commits are those that no ``known`` ref has (remote-tracking refs for a client; every ref
    for a server, before the push updates any)."""
    from sgai_guard.sources.commits import RangeScan  # noqa: PLC0415

    repo = open_repository(path)
    notices: list[str] = [] if updates else ["git named no ref to push: nothing to scan"]
    sources = []
    for local_ref, local_sha, remote_ref, remote_sha in updates:
        if local_sha in ZERO_OIDS:
            notices.append(f"deleting {remote_ref}: a deletion pushes no commits, nothing to scan")
            continue
        head = repo.commit(local_sha)
        base = None if remote_sha in ZERO_OIDS else repo.resolve(remote_sha)
        if remote_sha not in ZERO_OIDS and base is None:
            notices.append(
                f"{remote_ref} is at {remote_sha[:12]}, which this clone lacks: "
                "scanning every commit no remote-tracking ref has"
            )
        exclude = () if base else known
        source = RangeScan(repo, base, head, exclude, f"{local_ref} -> {remote_ref}")
        source.resolve()
        sources.append(source)
    items = itertools.chain.from_iterable(itertools.chain(s.blobs(), s.removed()) for s in sources)
    result = scan(items, settings=settings, policy=policy)
    commits = sum(len(s.commits) for s in sources)
    return _merged(
        result,
        commits=commits,
        notices=notices + [n for s in sources for n in s.notices],
        # said why nothing was sent: no ref named, only deletions, or ranges with no commits
        empty_ok=all(s.empty_ok for s in sources),
        incomplete=[r for s in sources for r in s.incomplete],
    )


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
        result,
        commits=len(source.commits),
        notices=source.notices,
        incomplete=source.incomplete,
        empty_ok=source.empty_ok,
    )


def audit(
    path: StrPath,
    *,
    settings: Settings,
    include_reflog: bool,
    include_unreachable: bool,
    policy: Policy | None = None,
    progress: Callable[[int | None], Progress] | None = None,
    max_blob_size: int | None = None,
) -> ScanResult:
    """Every reachable blob once, then exposure triage for the secrets found."""
    from sgai_guard.engine.triage import triage  # noqa: PLC0415
    from sgai_guard.sources.audit import AuditScan, count_blobs  # noqa: PLC0415
    from sgai_guard.sources.history import blob_histories  # noqa: PLC0415

    repo = open_repository(path)
    source = AuditScan(repo, include_reflog)
    if max_blob_size is not None:
        source.max_blob_size = max_blob_size
    source.check()
    report = progress(count_blobs(repo)) if progress else None
    result = scan(source.blobs(), settings=settings, policy=policy, progress=report)
    wanted = {f.blob_id for f in result.findings if f.blob_id}
    unread = {s.blob_id for s in result.skipped if s.blob_id} - wanted
    histories = blob_histories(repo, wanted, include_reflog=include_reflog, named_only=unread)
    findings, dropped = triage(
        result.findings, histories, keep_unreachable=include_unreachable, bare=repo.bare
    )
    skipped = tuple(_named(s, histories) for s in result.skipped)
    notices = list(source.notices)
    if dropped:
        notices.append(
            f"{dropped} secret(s) are in objects no ref reaches: --include-unreachable lists them"
        )
    result = result._replace(findings=tuple(findings), skipped=skipped)
    return _merged(
        result,
        commits=source.commits,
        notices=notices,
        incomplete=source.incomplete,
        empty_ok=source.empty_ok,
    )


def _named(item: Skipped, histories: Mapping[str, BlobHistory]) -> Skipped:
    """An unreadable object, named by the paths history gives it."""
    history = histories.get(item.blob_id or "")
    if history is None or not history.paths or item.blob_id is None:
        return item
    paths = ", ".join(sorted(history.paths))
    return item._replace(path=f"{paths} ({item.blob_id[:12]})")


def removed_blocking(block: bool) -> frozenset[Status]:
    return frozenset({Status.NEW, Status.REMOVED}) if block else frozenset({Status.NEW})


def ci(
    path: Path,
    plan: Plan,
    *,
    remote: tuple[str, str | None],
    settings: Settings,
    policy: Policy | None = None,
) -> ScanResult:
    """The range a CI run must scan, made resolvable in a shallow clone, then scanned.
    ``remote``: the remote's name and, when the user gave one, the URL to fetch from."""
    from sgai_guard.sources import deepen  # noqa: PLC0415

    repo = open_repository(path)
    if plan.audit:
        return audit(
            repo.path,
            settings=settings,
            include_reflog=False,
            include_unreachable=False,
            policy=policy,
        )
    where = deepen.Remote(repo, *remote)
    head = deepen.obtain(repo, where, plan.head)
    if head is None:
        return _unscanned(
            plan,
            f"the head commit {plan.head} is not in this clone and could "
            f"not be fetched from {where.label}",
        )
    if plan.base is None:
        return _ci_new_branch(repo, plan, head, where, settings, policy)
    return _ci_range(repo, plan, head, where, settings, policy)


def _ci_new_branch(
    repo: Repository,
    plan: Plan,
    head: str,
    where: Remote,
    settings: Settings,
    policy: Policy | None,
) -> ScanResult:
    """A pushed new branch: its commits that no other branch of ``remote`` has."""
    from sgai_guard.sources import deepen  # noqa: PLC0415

    branch = plan.branch or "HEAD"
    # --exclude patterns for --remotes name refs without the refs/remotes/ prefix
    exclude = (
        "--not",
        f"--exclude={where.name}/{branch}",
        f"--exclude={where.name}/HEAD",
        f"--remotes={where.name}",
    )
    if not deepen.reach_other_branches(repo, where, [head, *exclude]):
        return _unscanned(
            plan,
            f"cannot tell which commits of new branch {branch} no other "
            "branch has: the clone's history is cut short",
        )
    return commit_range(
        repo,
        None,
        head,
        settings=settings,
        policy=policy,
        exclude=exclude,
        label=f"new branch {branch}",
    )


def _ci_range(
    repo: Repository,
    plan: Plan,
    head: str,
    where: Remote,
    settings: Settings,
    policy: Policy | None,
) -> ScanResult:
    from sgai_guard.sources import deepen  # noqa: PLC0415

    wanted = plan.base or ""
    label = f"{wanted[:12]}..{plan.head[:12]}"
    base = deepen.obtain(repo, where, wanted)
    if base is None:
        return _unscanned(
            plan,
            f"the base commit {wanted} is not in this clone and could not be fetched from "
            f"{where.label}",
        )
    if base == head:
        result = scan((), settings=settings, policy=policy)
        return _merged(
            result,
            notices=[f"the range {label} is empty: base and head are the same commit"],
            empty_ok=True,
        )
    if not deepen.reach_merge_base(repo, where, base, head):
        return _unscanned(
            plan,
            f"base and head of {label} share no history in this clone, even after deepening it",
        )
    return commit_range(repo, base, head, settings=settings, policy=policy, label=label)


def _unscanned(plan: Plan, reason: str) -> ScanResult:
    """Nothing could be scanned: exit 3 with the line to add to the workflow."""
    from sgai_guard.ci import fix_command  # noqa: PLC0415

    return _merged(scan(()), incomplete=[f"{reason}: {fix_command(plan.system)}"])
