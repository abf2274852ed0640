"""The HTML report's contract outside the browser's eye: redaction, policy, verdicts, scans."""

from __future__ import annotations

import base64
import hashlib
import random
import re
import subprocess
from html import unescape
from pathlib import Path
from typing import Any

from sgai_guard.engine.scan import scan
from sgai_guard.models import Blob, Verdict, Verification
from sgai_guard.report import Format, RenderOptions, renderer
from tests import keys
from tests.browser import browser_fixture, visit  # noqa: F401 - the browser fixture
from tests.cli_helpers import run_cli
from tests.gitrepo import Repo, git_env

TEMPLATES = Path(__file__).resolve().parent.parent / "sgai_guard" / "report" / "templates"


def _html(result: Any, **options: Any) -> str:
    return renderer(Format.HTML)(result, RenderOptions(**options))


def test_show_secrets_needs_the_html_opt_in_too(tmp_path: Path, rng: random.Random) -> None:
    key = keys.tavily_current(rng)
    (tmp_path / "a.env").write_text(f"TAVILY_API_KEY={key}\n")
    report = tmp_path / "r.html"
    proc = run_cli(
        "scan", ".", "--format", "html", "--show-secrets", "-o", str(report), cwd=tmp_path
    )
    assert proc.returncode == 1, proc.stderr
    assert key not in report.read_text() and key[-12:] not in report.read_text()
    result = scan([Blob("a.env", f"TAVILY_API_KEY={key}\n".encode())])
    assert key not in _html(result, show_secrets=True)
    assert key not in _html(result, show_secrets_in_html=True)
    assert key in _html(result, show_secrets=True, show_secrets_in_html=True)


def test_policy_pins_the_exact_inline_style_and_script(tmp_path: Path, rng: random.Random) -> None:
    html = _html(scan([Blob("a", keys.sgai_uuid(rng).encode())]))
    policy = re.search(r'Content-Security-Policy" content="([^"]+)"', html)
    assert policy is not None
    content = unescape(policy.group(1))
    directives = dict(d.strip().split(" ", 1) for d in content.split(";"))
    assert directives["default-src"] == "'none'" and directives["img-src"] == "'none'"
    for tag, directive in (("style", "style-src"), ("script", "script-src")):
        [inline] = re.findall(rf"<{tag}>(.*?)</{tag}>", html, re.S)
        digest = base64.b64encode(hashlib.sha256(inline.encode()).digest()).decode()
        assert directives[directive] == f"'sha256-{digest}'"
    assert "http://" not in html and "src=" not in html


def test_templates_never_mark_data_safe() -> None:
    for template in TEMPLATES.iterdir():
        text = template.read_text()
        assert "|safe" not in text.replace(" ", "") and "Markup" not in text, template
        if template.suffix in {".css", ".js"}:  # included verbatim: no template syntax
            assert not re.search(r"\{[{%#]", text), template
    for module in ("html.py", "html_view.py", "timeline.py", "summary.py"):
        assert "Markup" not in (TEMPLATES.parent / module).read_text(), module
    assert "autoescape=True" in (TEMPLATES.parent / "html.py").read_text()


def test_verdicts_are_summarised_and_filterable(
    browser: Any, tmp_path: Path, rng: random.Random
) -> None:
    made = [keys.tavily_current(rng), keys.sgai_uuid(rng), keys.tavily_legacy(rng)]
    result = scan([Blob(f"k{n}.env", f"K={k}\n".encode()) for n, k in enumerate(made)])
    verdicts = [
        Verification(Verdict.LIVE, "HTTP 432: plan limit <b>reached</b>"),
        Verification(Verdict.DEAD, "HTTP 401"),
        None,
    ]
    by_path = dict(zip(["k0.env", "k1.env", "k2.env"], verdicts, strict=True))
    findings = tuple(f._replace(verification=by_path[f.path]) for f in result.findings)
    report = tmp_path / "verified.html"
    report.write_text(_html(result._replace(findings=findings)), encoding="utf-8")
    opened = visit(browser, report)
    opened.assert_clean(report)
    page = opened.page
    tile = page.inner_text("#by-verdict")
    assert re.findall(r"(live|dead|not checked)\s+(\d)", tile.lower()) == [
        ("live", "1"),
        ("dead", "1"),
        ("not checked", "1"),
    ]
    assert "plan limit <b>reached</b>" in page.inner_text("#keys")
    page.select_option("select[name=verdict]", "live")
    rows = page.eval_on_selector_all(
        "#findings tbody tr:not([hidden])", "rs => rs.map(r => r.cells[4].innerText)"
    )
    assert rows == ["k0.env"]
    page.context.close()


