"""GitHub Actions workflow commands: one annotation per finding, escaped as the runner needs."""

from __future__ import annotations

from sgai_guard.display import message, name
from sgai_guard.models import Finding, ScanResult
from sgai_guard.report import RenderOptions
from sgai_guard.report.common import dot_segments, headline, state_text, steps, summary_line


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _annotation(finding: Finding, options: RenderOptions) -> str:
    level = "error" if finding.blocking else "warning"
    provider = finding.rule.provider
    message = f"{headline(finding, options)}: {state_text(finding)}.\n" + "\n".join(steps(provider))
    shown = name(finding.path)
    if dot_segments(finding.path):  # backslashes too: a consumer may take them for slashes
        shown = shown.replace("/", "%2F").replace("\\", "%5C")
    props = (
        f"file={escape_property(shown)},line={finding.line},col={finding.column},"
        f"title={escape_property(finding.rule.name + ' (sgai-guard)')}"
    )
    return f"::{level} {props}::{escape_data(message)}"


def render(result: ScanResult, options: RenderOptions) -> str:
    lines = [_annotation(f, options) for f in result.findings]
    lines += [f"::notice title=sgai-guard::{escape_data(message(n))}" for n in result.notices]
    lines += [
        f"::error title=sgai-guard incomplete::{escape_data(message(r))}" for r in result.incomplete
    ]
    lines += [
        f"::error title=sgai-guard could not read::"
        f"{escape_data(name(s.path) + ': ' + message(s.reason))}"
        for s in result.errors
    ]
    lines.append(escape_data(summary_line(result)))
    return "\n".join(lines) + "\n"
