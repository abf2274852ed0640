"""Markdown for a pull-request comment or a GitHub job summary."""

from __future__ import annotations

from sgai_guard.display import message, name
from sgai_guard.models import Finding, ScanResult
from sgai_guard.report import RenderOptions
from sgai_guard.report.common import shown_secret, state_text, steps, summary_line

# "@" mentions a user or team, and ":" and "." start GitHub's autolinks (https://…, www.…):
# a file named `@org/admins www.evil.example` must neither ping nor link (found by an
# attacker review)
_MARKDOWN = frozenset("\\`*_{}[]()#!|~<>&@:")
_AUTOLINK = "www."


def _cell(text: str) -> str:
    """Plain text in markdown (and GitHub's HTML-capable summaries): every character that
    could open a link, an image, a tag, a mention or a code span is escaped, so a file name
    stays text."""
    escaped = "".join(f"&#{ord(c)};" if c in _MARKDOWN else c for c in message(text))
    return _defused(escaped)


def _defused(text: str) -> str:
    """``text`` with each `www.` (in any case) written with an escaped dot."""
    lowered, out, at = text.lower(), [], 0
    while (found := lowered.find(_AUTOLINK, at)) != -1:
        out.append(text[at : found + 3] + "&#46;")
        at = found + 4
    return "".join(out) + text[at:]


def _row(finding: Finding, options: RenderOptions) -> str:
    cells = [
        _cell(finding.rule.provider.name),
        f"`{shown_secret(finding, options.show_secrets)}`",
        _where(finding),
        _cell(state_text(finding)),
        f"`{finding.fingerprint}`",
    ]
    return "| " + " | ".join(cells) + " |"


def _where(finding: Finding) -> str:
    place = f"{_cell(name(finding.path))}:{finding.line}"
    return f"{_cell(name(finding.repository))}: {place}" if finding.repository else place


def render(result: ScanResult, options: RenderOptions) -> str:
    out = ["## sgai-guard", "", *_problems(result)]
    if result.findings:
        out += _findings(result, options)
    elif not result.incomplete:
        out.append("No Tavily or ScrapeGraphAI API keys found.")
    out += ["", *(f"> {_cell(n)}" for n in result.notices), "", summary_line(result), ""]
    return "\n".join(out)


def _problems(result: ScanResult) -> list[str]:
    if result.complete:
        return []
    return [
        "**Incomplete scan** — this is not a clean result:",
        "",
        *(f"- {_cell(r)}" for r in result.incomplete),
        *(f"- {_cell(name(s.path))}: {_cell(s.reason)}" for s in result.errors),
        "",
    ]


def _findings(result: ScanResult, options: RenderOptions) -> list[str]:
    out = [
        f"**{len(result.blocking)} blocking** API key(s) found.",
        "",
        "| Provider | Key | Where | Status | Fingerprint |",
        "|---|---|---|---|---|",
        *(_row(f, options) for f in result.findings),
    ]
    for provider in {f.rule.provider.id: f.rule.provider for f in result.findings}.values():
        out += ["", f"### What to do ({provider.name})", "", *steps(provider)]
    return out
