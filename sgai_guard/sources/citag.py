"""A tag pushed in CI: an annotated tag's message is published with it, and so is the message
of every tag it points at. `ci` scanned only the commits a tag brings, none at all for a tag of
a commit the default branch has, and passed a key pasted into the message."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sgai_guard.models import is_object_id
from sgai_guard.sources import deepen, gitcmd
from sgai_guard.sources.messages import tag_chain
from sgai_guard.sources.repo import Repository

if TYPE_CHECKING:
    from sgai_guard.ci import Plan


def pushed_tags(repo: Repository, plan: Plan, where: deepen.Remote) -> tuple[list[str], str]:
    """The annotated tags the pushed tag publishes, outermost first (none for a lightweight
    tag), and why they could not be read ("" when they could). GitHub names the tag object
    itself; GitLab names the commit, and the tag is looked up by name, fetched if need be."""
    name = plan.tag or ""
    ref = f"refs/tags/{name}"
    valid = gitcmd.run(["check-ref-format", ref], repo.path).returncode == 0
    if name.startswith("-") or not valid:
        return [], f"the pushed tag {name!r} is not a valid tag name: its message was not read"
    chain = tag_chain(repo, plan.head) if is_object_id(plan.head) else []
    if chain:
        return chain, ""
    oid = _named(repo, ref)
    if oid is None and deepen.fetch(repo, where, "--depth=1", f"+{ref}:{ref}"):
        oid = _named(repo, ref)
    if oid is None:
        return [], (
            f"the pushed tag {name} is not in this clone and could not be fetched from "
            f"{where.label}: its message was not read"
        )
    return tag_chain(repo, oid), ""


def _named(repo: Repository, ref: str) -> str | None:
    """The object ``ref`` names, not peeled (a tag's own id)."""
    proc = gitcmd.run(["rev-parse", "--verify", "--quiet", "--end-of-options", ref], repo.path)
    oid = proc.stdout.decode("ascii", "replace").strip()
    return oid if proc.returncode == 0 and is_object_id(oid) else None
