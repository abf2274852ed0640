"""`sgai-guard repos github|gitlab`: pagination, filters, both rate limits, and a base URL
and token only the person running the tool chooses."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from sgai_guard.platforms import api, listing
from tests.api_standin import Plan, serving
from tests.cli_helpers import run_cli

TOKEN = "test-token-not-a-key"


def _github_repos() -> list[dict[str, Any]]:
    repos = []
    for n in range(5):
        repos.append(
            {
                "clone_url": f"https://github.example/org/r{n}.git",
                "ssh_url": f"git@github.example:org/r{n}.git",
                "archived": n == 1,
                "fork": n == 2,
            }
        )
    return repos


def _gitlab_projects() -> list[dict[str, Any]]:
    projects = []
    for n in range(5):
        item: dict[str, Any] = {
            "http_url_to_repo": f"https://gitlab.example/group/sub/p{n}.git",
            "ssh_url_to_repo": f"git@gitlab.example:group/sub/p{n}.git",
            "archived": n == 3,
        }
        if n == 4:
            item["forked_from_project"] = {"id": 1}
        projects.append(item)
    return projects


def test_github_pages_filters_and_both_rate_limits(tmp_path: Path) -> None:
    plan = Plan(_github_repos())
    plan.primary_on = {2}
    plan.secondary_on = {3}
    with serving(plan) as base:
        started = time.monotonic()
        proc = run_cli(
            "repos", "github", "org", "--api-url", base, cwd=tmp_path, env={"GITHUB_TOKEN": TOKEN}
        )
        waited = time.monotonic() - started
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == [f"https://github.example/org/r{n}.git" for n in range(5)]
    assert waited >= 1.5  # the reset time and the Retry-After were both waited out
    assert proc.stderr.count("rate limit reached, waiting") == 2
    assert "5 repositories listed" in proc.stderr
    pages = [path for path, _ in plan.requests]
    assert pages[0] == "/orgs/org/repos?per_page=100&type=all"
    assert sum("page=2" in p for p in pages) == 2 and sum("page=3" in p for p in pages) == 2
    assert all(h.get("authorization") == f"Bearer {TOKEN}" for _, h in plan.requests)
    assert TOKEN not in proc.stdout + proc.stderr


def test_github_filters_ssh_and_user_fallback(tmp_path: Path) -> None:
    plan = Plan(_github_repos())
    with serving(plan) as base:
        proc = run_cli(
            "repos",
            "github",
            "org",
            "--no-archived",
            "--no-forks",
            "--ssh",
            cwd=tmp_path,
            env={"SGAI_GUARD_GITHUB_API": base},
        )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == [f"git@github.example:org/r{n}.git" for n in (0, 3, 4)]
    assert all("authorization" not in h for _, h in plan.requests)  # no token: none sent


def test_gitlab_pages_filters_and_retry_after(tmp_path: Path) -> None:
    plan = Plan(_gitlab_projects())
    plan.secondary_on = {2}
    with serving(plan, gitlab=True) as base:
        proc = run_cli(
            "repos",
            "gitlab",
            "group/sub",
            "--api-url",
            base,
            "--no-archived",
            "--no-forks",
            cwd=tmp_path,
            env={"GITLAB_TOKEN": TOKEN},
        )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == [f"https://gitlab.example/group/sub/p{n}.git" for n in (0, 1, 2)]
    first = plan.requests[0][0]
    assert first.startswith("/api/v4/groups/group%2Fsub/projects?")
    assert "include_subgroups=true" in first and "archived=false" in first
    assert "rate limit reached, waiting 1 s" in proc.stderr
    assert all(h.get("private-token") == TOKEN for _, h in plan.requests)
    assert TOKEN not in proc.stdout + proc.stderr


def test_gitlab_primary_limit_reset(tmp_path: Path) -> None:
    plan = Plan(_gitlab_projects())
    plan.primary_on = {1}
    with serving(plan, gitlab=True) as base:
        proc = run_cli("repos", "gitlab", "7", "--api-url", base, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert len(proc.stdout.split()) == 5


def test_a_wait_longer_than_max_wait_fails_incomplete(tmp_path: Path) -> None:
    plan = Plan(_github_repos())
    plan.primary_on = {1}
    with serving(plan) as base:
        proc = run_cli(
            "repos", "github", "org", "--api-url", base, "--max-wait", "0.5", cwd=tmp_path
        )
    assert proc.returncode == 3
    assert "longer than --max-wait" in proc.stderr


def test_api_url_is_https_or_loopback_only_and_never_from_a_repository(tmp_path: Path) -> None:
    for url in ("http://api.example.com", "https://user:pw@api.example.com", "ftp://x"):
        proc = run_cli("repos", "github", "org", "--api-url", url, cwd=tmp_path)
        assert proc.returncode == 2, (url, proc.stderr)
        assert "pw" not in proc.stderr
    # a repository's own configuration has no say: the only sources are option and environment
    (tmp_path / ".sgai-guard.toml").write_text('github-api = "http://127.0.0.1:9"\n')
    proc = run_cli("repos", "github", "org", "--api-url", "http://example.com", cwd=tmp_path)
    assert proc.returncode == 2


def test_a_next_page_on_another_origin_is_refused(tmp_path: Path) -> None:
    plan = Plan(_github_repos())
    with serving(plan) as base:
        plan.base = "http://127.0.0.2:1"  # the Link header now points elsewhere
        proc = run_cli(
            "repos", "github", "org", "--api-url", base, cwd=tmp_path, env={"GITHUB_TOKEN": TOKEN}
        )
    assert proc.returncode == 3
    assert "another origin" in proc.stderr
    assert len(plan.requests) == 1


def test_clone_urls_a_server_makes_up_are_skipped(tmp_path: Path) -> None:
    repos = [
        {"clone_url": "ext::sh -c touch% /tmp/x"},
        {"clone_url": "file:///etc"},
        {"clone_url": "https://ok.example/a.git\nhttps://evil.example/b.git"},
        {"clone_url": "https://ok.example/c.git"},
        # a targets file is pasted into shell scripts and CI templates (found by a review:
        # the README's matrix ran these)
        {"clone_url": "https://git.example/o/x$(touch${IFS}/tmp/pwned).git"},
        {"clone_url": 'https://git.example/o/y"`id>/tmp/pwned`".git'},
        {"clone_url": "https://git.example/o/z;id.git"},
        {"clone_url": "git@git.example:o/$(id).git"},
        {"clone_url": "https://u$(id)@git.example/o/w.git"},
        {"clone_url": "ssh://-oProxyCommand=x@git.example/o/v.git"},  # an ssh option
        {"clone_url": "https://git.example:\u0663/o/u.git"},  # a digit, but not an ASCII one
    ]
    with serving(Plan(repos, per_page=10)) as base:
        proc = run_cli("repos", "github", "org", "--api-url", base, cwd=tmp_path)
    # what is left is printed, and the listing is said to be incomplete (exit 3)
    assert proc.returncode == 3, proc.stderr
    assert proc.stdout.splitlines() == ["https://ok.example/c.git"]
    assert proc.stderr.count("skipping a repository") == 10
    assert "10 listed item(s) were left out" in proc.stderr


def test_a_server_cannot_list_local_paths_or_page_forever(tmp_path: Path) -> None:
    hostile = [
        {"clone_url": url, "archived": False, "fork": False}
        for url in ("/home/ci/private", "victim", ".", "file:///srv/x", "-upload", "git@h:ok/r.git")
    ]
    hostile.append("not an object")  # type: ignore[arg-type]
    with serving(Plan(hostile, per_page=10)) as base:
        proc = run_cli("repos", "github", "org", "--api-url", base, cwd=tmp_path)
    assert proc.returncode == 3, proc.stderr
    assert proc.stdout.split() == ["git@h:ok/r.git"]
    assert proc.stderr.count("skipping a repository the API listed") == 6  # the string too
    plan = Plan(_github_repos())
    plan.loop = True
    with serving(plan) as base:
        proc = run_cli("repos", "github", "org", "--api-url", base, cwd=tmp_path, timeout=60)
    assert proc.returncode != 0 and "the pages do not end" in proc.stderr


def test_an_answer_that_is_no_page_is_an_error(tmp_path: Path) -> None:
    """A redirect (never followed) or a 204 whose body is [] is no empty organisation (found
    by a review: "0 repositories listed", exit 0)."""
    for status in (302, 204, 201):
        plan = Plan([])
        plan.status = status
        with serving(plan) as base:
            proc = run_cli("repos", "github", "org", "--api-url", base, cwd=tmp_path)
        assert proc.returncode == 3, (status, proc.stderr)
        assert f"HTTP {status}, not a page of the listing" in proc.stderr


def test_a_page_too_large_is_refused_as_it_comes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The page limit is counted while the page arrives, not once it is all in memory."""
    monkeypatch.setattr(api, "MAX_PAGE_BYTES", 1 << 20)
    plan = Plan(_github_repos())
    plan.padding = 64 << 20
    with serving(plan) as base, pytest.raises(api.ApiError, match="a page larger than"):
        list(listing.github("org", listing.Filters(), api_url=base, max_wait=1, environ={}))
    assert plan.sent < 16 << 20  # it stopped reading: the whole page was never held
    assert api.Api(base, {}, 1).client.headers["accept-encoding"] == "identity"


