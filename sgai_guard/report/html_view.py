"""What the HTML report shows, as plain records of display strings.

Every string that came from the repository (paths, refs, authors, dates, messages) passes
through ``display.name`` or ``display.message`` here, which redacts keys in it and escapes
controls and bidi characters; the template's autoescaping then makes it inert HTML. Secrets
are clear only when the user asked for them for this format as well.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sgai_guard.display import message, name
from sgai_guard.models import CommitRef, Exposure, Finding, ScanResult, Skipped
from sgai_guard.report import RenderOptions
from sgai_guard.report.common import URGENCY_TEXT, status_text, summary_line
from sgai_guard.report.html_records import (
    Card,
    CommitView,
    Count,
    Gaps,
    HistoryView,
    Page,
    RefView,
    Row,
)
from sgai_guard.report.summary import (
    EXPOSURE_TEXT,
    NOT_CHECKED,
    KeyGroup,
    exposure_class,
    group_keys,
    group_refs,
    keys_phrase,
    tally,
    verdict_text,
)

REFS_SHOWN = 5
SKIPPED_SHOWN = 200
EXPOSURE_ORDER = tuple(EXPOSURE_TEXT)


def shown_key(finding: Finding, options: RenderOptions) -> str:
    clear = options.show_secrets and options.show_secrets_in_html
    return finding.secret if clear else finding.redacted


def anchor(fingerprint: str) -> str:
    return f"key-{fingerprint}"


def build_page(result: ScanResult, options: RenderOptions) -> Page:
    groups = group_keys(result.findings)
    return Page(
        header=keys_phrase(groups, len(result.findings)),
        findings=len(result.findings),
        keys=len(groups),
        stats=summary_line(result),
        providers=_providers(groups),
        exposures=_exposures(groups),
        verdicts=_verdicts(groups),
        row_verdicts=tuple(dict.fromkeys(verdict_text(f.verification) for f in result.findings)),
        gaps=_gaps(result),
        hints=tuple(message(h) for h in options.hints if result.findings),
        cards=tuple(_card(g, options) for g in groups),
        rows=tuple(_row(f, options) for f in result.findings),
        suppressed=_suppressed(result, options),
        suppressed_count=len(result.suppressed),
    )


def _gaps(result: ScanResult) -> Gaps:
    skipped = [s for s in result.skipped if not s.error]
    return Gaps(
        incomplete=tuple(message(r) for r in result.incomplete),
        errors=_skips(result.errors),
        skipped=_skips(skipped[:SKIPPED_SHOWN]),
        skipped_more=max(0, len(skipped) - SKIPPED_SHOWN),
        notices=tuple(message(n) for n in result.notices),
    )


def _skips(skipped: Iterable[Skipped]) -> tuple[tuple[str, str], ...]:
    return tuple((name(s.path), message(s.reason)) for s in skipped)


def _suppressed(result: ScanResult, options: RenderOptions) -> tuple[tuple[str, str, str], ...]:
    if not options.show_suppressed:
        return ()
    return tuple(
        (
            name(s.finding.path),
            shown_key(s.finding, options),
            f"{s.reason.value}: {message(s.detail)}",
        )
        for s in result.suppressed
    )


def _providers(groups: Sequence[KeyGroup]) -> tuple[Count, ...]:
    labels = {g.provider.id: g.provider.name for g in groups}
    return tuple(
        Count(value, labels.get(value, value), n)
        for value, n in tally(groups, lambda g: g.provider.id)
    )


def _exposures(groups: Sequence[KeyGroup]) -> tuple[Count, ...]:
    counts = dict(tally(groups, lambda g: g.exposure_class))
    return tuple(
        Count(value, EXPOSURE_TEXT[value], counts[value])
        for value in EXPOSURE_ORDER
        if value in counts
    )


def _verdicts(groups: Sequence[KeyGroup]) -> tuple[Count, ...]:
    if all(g.verification is None for g in groups):
        return ()
    counts = dict(tally(groups, lambda g: verdict_text(g.verification)))
    order = ("live", "unknown", "dead", NOT_CHECKED)
    return tuple(Count(v, v, counts[v]) for v in order if v in counts)


def _commit(ref: CommitRef | None) -> CommitView | None:
    if ref is None:
        return None
    return CommitView(ref.oid, ref.oid[:12], name(ref.author), name(ref.date.replace("T", " ")))


def _card(group: KeyGroup, options: RenderOptions) -> Card:
    first, exposure, provider = group.first, group.exposure, group.provider
    verification = group.verification
    return Card(
        anchor=anchor(group.fingerprint),
        provider=provider.name,
        key=shown_key(first, options),
        fingerprint=group.fingerprint,
        rules=tuple(dict.fromkeys(f.rule.id for f in group.findings)),
        exposure=group.exposure_class,
        exposure_text=EXPOSURE_TEXT[group.exposure_class],
        advice=URGENCY_TEXT[exposure.urgency] if exposure else status_text(first),
        paths=tuple(name(p) for p in group.paths),
        repositories=(),
        history=_history(exposure) if exposure else None,
        findings=len(group.findings),
        verdict=verdict_text(verification),
        verdict_reason=message(verification.reason) if verification else "",
        dashboard=provider.dashboard,
        remediation=provider.remediation,
    )


def _history(exposure: Exposure) -> HistoryView:
    return HistoryView(
        introduced=_commit(exposure.introduced),
        last_seen=_commit(exposure.last_seen),
        at_head=exposure.at_head,
        pushed=exposure.pushed,
        unreachable=not exposure.reachable,
        refs=tuple(
            RefView(r.label, *_names(r.shown(REFS_SHOWN))) for r in group_refs(exposure.refs)
        ),
    )


def _names(shown: tuple[tuple[str, ...], int]) -> tuple[tuple[str, ...], int]:
    return tuple(name(n) for n in shown[0]), shown[1]


def _row(finding: Finding, options: RenderOptions) -> Row:
    exposure = exposure_class(finding)
    return Row(
        anchor=anchor(finding.fingerprint),
        provider_id=finding.rule.provider.id,
        provider=finding.rule.provider.name,
        key=shown_key(finding, options),
        exposure=exposure,
        exposure_text=EXPOSURE_TEXT[exposure],
        exposure_rank=EXPOSURE_ORDER.index(exposure),
        verdict=verdict_text(finding.verification),
        path=name(finding.path),
        line=finding.line,
        commit=(finding.commit or "")[:12],
        fingerprint=finding.fingerprint,
    )
