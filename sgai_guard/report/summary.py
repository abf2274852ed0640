"""Findings grouped the way a person acts on them: one group per distinct key (fingerprint),
and the refs that reach a key grouped by kind. Shared by the text and HTML formats so that
both count the same things. Pure functions over the models; nothing here is escaped (each
format escapes what it shows). Cheap to import: the commit hook prints through text."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import NamedTuple

from sgai_guard.models import Exposure, Finding, Provider, Status, Verdict, Verification

# (kind, singular, plural, prefixes): a ref belongs to the first kind whose prefix it has
REF_KINDS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("branch", "branch", "branches", ("refs/heads/",)),
    ("tag", "tag", "tags", ("refs/tags/",)),
    ("remote", "remote-tracking ref", "remote-tracking refs", ("refs/remotes/",)),
    (
        "review",
        "pull/merge request ref",
        "pull/merge request refs",
        ("refs/pull/", "refs/merge-requests/", "refs/changes/"),
    ),
)
_OTHER = ("other", "other ref", "other refs")

EXPOSURE_TEXT = {
    "pushed-head": "Pushed, still at HEAD",
    "pushed-deleted": "Pushed, deleted since",
    "local": "Local only",
    Status.NEW.value: "New in this change",
    Status.COMMITTED.value: "Already committed",
    Status.REMOVED.value: "Removed by this change",
}
VERDICT_RANK = {Verdict.LIVE: 0, Verdict.UNKNOWN: 1, Verdict.DEAD: 2}
NOT_CHECKED = "not checked"


class RefGroup(NamedTuple):
    kind: str
    label: str  # "1 branch", "3 tags"
    names: tuple[str, ...]  # short names, sorted: "main", "origin/main", "pull/7/head"

    def shown(self, limit: int) -> tuple[tuple[str, ...], int]:
        """The first ``limit`` names and how many more there are."""
        return self.names[:limit], max(0, len(self.names) - limit)


class KeyGroup(NamedTuple):
    """One distinct key: every finding that holds it."""

    fingerprint: str
    findings: tuple[Finding, ...]

    @property
    def first(self) -> Finding:
        return self.findings[0]

    @property
    def provider(self) -> Provider:
        return self.first.rule.provider

    @property
    def exposure(self) -> Exposure | None:
        return next((f.exposure for f in self.findings if f.exposure is not None), None)

    @property
    def paths(self) -> tuple[str, ...]:
        exposure = self.exposure
        if exposure is not None and exposure.paths:
            return exposure.paths
        return tuple(dict.fromkeys(f.path for f in self.findings))

    @property
    def verification(self) -> Verification | None:
        """The most alarming verdict any of its findings got (they share the key)."""
        checked = [f.verification for f in self.findings if f.verification is not None]
        return min(checked, key=lambda v: VERDICT_RANK[v.verdict], default=None)

    @property
    def exposure_class(self) -> str:
        return exposure_class(self.first)


def group_keys(findings: Iterable[Finding]) -> list[KeyGroup]:
    """One group per fingerprint, in the order the keys first appear (an audit's is urgency)."""
    groups: dict[str, list[Finding]] = {}
    for finding in findings:
        groups.setdefault(finding.fingerprint, []).append(finding)
    return [KeyGroup(fp, tuple(items)) for fp, items in groups.items()]


def exposure_class(finding: Finding) -> str:
    """A key of EXPOSURE_TEXT: where an audit found it, or what a scan's change did to it."""
    exposure = finding.exposure
    if exposure is None:
        return finding.status.value
    if not exposure.pushed:
        return "local"
    return "pushed-head" if exposure.at_head else "pushed-deleted"


def verdict_text(verification: Verification | None) -> str:
    return verification.verdict.value if verification is not None else NOT_CHECKED


def tally(groups: Sequence[KeyGroup], key: Callable[[KeyGroup], str]) -> list[tuple[str, int]]:
    """How many groups fall under each value of ``key``, in order of first appearance."""
    counts: dict[str, int] = {}
    for group in groups:
        value = key(group)
        counts[value] = counts.get(value, 0) + 1
    return list(counts.items())


def plural(count: int, singular: str, many: str | None = None) -> str:
    return f"{count} {singular if count == 1 else (many or singular + 's')}"


def keys_phrase(groups: Sequence[KeyGroup], findings: int) -> str:
    """The one way every format counts: "3 distinct keys (7 findings)"."""
    return f"{plural(len(groups), 'distinct key')} ({plural(findings, 'finding')})"


def group_refs(refs: Iterable[str]) -> tuple[RefGroup, ...]:
    """The refs by kind, in a fixed order, empty kinds left out."""
    found: dict[str, list[str]] = {}
    for ref in refs:
        kind, short = _classify(ref)
        found.setdefault(kind, []).append(short)
    out = []
    for kind, singular, many, _ in (*REF_KINDS, (*_OTHER, ())):
        if kind in found:
            names = tuple(sorted(found[kind]))
            out.append(RefGroup(kind, plural(len(names), singular, many), names))
    return tuple(out)


def _classify(ref: str) -> tuple[str, str]:
    for kind, _, _, prefixes in REF_KINDS:
        for prefix in prefixes:
            if ref.startswith(prefix):
                short = ref.removeprefix("refs/") if kind == "review" else ref[len(prefix) :]
                return kind, short
    return _OTHER[0], ref
