"""Opening reports in a real headless Chromium (Debian's package) through Playwright.

Playwright drives the system browser over the DevTools protocol; it never downloads one.
Every visit records console errors, page errors, dialogs, Content-Security-Policy
violations, every request the page made, and every write to ``window.__pwned`` (the global
the hostile repository's payloads set), so a test can assert that none happened.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import pytest

CHROMIUM = Path(os.environ.get("SGAI_GUARD_CHROMIUM", "/usr/bin/chromium"))

# Runs before the page's own script, outside its CSP (injected by the DevTools protocol).
RECORDER = """
window.__executions = [];
window.__violations = [];
Object.defineProperty(window, "__pwned", {
  configurable: false,
  get: function () { return undefined; },
  set: function (value) { window.__executions.push(String(value)); }
});
document.addEventListener("securitypolicyviolation", function (event) {
  window.__violations.push(event.violatedDirective + " " + event.blockedURI);
});
"""


class Visit(NamedTuple):
    page: Any  # playwright.sync_api.Page
    problems: list[str]  # console errors, page errors, dialogs
    requests: list[str]

    def executions(self) -> list[str]:
        return list(self.page.evaluate("window.__executions || []"))

    def violations(self) -> list[str]:
        return list(self.page.evaluate("window.__violations || []"))

    def assert_clean(self, report: Path) -> None:
        """No error, no dialog, no policy violation, no request but the file itself."""
        assert self.problems == []
        assert self.requests == [report.as_uri()]
        assert self.violations() == []
        assert self.executions() == []


@pytest.fixture(scope="module", name="browser")
def browser_fixture() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(
            f"headless Chromium tests need Debian's chromium package at {CHROMIUM} "
            "(apt-get install chromium; CI installs it)"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        yield launched
        launched.close()


def visit(browser: Any, report: Path, *, javascript: bool = True, width: int = 1240) -> Visit:
    """Open ``report`` from its file:// URL; any other request is recorded and aborted."""
    context = browser.new_context(
        java_script_enabled=javascript, viewport={"width": width, "height": 900}
    )
    context.add_init_script(RECORDER)
    problems: list[str] = []
    requests: list[str] = []

    def route(handled: Any) -> None:
        if handled.request.url == report.as_uri():
            handled.continue_()
        else:
            handled.abort()

    def dialog(shown: Any) -> None:
        problems.append(f"dialog: {shown.message}")
        shown.dismiss()

    context.route("**/*", route)
    context.on("request", lambda r: requests.append(r.url))
    page = context.new_page()
    page.on(
        "console", lambda m: problems.append(f"console: {m.text}") if m.type == "error" else None
    )
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("dialog", dialog)
    page.goto(report.as_uri())
    page.wait_for_load_state("load")
    if javascript:
        # The page lays out cards and table parts only near the screen (content-visibility:
        # auto), and innerText leaves out what is not laid out: lay everything out, as
        # scrolling through the page would.
        page.evaluate(
            "document.querySelectorAll('.card, .chunk')"
            ".forEach(e => { e.style.contentVisibility = 'visible'; })"
        )
    return Visit(page, problems, requests)
