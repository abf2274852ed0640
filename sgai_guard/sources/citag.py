"""A tag pushed in CI: an annotated tag's message is published with it, and so is the message
of every tag it points at. `ci` scanned only the commits a tag brings, none at all for a tag of
a commit the default branch has, and passed a key pasted into the message."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from sgai_guard.models import Blob, Skipped, Summary, is_object_id
from sgai_guard.sources import deepen, gitcmd
from sgai_guard.sources.messages import messages, object_kind, peel, tag_chain
from sgai_guard.sources.repo import Repository

if TYPE_CHECKING:
    from sgai_guard.ci import Plan


def pushed_tags(
    repo: Repository, plan: Plan, where: deepen.Remote, head: str
) -> tuple[list[str], str]:
    """The annotated tags the pushed tag publishes, outermost first (none for a lightweight
    tag), and why they could not all be read ("" when they could). The tag must lead to
    ``head``, the commit this run scans: a tag of a blob, or of another commit, publishes
    what this run does not read (found by an attacker review; a lightweight one of a blob
    holding a key passed a GitLab tag pipeline, exit 0)."""
    oid, problem = _pushed_tag(repo, plan, where)
    if oid is None:
        return [], problem
    chain, problem = _chain(repo, plan, oid)
    if problem:
        return chain, problem
    target = peel(repo, oid)
    return chain, "" if target == head else _elsewhere(plan, target, head)


def _pushed_tag(repo: Repository, plan: Plan, where: deepen.Remote) -> tuple[str | None, str]:
    """The pushed tag's own object, or why it could not be found. GitHub names the tag object
    itself; GitLab names the commit, and the tag is looked up by name, fetched if need be."""
    name = plan.tag or ""
    ref = f"refs/tags/{name}"
    valid = gitcmd.run(["check-ref-format", ref], repo.path).returncode == 0
    if name.startswith("-") or not valid:
        return None, f"the pushed tag {name!r} is not a valid tag name: its message was not read"
    named = is_object_id(plan.head) and object_kind(repo, plan.head) == "tag"
    oid = plan.head if named else _named(repo, ref)
    if oid is None and deepen.fetch(repo, where, deepen.one_deep(repo), f"+{ref}:{ref}"):
        oid = _named(repo, ref)
    if oid is None:
        return None, (
            f"the pushed tag {name} is not in this clone and could not be fetched from "
            f"{where.label}: its message was not read"
        )
    return oid, ""


def _chain(repo: Repository, plan: Plan, oid: str) -> tuple[list[str], str]:
    chain, problem = tag_chain(repo, oid)
    return chain, f"the pushed tag {plan.tag}: {problem}" if problem else ""


def _elsewhere(plan: Plan, target: str | None, head: str) -> str:
    return (
        f"the pushed tag {plan.tag} points at {str(target)[:12]}, not at the commit this run "
        f"scans ({head[:12]}): what it points at was not scanned"
    )


def present(repo: Repository, oid: str) -> bool:
    """Whether the clone has ``oid`` (after the fetch that looked for it as a commit)."""
    return is_object_id(oid) and object_kind(repo, oid) is not None


def _named(repo: Repository, ref: str) -> str | None:
    """The object ``ref`` names, not peeled (a tag's own id)."""
    proc = gitcmd.run(["rev-parse", "--verify", "--quiet", "--end-of-options", ref], repo.path)
    oid = proc.stdout.decode("ascii", "replace").strip()
    return oid if proc.returncode == 0 and is_object_id(oid) else None


class TagOnly:
    """A pushed tag that leads to no commit (a tag of a blob or a tree): its messages are
    scanned, and what it leads to is said not to be. It was reported as a head commit the
    clone lacked, with advice to fetch more history (found by a newcomer review)."""

    def __init__(self, repo: Repository, plan: Plan, where: deepen.Remote) -> None:
        self.repo, self.plan, self.where = repo, plan, where
        self.problem = ""

    def items(self) -> Iterator[Blob | Skipped]:
        name, head = self.plan.tag or "", self.plan.head
        named = object_kind(self.repo, head) if is_object_id(head) else None
        tags: list[str] = []
        if named in ("blob", "tree"):  # the platform names the object itself
            problem = _leads(name, named)
        else:
            oid, problem = _pushed_tag(self.repo, self.plan, self.where)
            if oid is not None:
                tags, problem = _chain(self.repo, self.plan, oid)
                target = None if problem else peel(self.repo, oid)
                kind = object_kind(self.repo, target) if target and tags else None
                if target is not None and not problem:
                    problem = (
                        _leads(name, kind)
                        if kind and kind != "commit"
                        else _elsewhere(self.plan, target, "")
                    )
        self.problem = problem or f"the pushed tag {name} leads to no commit this clone has"
        yield from messages(self.repo, tags, kind="tag")

    def summary(self) -> Summary:
        return Summary(commits=0, incomplete=(self.problem,))


def _leads(name: str, kind: str) -> str:
    return (
        f"the pushed tag {name} leads to a {kind}, not a commit: what it points at was not scanned"
    )
