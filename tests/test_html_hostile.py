"""A repository whose file, ref and author names are markup: the HTML report runs none of it.

Each payload writes ``window.__pwned``, which the browser helper records. The report is
checked twice: as written (escaping and the page's policy both stand in the way), and with
its Content-Security-Policy cut out, which proves the escaping holds on its own.
"""

from __future__ import annotations

import random
import re
from pathlib import Path
from typing import Any

import pytest

from tests.browser import browser_fixture, visit  # noqa: F401 - the browser fixture
from tests.cli_helpers import run_cli
from tests.html_sample import HOSTILE_FILES, HOSTILE_REFS, Sample, hostile

CSP = re.compile(r'<meta http-equiv="Content-Security-Policy"[^>]*>\n')


@pytest.fixture(scope="module")
def audited(tmp_path_factory: pytest.TempPathFactory) -> tuple[Sample, Path]:
    root = tmp_path_factory.mktemp("hostile")
    made = hostile(root, random.Random("html-hostile"))
    report = root / "report.html"
    proc = run_cli("audit", str(made.repo.path), "--format", "html", "-o", str(report), cwd=root)
    assert proc.returncode == 1, proc.stderr
    return made, report


def test_the_recorder_sees_an_execution(browser: Any, tmp_path: Path) -> None:
    control = tmp_path / "control.html"
    control.write_text("<!DOCTYPE html><script>window.__pwned = 'control'</script>")
    assert visit(browser, control).executions() == ["control"]


@pytest.mark.parametrize("policy", ["kept", "removed"])
def test_hostile_names_stay_text(
    browser: Any,
    audited: tuple[Sample, Path],
    policy: str,
) -> None:
    made, report = audited
    html = report.read_text(encoding="utf-8")
    if policy == "removed":
        html, cut = CSP.subn("", html)
        assert cut == 1
        report = report.with_name("report-without-policy.html")
        report.write_text(html, encoding="utf-8")
    opened = visit(browser, report)
    opened.assert_clean(report)
    page = opened.page
    assert page.locator("script").count() == 1
    assert page.locator("img, iframe, object, embed, foreignObject").count() == 0
    assert page.locator("svg").count() == 1
    handlers = page.evaluate(
        "Array.from(document.querySelectorAll('*')).flatMap("
        "e => Array.from(e.attributes, a => a.name)).filter(n => n.startsWith('on'))"
    )
    assert handlers == []
    hrefs = page.eval_on_selector_all("a[href]", "links => links.map(a => a.getAttribute('href'))")
    assert hrefs and all(h.startswith(("#key-", "https://")) for h in hrefs)
    text = page.inner_text("body")
    for name in HOSTILE_FILES[:4]:
        assert name in text  # shown as the literal text it is
    assert "bidi\\u202eevil\\u2066 and\\x1bcontrol.env" in text  # controls escaped visibly
    for ref in HOSTILE_REFS:  # shown without refs/heads/, refs/tags/, refs/remotes/
        assert ref.split("/", 2)[2] in text
    assert "javascript:window.__pwned='author'" in text
    for key in made.keys.values():
        assert key not in html
    page.context.close()
