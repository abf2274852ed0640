"""The records the HTML report's templates read: display strings and numbers only, every
string already redacted and escaped for display (see html_view)."""

from __future__ import annotations

from typing import NamedTuple


class Count(NamedTuple):
    value: str  # what the table's filter matches: a provider id, an exposure class, a verdict
    label: str
    number: int


class CommitView(NamedTuple):
    oid: str
    short: str
    author: str
    date: str


class RefView(NamedTuple):
    label: str
    names: tuple[str, ...]
    more: int


class HistoryView(NamedTuple):
    """Where an audit found the key; absent for scans of a work tree, a range or a push."""

    introduced: CommitView | None
    last_seen: CommitView | None
    at_head: bool
    pushed: bool
    unreachable: bool
    refs: tuple[RefView, ...]


class Card(NamedTuple):
    anchor: str
    provider: str
    key: str  # redacted unless asked
    fingerprint: str
    rules: tuple[str, ...]
    exposure: str
    exposure_text: str
    advice: str
    paths: tuple[str, ...]
    repositories: tuple[str, ...]  # a merged fleet report names them; empty until then
    history: HistoryView | None
    findings: int
    verdict: str
    verdict_reason: str
    dashboard: str
    remediation: tuple[str, ...]


class Row(NamedTuple):
    anchor: str
    provider_id: str
    provider: str
    key: str
    exposure: str
    exposure_text: str
    exposure_rank: int
    verdict: str
    path: str
    line: int
    commit: str
    fingerprint: str


class Gaps(NamedTuple):
    """What was not scanned, and why."""

    incomplete: tuple[str, ...]
    errors: tuple[tuple[str, str], ...]  # (path, reason)
    skipped: tuple[tuple[str, str], ...]
    skipped_more: int
    notices: tuple[str, ...]


class Page(NamedTuple):
    header: str
    findings: int
    keys: int
    stats: str
    providers: tuple[Count, ...]
    exposures: tuple[Count, ...]
    verdicts: tuple[Count, ...]  # empty unless something was verified
    row_verdicts: tuple[str, ...]  # the verdicts the table's filter offers
    gaps: Gaps
    hints: tuple[str, ...]
    cards: tuple[Card, ...]
    rows: tuple[Row, ...]
    suppressed: tuple[tuple[str, str, str], ...]  # (path, key, why), only when asked
    suppressed_count: int