def test_a_work_tree_scan_has_no_timeline_and_says_what_is_new(
    browser: Any, tmp_path: Path, rng: random.Random
) -> None:
    (tmp_path / "a.env").write_text(f"K={keys.sgai_uuid(rng)}\n")
    (tmp_path / "b.env").write_text(f"K={keys.tavily_current(rng)}\n")
    report = tmp_path / "scan.html"
    proc = run_cli("scan", "a.env", "b.env", "--format", "html", "-o", str(report), cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    opened = visit(browser, report)
    opened.assert_clean(report)
    page = opened.page
    assert page.inner_text("#headline").strip() == "2 distinct keys (2 findings)"
    assert "New in this change" in page.inner_text("#by-exposure")
    assert page.locator("svg").count() == 0
    page.context.close()


def test_an_incomplete_audit_says_what_was_not_scanned(
    browser: Any, tmp_path: Path, rng: random.Random
) -> None:
    origin = Repo(tmp_path / "origin")
    origin.write("a.txt", keys.tavily_current(rng))
    origin.commit("one")
    origin.commit("two")
    clone = tmp_path / "shallow"
    subprocess.run(
        ["git", "clone", "-q", "--depth", "1", origin.path.as_uri(), str(clone)],
        check=True,
        env=git_env(),
    )
    report = tmp_path / "r.html"
    proc = run_cli("audit", ".", "--format", "html", "-o", str(report), cwd=clone)
    assert proc.returncode == 3, proc.stderr
    opened = visit(browser, report)
    opened.assert_clean(report)
    assert "Incomplete scan" in opened.page.inner_text("header.top")
    assert "shallow" in opened.page.inner_text("#not-scanned")
    opened.page.context.close()


def test_nothing_found_is_said() -> None:
    html = _html(scan([Blob("a.txt", b"nothing here\n")]))
    assert "No Tavily or ScrapeGraphAI API keys found." in html and "<table id=" not in html


def test_a_large_table_in_parts_sorts_and_filters_as_one(browser: Any, tmp_path: Path) -> None:
    """Rows come in tables of 500 (laid out only near the screen); sorting and filtering
    treat them as one table, and every part keeps its size."""
    from bench.html_report import audit_result

    result = audit_result(1_234, 300)
    page_path = tmp_path / "big.html"
    page_path.write_text(_html(result), encoding="utf-8")
    page = visit(browser, page_path).page
    sizes = page.eval_on_selector_all("#findings tbody", "bs => bs.map(b => b.rows.length)")
    assert sizes == [500, 500, 234]
    page.click("#findings th >> text=Path")
    paths = page.eval_on_selector_all(
        "#findings tbody tr", "rs => rs.map(r => r.cells[4].textContent)"
    )
    assert len(paths) == 1_234 and paths == sorted(paths, key=str.lower)
    assert page.eval_on_selector_all("#findings tbody", "bs => bs.map(b => b.rows.length)") == sizes
    page.fill("input[name=path]", "mod3/")
    expected = sum(1 for p in paths if "mod3/" in p.lower())
    assert page.inner_text("#shown-count") == str(expected)


def test_cli_keeps_html_redacted_unless_asked_for_this_format(
    tmp_path: Path, rng: random.Random
) -> None:
    key = keys.tavily_current(rng)
    (tmp_path / "k.env").write_text(f"TAVILY_API_KEY={key}\n")
    shown = run_cli(
        "scan", "k.env", "--format", "html", "-o", "r.html", "--show-secrets", cwd=tmp_path
    )
    assert shown.returncode == 1 and key not in (tmp_path / "r.html").read_text()
    both = ("--show-secrets", "--show-secrets-in-html")
    clear = run_cli("scan", "k.env", "--format", "html", "-o", "c.html", *both, cwd=tmp_path)
    assert clear.returncode == 1 and key in (tmp_path / "c.html").read_text()
    alone = run_cli("scan", "k.env", "--format", "html", "--show-secrets-in-html", cwd=tmp_path)
    assert alone.returncode == 2 and key not in alone.stdout + alone.stderr


def test_a_commit_dated_at_the_end_of_time_is_no_error(tmp_path: Path, rng: random.Random) -> None:
    """The timeline adds a day to its dates: a commit dated 9999-12-31 (a repository can
    say so) ended the report in OverflowError (found by a review)."""
    repo = Repo(tmp_path / "r")
    repo.write("c.py", f"K = '{keys.sgai_uuid(rng)}'\n")
    repo.add("c.py")
    env = {"GIT_AUTHOR_DATE": "@253402300799 +0000", "GIT_COMMITTER_DATE": "@253402300799 +0000"}
    subprocess.run(
        ["git", "commit", "-q", "--no-gpg-sign", "-m", "far away"],
        cwd=repo.path,
        env={**git_env(), **env},
        check=True,
    )
    proc = run_cli("audit", ".", "--format", "html", "-o", "out.html", cwd=repo.path)
    assert proc.returncode == 1 and "internal error" not in proc.stderr, proc.stderr
    assert "9999" in (repo.path / "out.html").read_text()


def test_timeline_ticks_say_the_time_when_they_are_less_than_a_day_apart() -> None:
    from datetime import datetime, timedelta, timezone

    from sgai_guard.report.timeline import _Scale

    start = datetime(2026, 12, 5, 8, 0, tzinfo=timezone.utc)
    short = [tick.label for tick in _Scale(start, start + timedelta(days=1)).ticks()]
    assert len(set(short)) == len(short) and short[1] == "2026-12-05 14:00", short
    long = [tick.label for tick in _Scale(start, start + timedelta(days=40)).ticks()]
    assert long[0] == "2026-12-05" and len(set(long)) == len(long), long


def test_keys_added_within_minutes_are_drawn_on_an_hour_s_scale(
    tmp_path: Path, rng: random.Random
) -> None:
    """Found by a newcomer review: keys added in the same minute drew on a day's scale."""
    repo = Repo(tmp_path)
    at = "2026-01-01T08:00:00Z"
    env = {**git_env(), "GIT_AUTHOR_DATE": at, "GIT_COMMITTER_DATE": at}
    for n, text in enumerate((keys.sgai_uuid(rng), keys.tavily_current(rng), "gone")):
        (repo.path / "k.env").write_text(f"K{n}={text}\n")
        repo.add("k.env")
        commit = ["git", "commit", "-q", "--no-gpg-sign", "-m", f"c{n}"]
        subprocess.run(commit, cwd=repo.path, env=env, check=True)
    proc = run_cli("audit", ".", "--format", "html", "-o", "out.html", cwd=repo.path)
    assert proc.returncode == 1, proc.stderr
    page = (repo.path / "out.html").read_text()
    assert "2026-01-01 09:00" in page and "2026-01-02" not in page
