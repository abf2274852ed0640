"""Report formats: each is ``render(result, options) -> str``, and ``streamer`` gives it in
pieces (text and the JSON formats are made one finding at a time); the CLI decides where it goes."""

# ruff: noqa: PLC0415 - each format module is imported only when that format is chosen

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator
from typing import NamedTuple, NoReturn

from sgai_guard.models import ScanResult


class Format(str, enum.Enum):
    TEXT = "text"
    JSON = "json"
    SARIF = "sarif"
    GITHUB = "github"
    GITLAB = "gitlab"
    MARKDOWN = "markdown"
    HTML = "html"


class RenderOptions(NamedTuple):
    show_secrets: bool = False
    show_suppressed: bool = False
    color: bool = False
    hints: tuple[str, ...] = ()  # context-specific advice printed after the findings
    commit: str | None = None  # the commit a work-tree scan looked at (for reports needing one)
    # SARIF runAutomationDetails.id, "category/run": runs of different kinds (a pull request,
    # a push, a full audit) keep their own alerts in code scanning
    automation: str = ""
    # An HTML file is mailed and attached to tickets: clear keys go into it only when the user
    # asked for them for this format too, not on --show-secrets alone.
    show_secrets_in_html: bool = False


Renderer = Callable[[ScanResult, RenderOptions], str]
Streamer = Callable[[ScanResult, RenderOptions], Iterator[str]]


def streamer(fmt: Format) -> Streamer:
    """The report in pieces: text and the JSON formats as they are made, so that memory does
    not grow with a whole report's text; the others whole, as one piece."""
    match fmt:
        case Format.TEXT:
            from sgai_guard.report.text import stream as text

            return text
        case Format.JSON:
            from sgai_guard.report.json_report import stream as json_report

            return json_report
        case Format.SARIF:
            from sgai_guard.report.sarif import stream as sarif

            return sarif
        case Format.GITLAB:
            from sgai_guard.report.gitlab import stream as gitlab

            return gitlab
    whole = renderer(fmt)
    return lambda result, options: iter((whole(result, options),))


def renderer(fmt: Format) -> Renderer:
    """The renderer for a format, imported only when asked for (a hook loads only what it
    prints). An explicit match, not a lookup by name: mypy checks that every format has one
    and that each is a Renderer."""
    match fmt:
        case Format.TEXT:
            from sgai_guard.report.text import render as text

            return text
        case Format.JSON:
            from sgai_guard.report.json_report import render as json_report

            return json_report
        case Format.SARIF:
            from sgai_guard.report.sarif import render as sarif

            return sarif
        case Format.GITHUB:
            from sgai_guard.report.github import render as github

            return github
        case Format.GITLAB:
            from sgai_guard.report.gitlab import render as gitlab

            return gitlab
        case Format.MARKDOWN:
            from sgai_guard.report.markdown import render as markdown

            return markdown
        case Format.HTML:
            from sgai_guard.report.html import render as html

            return html
    return _unknown(fmt)


def _unknown(fmt: NoReturn) -> NoReturn:
    """mypy proves this unreachable: every Format is matched above."""
    raise AssertionError(f"no renderer for {fmt!r}")
