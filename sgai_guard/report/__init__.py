"""Report formats: each is ``render(result, options) -> str``; the CLI decides where it goes."""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import NamedTuple

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


def renderer(fmt: Format) -> Renderer:
    """The renderer for a format; imported lazily so a hook loads only what it prints."""
    import importlib  # noqa: PLC0415

    module = importlib.import_module(f"sgai_guard.report.{_MODULES[fmt]}")
    render: Renderer = module.render
    return render


_MODULES = {
    Format.TEXT: "text",
    Format.JSON: "json_report",
    Format.SARIF: "sarif",
    Format.GITHUB: "github",
    Format.GITLAB: "gitlab",
    Format.MARKDOWN: "markdown",
    Format.HTML: "html",
}
