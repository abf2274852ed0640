"""Whether each ref's tip still holds a blob at one of its paths, read by object id
(sources.objectread), every commit and tree read once however many refs ask."""

from __future__ import annotations

from collections.abc import Iterable

from sgai_guard.models import CommitRef
from sgai_guard.sources.objectread import Objects


class Tips:
    def __init__(self, objects: Objects, tips: dict[str, str]) -> None:
        self.objects = objects
        self.tips = tips  # ref -> the commit it names (tags peeled)
        self._roots: dict[str, str | None] = {}  # commit -> its root tree
        self._trees: dict[str, dict[str, str]] = {}  # tree -> name -> object id
        self._commits: dict[str, CommitRef] = {}

    def latest_holding(
        self, refs: Iterable[str], oid: str, paths: Iterable[str]
    ) -> dict[str, CommitRef]:
        """The ref whose tip is the newest still holding ``oid`` at one of ``paths`` (any
        name, a newline in it included), with that tip; {} when no tip holds it. Every ref
        counts on its own (two branches at one commit are two); tips are tried newest first,
        so a history with many tags reads few trees."""
        wanted = sorted(paths)
        tips = {ref: tip for ref in refs if (tip := self.tips.get(ref)) and self._root(tip)}
        for ref in sorted(tips, key=lambda r: (self.commit(tips[r]).date, r), reverse=True):
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
        sha = self._root(commit)
        for part in path.split("/"):
            if sha is None:
                return None
            sha = self._entries(sha).get(part)
        return sha

    def _root(self, commit: str) -> str | None:
        if commit not in self._roots:
            self.commit(commit)  # None: not a commit (a tag of a tag, a tagged tree)
        return self._roots[commit]

    def _entries(self, tree: str) -> dict[str, str]:
        if tree not in self._trees:  # {}: a path component that is a file, not a folder
            self._trees[tree] = self.objects.tree(tree)
        return self._trees[tree]
