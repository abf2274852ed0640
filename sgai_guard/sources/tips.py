"""Whether each ref's tip still holds a blob at one of its paths, read by object id
(sources.objectread), every commit read once however many refs ask, and trees kept for
reuse up to a bound on their entries (a history of many tips, each with a root tree of
hundreds of thousands of entries, would otherwise hold them all)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from datetime import datetime, timezone

from sgai_guard.models import CommitRef
from sgai_guard.sources.objectread import Entry, Objects

MAX_CACHED_ENTRIES = 500_000  # tree entries kept for reuse, least recently used dropped first
_NEVER = datetime.min.replace(tzinfo=timezone.utc)


class Tips:
    def __init__(self, objects: Objects, tips: dict[str, str]) -> None:
        self.objects = objects
        self.tips = tips  # ref -> the commit it names (tags peeled)
        self._roots: dict[str, str | None] = {}  # commit -> its root tree
        self._trees: OrderedDict[str, dict[str, Entry]] = OrderedDict()  # tree -> entries
        self._cached = 0
        self._commits: dict[str, CommitRef] = {}

    def latest_holding(
        self, refs: Iterable[str], oid: str, paths: Iterable[str]
    ) -> dict[str, CommitRef]:
        """The ref whose tip is the newest still holding ``oid`` at one of ``paths`` (any
        name, a newline in it included), with that tip; {} when no tip holds it. Every ref
        counts on its own (two branches at one commit are two); tips are tried newest first
        (by the instant, whatever their time zones), so a history with many tags reads few
        trees."""
        wanted = sorted(paths)
        tips = {ref: tip for ref in refs if (tip := self.tips.get(ref)) and self._root(tip)}
        for ref in sorted(tips, key=lambda r: (_instant(self.commit(tips[r])), r), reverse=True):
            if any(self._at(tips[ref], path) == oid for path in wanted):
                return {ref: self.commit(tips[ref])}
        return {}

    def commit(self, oid: str) -> CommitRef:
        if oid not in self._commits:
            commit = self.objects.commit(oid)
            self._roots[oid] = commit.tree
            self._commits[oid] = commit.ref
        return self._commits[oid]

    def _at(self, commit: str, path: str) -> str | None:
        """The id at ``path`` in the commit's tree; each folder on the way must be a tree
        (a gitlink or a file named like a folder ends the path)."""
        entry = Entry(self._root(commit) or "", tree=True)
        for part in path.split("/"):
            if not entry.tree or not entry.oid:
                return None
            found = self._entries(entry.oid).get(part)
            if found is None:
                return None
            entry = found
        return entry.oid

    def _root(self, commit: str) -> str | None:
        if commit not in self._roots:
            self.commit(commit)  # None: not a commit (a tag of a tag, a tagged tree)
        return self._roots[commit]

    def _entries(self, tree: str) -> dict[str, Entry]:
        cached = self._trees.get(tree)
        if cached is not None:
            self._trees.move_to_end(tree)
            return cached
        found = self.objects.tree(tree)
        self._trees[tree] = found
        self._cached += len(found)
        while self._cached > MAX_CACHED_ENTRIES and len(self._trees) > 1:
            self._cached -= len(self._trees.popitem(last=False)[1])
        return found


def _instant(ref: CommitRef) -> datetime:
    """When the commit was written; the earliest time there is for a date that is not one."""
    try:
        when = datetime.fromisoformat(ref.date) if ref.date else _NEVER
    except ValueError:
        return _NEVER
    return when if when.tzinfo is not None else when.replace(tzinfo=timezone.utc)
