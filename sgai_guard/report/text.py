"""Human-readable report: findings grouped by provider, each group with its revoke steps."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from sgai_guard.display import message, name
from sgai_guard.models import (
    CommitRef,
    Exposure,
    Finding,
    Provider,
    ScanResult,
    Skipped,
    Suppression,
)
from sgai_guard.report import RenderOptions
from sgai_guard.report.common import (
    URGENCY_TEXT,
    shown_secret,
    status_text,
    steps,
    summary_line,
    verdict_line,
)

_RED, _YELLOW, _DIM, _BOLD, _RESET = "\033[31m", "\033[33m", "\033[2m", "\033[1m", "\033[0m"


class _Style:
    def __init__(self, color: bool) -> None:
        self.color = color

    def __call__(self, code: str, text: str) -> str:
        return f"{code}{text}{_RESET}" if self.color else text


def render(result: ScanResult, options: RenderOptions) -> str:
    return "".join(stream(result, options))


def stream(result: ScanResult, options: RenderOptions) -> Iterator[str]:
    """The report a line at a time: 100,000 findings are never one string in memory."""
    for line in _lines(result, options):
        yield line + "\n"


def _lines(result: ScanResult, options: RenderOptions) -> Iterator[str]:
    style = _Style(options.color)
    if result.findings:
        yield style(_BOLD, _header(result))
    for provider, findings in _by_provider(result.findings):
        yield from _provider_block(provider, findings, options, style)
    if result.findings and options.hints:
        yield from ("How to proceed:", *(f"  - {message(hint)}" for hint in options.hints), "")
    if options.show_suppressed and result.suppressed:
        yield from _suppressed_block(result.suppressed, options, style)
    yield from _skipped_block(result.skipped, style)
    yield from (f"note: {message(notice)}" for notice in result.notices)
    yield from (style(_RED, f"INCOMPLETE: {message(reason)}") for reason in result.incomplete)
    yield _closing(result, options, style)


def _by_provider(findings: tuple[Finding, ...]) -> list[tuple[Provider, list[Finding]]]:
    groups: dict[str, tuple[Provider, list[Finding]]] = {}
    for finding in findings:
        provider = finding.rule.provider
        groups.setdefault(provider.id, (provider, []))[1].append(finding)
    return list(groups.values())


def _provider_block(
    provider: Provider, findings: list[Finding], options: RenderOptions, style: _Style
) -> Iterator[str]:
    yield style(_BOLD + _RED, f"{provider.name}: {_keys(findings)}")
    shown: set[str] = set()
    for finding in findings:
        if finding.exposure is not None and finding.fingerprint in shown:
            continue  # an audit lists each secret once, with all its paths
        shown.add(finding.fingerprint)
        yield from _finding_lines(finding, options, style)
    yield f"  What to do ({provider.name}):"
    yield from (f"    {step}" for step in steps(provider, findings))
    yield ""


def _finding_lines(finding: Finding, options: RenderOptions, style: _Style) -> list[str]:
    where = f"{name(finding.path)}:{finding.line}:{finding.column}"
    if finding.repository:
        where = f"{name(finding.repository)}: {where}"
    if finding.commit:
        where += f" (commit {finding.commit[:12]})"
    verdict = URGENCY_TEXT[finding.exposure.urgency] if finding.exposure else status_text(finding)
    out = [
        f"  {style(_BOLD, where)}  {shown_secret(finding, options.show_secrets)}",
        style(
            _DIM,
            f"    rule {finding.rule.id} ({finding.rule.confidence.value} confidence), "
            f"fingerprint {finding.fingerprint}",
        ),
        f"    {verdict}",
    ]
    out += [f"    {message(note)}" for note in finding.notes]
    if finding.verification is not None:
        out.append(f"    {verdict_line(finding.verification)}")
    if finding.exposure is not None:
        out += _exposure_lines(finding.exposure)
    return out


def _exposure_lines(exposure: Exposure) -> list[str]:
    def commit(ref: CommitRef | None) -> str:
        return f"{ref.oid[:12]} by {name(ref.author)} on {name(ref.date)}" if ref else "unknown"

    return [
        f"    paths: {', '.join(name(p) for p in exposure.paths)}",
        f"    introduced in {commit(exposure.introduced)}",
        f"    last held by {commit(exposure.last_seen)}",
        f"    at HEAD: {'yes' if exposure.at_head else 'no'}; "
        f"pushed: {'yes' if exposure.pushed else 'no (only local refs reach it)'}",
        f"    refs: {_refs(exposure.refs)}",
    ]


def _refs(refs: tuple[str, ...], limit: int = 3) -> str:
    """Refs counted by kind, a few names each: a large repository has hundreds."""
    parts = []
    from sgai_guard.report.summary import group_refs  # noqa: PLC0415

    for group in group_refs(refs):
        names, more = group.shown(limit)
        listed = ", ".join(name(n) for n in names) + (f", +{more} more" if more else "")
        parts.append(f"{group.label} ({listed})")
    return "; ".join(parts) or "none (unreachable)"


def _header(result: ScanResult) -> str:
    from sgai_guard.report.summary import group_keys, keys_phrase, tally  # noqa: PLC0415

    groups = group_keys(result.findings)
    counts = ", ".join(f"{n} {p}" for p, n in tally(groups, lambda g: g.provider.name))
    return f"Found {keys_phrase(groups, len(result.findings))}: {counts}."


def _suppressed_block(
    suppressed: tuple[Suppression, ...], options: RenderOptions, style: _Style
) -> Iterator[str]:
    yield style(_YELLOW, f"Suppressed ({len(suppressed)}):")
    for item in suppressed:
        f = item.finding
        secret = shown_secret(f, options.show_secrets)
        yield (
            f"  {name(f.path)}:{f.line}:{f.column}  {secret}  {f.rule.id}  "
            f"[{item.reason.value}] {message(item.detail)}  fingerprint {f.fingerprint}"
        )
    yield ""


def _skipped_block(skipped: tuple[Skipped, ...], style: _Style) -> Iterator[str]:
    if not skipped:
        return
    yield style(_YELLOW, f"Not scanned ({len(skipped)}):")
    yield from (f"  {name(s.path)}: {message(s.reason)}" for s in skipped)
    yield ""


def closing_line(result: ScanResult, options: RenderOptions) -> str:
    """The report's last line, on its own (said on stderr when the report went to a file)."""
    return _closing(result, options, _Style(options.color))


def _closing(result: ScanResult, options: RenderOptions, style: _Style) -> str:
    line = summary_line(result)
    if result.findings:
        line += f" {_keys(result.findings)}."
    if result.suppressed and not options.show_suppressed:
        line += " (--show-suppressed lists the suppressed ones)"
    if result.stats.files == 0 and not result.stats.commits and not result.stats.bytes:
        return style(_RED, line + " Nothing was scanned.")  # a tag's message alone is something
    return style(_RED if result.blocking else _DIM, line)


def _keys(findings: Sequence[Finding]) -> str:
    """``2 distinct keys (3 findings)``; the grouping is loaded only when there are findings
    (the commit hook's start-up)."""
    from sgai_guard.report.summary import group_keys, keys_phrase  # noqa: PLC0415

    return keys_phrase(group_keys(findings), len(findings))
