"""Markdown for a pull-request comment or a GitHub job summary."""

from __future__ import annotations

import re

from sgai_guard.display import message, name
from sgai_guard.models import Finding, ScanResult
from sgai_guard.report import RenderOptions
from sgai_guard.report.common import shown_secret, state_text, steps, summary_line

_MARKDOWN = frozenset("\\`*_{}[]()#!|~<>&")
# GitHub finds mentions (@team), references (#12) and autolinks (www., https://) in the text
# after entities are decoded, so escaping them as entities does not stop them (found by a
# review of the first fix): a zero-width space breaks each, and names go in code spans.
_ZWSP = "\u200b"
_TICKS = re.compile("`+")
_DEFUSE = (("@", "@" + _ZWSP), ("&#35;", "&#35;" + _ZWSP), ("://", ":" + _ZWSP + "//"))


def _cell(text: str) -> str:
    """Plain text in markdown (and GitHub's HTML-capable summaries): every character that
    could open a link, an image, a tag or a code span is escaped, and mentions, references
    and autolinks are broken, so a reason or a notice stays text."""
    escaped = "".join(f"&#{ord(c)};" if c in _MARKDOWN else c for c in message(text))
    for found, safe in _DEFUSE:
        escaped = escaped.replace(found, safe)
    return _no_www(escaped)


def _no_www(text: str) -> str:
    lowered, out, at = text.lower(), [], 0
    while (found := lowered.find("www.", at)) != -1:
        out.append(text[at : found + 3] + _ZWSP + ".")
        at = found + 4
    return "".join(out) + text[at:]


def _code(shown: str) -> str:
    """A name (already escaped for display) as a code span: nothing in it is markup, a
    mention or a link, and it copies as it is. The fence is longer than any run of backticks
    in it; a pipe is escaped for the table it may sit in."""
    longest = max((len(run) for run in _TICKS.findall(shown)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if shown[:1] == "`" or shown[-1:] == "`" else ""
    body = shown.replace("|", "\\|")
    return f"{fence}{pad}{body}{pad}{fence}"


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
    place = f"{_code(name(finding.path))}:{finding.line}"
    return f"{_code(name(finding.repository))}: {place}" if finding.repository else place


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
        *(f"- {_code(name(s.path))}: {_cell(s.reason)}" for s in result.errors),
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
        own = [f for f in result.findings if f.rule.provider.id == provider.id]
        out += ["", f"### What to do ({provider.name})", "", *steps(provider, own)]
    return out
