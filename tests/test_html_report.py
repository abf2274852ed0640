"""The HTML report of a real audit, opened in headless Chromium: clean, counted, usable."""

from __future__ import annotations

import os
import random
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.browser import browser_fixture, visit  # noqa: F401 - the browser fixture
from tests.cli_helpers import run_cli
from tests.html_sample import Sample, sample


@pytest.fixture(scope="module")
def audited(tmp_path_factory: pytest.TempPathFactory) -> tuple[Sample, Path]:
    root = tmp_path_factory.mktemp("html")
    made = sample(root, random.Random("html-sample"))
    report = root / "report.html"
    proc = run_cli("audit", str(made.repo.path), "--format", "html", "-o", str(report), cwd=root)
    assert proc.returncode == 1, proc.stderr
    assert "4 distinct keys (5 findings)" in proc.stderr  # the one-line summary agrees
    return made, report


def _numbers(page: Any, selector: str) -> list[int]:
    return [
        int(n)
        for n in page.eval_on_selector_all(
            selector, "els => els.map(e => e.dataset.count || e.dataset.findings)"
        )
    ]


def _visible_rows(page: Any) -> list[list[str]]:
    return page.eval_on_selector_all(
        "#findings tbody tr",
        "rows => rows.filter(r => !r.hidden).map(r => Array.from(r.cells, c => c.innerText))",
    )


def test_report_is_clean_offline_and_counts_agree(
    browser: Any, audited: tuple[Sample, Path]
) -> None:
    made, report = audited
    html = report.read_text(encoding="utf-8")
    for key in made.keys.values():
        assert key not in html and key[-12:] not in html
    opened = visit(browser, report)
    opened.assert_clean(report)
    page = opened.page
    assert page.inner_text("#headline").strip() == "4 distinct keys (5 findings)"
    assert _numbers(page, "#by-provider [data-count]") == [2, 2]
    exposures = page.eval_on_selector_all(
        "#by-exposure tr", "rows => rows.map(r => [r.cells[0].innerText, r.cells[1].dataset.count])"
    )
    assert [(label.strip(), int(n)) for label, n in exposures] == [
        ("Pushed, still at HEAD", 1),
        ("Pushed, deleted since", 2),
        ("Local only", 1),
    ]
    assert page.locator("article.card").count() == 4
    assert sum(_numbers(page, "article.card")) == 5
    assert len(_visible_rows(page)) == 5
    assert page.locator("svg.timeline a.bar").count() == 4
    shot = report.with_suffix(".png")
    page.screenshot(path=str(shot), full_page=True)
    if os.environ.get("SGAI_GUARD_SCREENSHOT"):  # the README's picture: see the test's docstring
        shutil.copyfile(shot, os.environ["SGAI_GUARD_SCREENSHOT"])
    page.context.close()


def test_cards_group_refs_and_carry_the_steps(browser: Any, audited: tuple[Sample, Path]) -> None:
    _, report = audited
    page = visit(browser, report).page
    first = page.locator("article.card").first
    text = first.inner_text()
    assert "15 branches: main, topic/00, topic/01, topic/02, topic/03 +10 more" in text
    assert "9 pull/merge request refs" in text and "+4 more" in text
    assert "Introduced" in text and "Dana Ops" in text and "2025-02-03 09:00:00+00:00" in text
    assert "backup/settings.py" in text and "config/settings.py" in text
    assert first.locator("a[href='https://app.tavily.com']").count() == 1
    assert "Revoke the key first" in text
    page.context.close()


def test_filters_and_sorting_work_by_clicking_and_typing(
    browser: Any, audited: tuple[Sample, Path]
) -> None:
    _, report = audited
    page = visit(browser, report).page
    page.select_option("select[name=provider]", "tavily")
    assert {row[0] for row in _visible_rows(page)} == {"Tavily"} and len(_visible_rows(page)) == 3
    assert page.inner_text("#shown-count") == "3"
    page.select_option("select[name=exposure]", "pushed-deleted")
    assert [row[4] for row in _visible_rows(page)] == ["notebooks/demo.ipynb"]
    page.select_option("select[name=provider]", "")
    page.select_option("select[name=exposure]", "")
    page.fill("input[name=path]", "SETTINGS")
    assert sorted(row[4] for row in _visible_rows(page)) == [
        "backup/settings.py",
        "config/settings.py",
    ]
    page.select_option("select[name=verdict]", "not checked")
    assert len(_visible_rows(page)) == 2
    page.fill("input[name=path]", "")
    page.click("#findings th >> text=Path")
    paths = [row[4] for row in _visible_rows(page)]
    assert paths == sorted(paths) and len(paths) == 5
    page.click("#findings th >> text=Path")
    assert [row[4] for row in _visible_rows(page)] == sorted(paths, reverse=True)
    page.click("#findings th >> text=Exposure")
    assert _visible_rows(page)[0][2].startswith("Pushed, still at HEAD")
    page.context.close()


def test_without_javascript_the_table_is_all_there(
    browser: Any, audited: tuple[Sample, Path]
) -> None:
    _, report = audited
    opened = visit(browser, report, javascript=False)
    page = opened.page
    assert opened.problems == [] and opened.requests == [report.as_uri()]
    assert page.locator("#findings tbody tr").count() == 5
    assert page.locator("#findings tbody tr:visible").count() == 5
    assert not page.locator("#filters").is_visible()  # inert controls are not offered
    assert page.locator("#findings th button").count() == 0
    assert page.locator("svg.timeline").is_visible()
    page.context.close()


def test_text_report_counts_distinct_keys_and_groups_refs(audited: tuple[Sample, Path]) -> None:
    made, report = audited
    text = run_cli("audit", str(made.repo.path), cwd=report.parent).stdout
    assert text.startswith("Found 4 distinct keys (5 findings): 2 Tavily, 2 ScrapeGraphAI.")
    assert "Tavily: 2 distinct keys (3 findings)" in text
    assert "15 branches (main, topic/00, topic/01, +12 more)" in text
    assert "9 pull/merge request refs (pull/1/head, pull/2/head, pull/3/head, +6 more)" in text
    assert "topic/13" not in text and "pull/9/head" not in text
    assert text.rstrip().endswith("4 distinct keys (5 findings).")
