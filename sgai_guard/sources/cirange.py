"""What a CI run scans, made resolvable in a shallow clone: a pull request's or a push's
range, a new branch's own commits, or nothing, with the line to add to the workflow."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from sgai_guard.models import Blob, Skipped, Summary
from sgai_guard.sources import deepen
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


def ci_source(repo: Repository, plan: Plan, remote: tuple[str, str | None]) -> RangeScan | Fixed:
    """The range ``plan`` names (not an audit), fetched as far as needed. ``remote``: the
    remote's name and, when the user gave one, the URL to fetch from."""
    where = deepen.Remote(repo, *remote)
    head = deepen.obtain(repo, where, plan.head)
    if head is None:
        return _unscanned(
            plan,
            f"the head commit {plan.head} is not in this clone and could "
            f"not be fetched from {where.label}",
        )
    if plan.base is None:
        return _new_branch(repo, plan, head, where)
    return _range(repo, plan, head, where)


def _new_branch(repo: Repository, plan: Plan, head: str, where: deepen.Remote) -> RangeScan | Fixed:
    """A pushed new branch: its commits that no other branch of ``remote`` has."""
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
    return RangeScan(repo, None, head, exclude, f"new branch {branch}")


def _range(repo: Repository, plan: Plan, head: str, where: deepen.Remote) -> RangeScan | Fixed:
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