def test_a_page_dripping_a_byte_at_a_time_ends(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """httpx's timeout bounds each read only: a page has a deadline of its own (found by a
    review: a byte every 5 s kept the listing going for ever)."""
    monkeypatch.setattr(api, "PAGE_SECONDS", 1.0)
    plan = Plan(_github_repos())
    plan.drip = 0.05
    started = time.monotonic()
    with serving(plan) as base, pytest.raises(api.ApiError, match="took more than 1 s"):
        list(listing.github("org", listing.Filters(), api_url=base, max_wait=1, environ={}))
    assert time.monotonic() - started < 30


def test_a_token_with_a_line_end_is_never_shown(tmp_path: Path) -> None:
    """A token read from a file keeps its line end; httpx's error quoted the header, token
    and all (found by a review). The line end is dropped; any other space or control
    character is refused without showing the token."""
    plan = Plan(_github_repos())
    with serving(plan) as base:
        api_url = ("--api-url", base)
        ok = run_cli(
            "repos", "github", "org", *api_url, cwd=tmp_path, env={"GITHUB_TOKEN": f"{TOKEN}\n"}
        )
        bad = run_cli(
            "repos", "gitlab", "g", *api_url, cwd=tmp_path, env={"GITLAB_TOKEN": f"{TOKEN}\rx"}
        )
    assert ok.returncode == 0, ok.stderr
    assert all(h.get("authorization") == f"Bearer {TOKEN}" for _, h in plan.requests)
    assert bad.returncode == 2, bad.stderr
    assert "GITLAB_TOKEN holds a space or control character" in bad.stderr
    assert TOKEN not in ok.stderr + bad.stderr + bad.stdout


def test_clone_urls_the_platforms_really_give_are_kept(tmp_path: Path) -> None:
    """Self-hosted servers have ports, subgroups, IPv6 literals and docker-style host names
    (a second review found the last two refused). An scp-like address with an IPv6 literal
    holds "::", which the audit refuses as a transport helper's: ssh:// serves it."""
    urls = [
        "https://github.com/org/repo.git",
        "git@github.com:org/repo.git",
        "https://ghe.example.com:8443/org/repo.git",
        "ssh://git@gitlab.example.com:2222/group/sub/project.git",
        "https://[2001:db8::1]/group/project.git",
        "https://gitlab_web/group/project.git",
    ]
    with serving(Plan([{"clone_url": url} for url in urls], per_page=10)) as base:
        proc = run_cli("repos", "github", "org", "--api-url", base, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == urls
