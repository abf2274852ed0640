"""A self-contained HTML report: one file, no remote loads, readable without scripts.

Rendered by jinja2 with autoescaping on and undefined names an error; no markup is built in
Python. The page's Content-Security-Policy allows nothing but its own stylesheet and script,
each pinned by the SHA-256 of its exact text, so even a name that got past escaping could
neither run nor load anything. jinja2 is imported here only, when an HTML report is asked for.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import datetime, timezone
from functools import cache
from typing import TYPE_CHECKING

from sgai_guard import __version__
from sgai_guard.models import ScanResult
from sgai_guard.report import RenderOptions
from sgai_guard.report.html_view import build_page
from sgai_guard.report.summary import group_keys
from sgai_guard.report.timeline import build_timeline

if TYPE_CHECKING:
    import jinja2

STYLE, SCRIPT, PAGE = "report.css", "report.js", "report.html.j2"


@cache
def _environment() -> jinja2.Environment:
    import jinja2  # noqa: PLC0415 - the HTML format only; never on the hook's path

    return jinja2.Environment(
        loader=jinja2.PackageLoader("sgai_guard.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def source_hash(text: str) -> str:
    """A CSP source for an inline element whose content is exactly ``text``."""
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"


@cache
def content_security_policy() -> str:
    """Nothing remote, nothing inline but the report's own style and script (the page
    includes them through the same templates, so the hashed text is the included text)."""
    env = _environment()
    style = source_hash(env.get_template(STYLE).render())
    script = source_hash(env.get_template(SCRIPT).render())
    return "; ".join(
        (
            "default-src 'none'",
            f"style-src {style}",
            f"script-src {script}",
            "img-src 'none'",
            "base-uri 'none'",
            "form-action 'none'",
        )
    )


def render(result: ScanResult, options: RenderOptions) -> str:
    now = datetime.now(timezone.utc)
    page = build_page(result, options)
    groups = group_keys(result.findings)
    timeline = build_timeline(groups, [card.key for card in page.cards], now)
    return (
        _environment()
        .get_template(PAGE)
        .render(
            page=page,
            timeline=timeline,
            csp=content_security_policy(),
            version=__version__,
            generated=now.strftime("%Y-%m-%d %H:%M UTC"),
            style=STYLE,
            script=SCRIPT,
        )
    )
