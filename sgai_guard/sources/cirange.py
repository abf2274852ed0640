"""What a CI run scans, made resolvable in a shallow clone: a pull request's or a push's
range, a new branch's own commits, or nothing, with the line to add to the workflow."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from sgai_guard.models import Blob, Skipped, Summary
from sgai_guard.sources import citag, deepen
from sgai_guard.sources.commits import RangeScan
from sgai_guard.sources.repo import Repository

if TYPE_CHECKING:
    from sgai_guard.ci import Plan


class Fixed:
    """A source with nothing to read and something to say (an empty or unresolvable range)."""

    def __init__(self, summary: Summary) -> None:
        self._summary = summary

    def items(self) -> Iterator[Blob | Skipped]:
        yield from ()

    def summary(self) -> Summary:
        return self._summary


def ci_source(
    repo: Repository, plan: Plan, remote: tuple[str, str | None]
) -> RangeScan | Fixed | citag.TagOnly:
    """The range ``plan`` names (not an audit), fetched as far as needed. ``remote``: the
    remote's name and, when the user gave one, the URL to fetch from."""
    if plan.deleted:
        notice = f"the push deleted {plan.branch}: a deletion publishes nothing, nothing to scan"
        return Fixed(Summary(notices=(notice,), empty_ok=True))
    where = deepen.Remote(repo, *remote)
    head = deepen.obtain(repo, where, plan.head)
    if head is None and plan.tag is not None and citag.present(repo, plan.head):
        return citag.TagOnly(repo, plan, where)
    if head is None:
        return _unscanned(
            plan,
            f"the head commit {plan.head} is not in this clone and could "
            f"not be fetched from {where.label}",
        )
    source = (
        _new_branch(repo, plan, head, where)
        if plan.base is None
        else _range(repo, plan, head, where)
    )
    if plan.tag is not None and isinstance(source, RangeScan):
        source.tags, problem = citag.pushed_tags(repo, plan, where, head)
        source.incomplete += [problem] if problem else []
    if isinstance(source, RangeScan):
        _judged_by_default(repo, plan, where, source)
    return source


def _judged_by_default(
    repo: Repository, plan: Plan, where: deepen.Remote, source: RangeScan
) -> None:
    """A push to a branch other than the default one (or of a tag) is judged by the default
    branch's configuration (cli.baseconfig): said when it cannot be read."""
    default = plan.default_branch
    if plan.event not in ("push", "branch") or not default:
        return
    if plan.tag is None and plan.branch == default:
        return
    tip = deepen.default_tip(repo, where, default)
    if tip is None:
        source.notices.append(
            f"the default branch {default} is not in this clone (fetch it, or clone with "
            "fetch-depth: 0): this push is judged by its own configuration"
        )
        return
    source.policy = (tip, default)


def _new_branch(repo: Repository, plan: Plan, head: str, where: deepen.Remote) -> RangeScan | Fixed:
    """A pushed new branch: its commits that the default branch lacks, when the platform
    names it; else those no other branch of ``remote`` has."""
    branch = plan.branch or "HEAD"
    fetched = deepen.fetch_branches(repo, where)
    exclude = _known(plan, where)
    if exclude[1:] and exclude[-1].startswith("refs/") and repo.resolve(exclude[-1]) is None:
        exclude = _others(branch, where)  # the remote has no such branch: as before
    if not deepen.reach_other_branches(repo, where, [head, *exclude], fetched=fetched):
        return _unscanned(
            plan,
            f"cannot tell which commits of new branch {branch} no other "
            "branch has: the clone's history is cut short",
        )
    label = f"new tag {plan.tag}" if plan.tag is not None else f"new branch {branch}"
    return RangeScan(repo, None, head, exclude, label)


def _known(plan: Plan, where: deepen.Remote) -> tuple[str, ...]:
    """What a new branch's commits are judged against. Other branches may be new too: one
    push creating two branches, one holding the other, had each run leave out the commits
    the other holds, and neither scanned them (from session 10's left-alone list). So the
    default branch alone vouches, as it existed before the push; pushed new itself (a
    history's first push), all of its history is new."""
    default, branch = plan.default_branch, plan.branch or "HEAD"
    if not default:
        return _others(branch, where)
    if default == branch:
        return ()
    return ("--not", f"refs/remotes/{where.name}/{default}")


def _others(branch: str, where: deepen.Remote) -> tuple[str, ...]:
    """Every other branch of the remote (--exclude patterns name refs without the
    refs/remotes/ prefix)."""
    return (
        "--not",
        f"--exclude={where.name}/{branch}",
        f"--exclude={where.name}/HEAD",
        f"--remotes={where.name}",
    )


def _range(repo: Repository, plan: Plan, head: str, where: deepen.Remote) -> RangeScan | Fixed:
    wanted = plan.base or ""
    label = f"{wanted[:12]}..{plan.head[:12]}"
    base = deepen.obtain(repo, where, wanted)
    if base is None and not deepen.is_shallow(repo):  # a whole clone: no depth would help
        reason = (  # a newcomer review: a misspelt --base was told to fetch --unshallow
            f"the base {wanted} names no commit in this clone and could not be fetched "
            f"from {where.label}: check the name, or fetch that commit before sgai-guard"
        )
        return Fixed(Summary(incomplete=(reason,)))
    if base is None:
        return _unscanned(
            plan,
            f"the base commit {wanted} is not in this clone and could not be fetched from "
            f"{where.label}",
        )
    if base == head and plan.tag is None:  # a moved tag still publishes its new message
        notice = f"the range {label} is empty: base and head are the same commit"
        return Fixed(Summary(notices=(notice,), empty_ok=True))
    if not deepen.reach_merge_base(repo, where, base, head):
        return _unscanned(
            plan,
            f"base and head of {label} share no history in this clone, even after deepening it",
        )
    return RangeScan(repo, base, head, (), label)


def _unscanned(plan: Plan, reason: str) -> Fixed:
    """Nothing could be scanned: exit 3 with the line to add to the workflow."""
    from sgai_guard.ci import fix_command  # noqa: PLC0415

    return Fixed(Summary(incomplete=(f"{reason}: {fix_command(plan.system)}",)))
