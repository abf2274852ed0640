"""`sgai-guard ci`: CI environments, shallow clones, and the report formats CI systems read."""

from __future__ import annotations

import json
import random
import re
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from sgai_guard.report.github import escape_data, escape_property
from tests import keys
from tests.cli_helpers import run_cli
from tests.gitrepo import Repo, git_env
from tests.hostile import origin_with_feature, shallow_clone

SARIF_SCHEMA = json.loads(
    (Path(__file__).resolve().parent.parent / "fixtures" / "sarif-schema-2.1.0.json").read_text()
)


def run_ci(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`sgai-guard ci` fetching from the test's origin, a local repository: a file URL is
    allowed only when the user gives it (a repository's own config may not point there)."""
    origin = (cwd.parent / "origin").as_uri()
    return run_cli("ci", "--remote-url", origin, *args, cwd=cwd, env=env)


def _origin(tmp_path: Path, rng: random.Random) -> tuple[Repo, str, str, str]:
    """origin: main with history; feature adds a key. Returns (repo, base, head, key)."""
    return origin_with_feature(tmp_path, rng, main_commits=6)


def _shallow_clone(origin: Repo, target: Path, branch: str) -> Path:
    return shallow_clone(origin, target, branch).path


def _github_env(tmp_path: Path, event: str, payload: dict[str, Any]) -> dict[str, str]:
    path = tmp_path / "event.json"
    path.write_text(json.dumps(payload))
    return {
        "GITHUB_ACTIONS": "true",
        "GITHUB_EVENT_NAME": event,
        "GITHUB_EVENT_PATH": str(path),
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
    }


def test_done_when_pull_request_on_depth_1_clone(tmp_path: Path, rng: random.Random) -> None:
    origin, base, head, key = _origin(tmp_path, rng)
    work = _shallow_clone(origin, tmp_path / "work", "feature")
    env = _github_env(
        tmp_path,
        "pull_request",
        {
            "number": 7,
            "pull_request": {
                "base": {"sha": base, "ref": "main"},
                "head": {"sha": head, "ref": "feature"},
            },
        },
    )
    proc = run_ci("--format", "sarif", "--output", "out.sarif", cwd=work, env=env)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    sarif = json.loads((work / "out.sarif").read_text())
    jsonschema.validate(sarif, SARIF_SCHEMA)
    [result] = sarif["runs"][0]["results"]
    assert result["ruleId"] == "tavily-api-key"
    location = result["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "app/settings.py"
    assert location["region"] == {"startLine": 1, "startColumn": 11}
    assert result["fingerprints"]["sgaiGuardSecret/v1"]
    assert result["partialFingerprints"]["primaryLocationLineHash"].endswith(":1")
    rules = sarif["runs"][0]["tool"]["driver"]["rules"]
    assert "app.tavily.com" in rules[result["ruleIndex"]]["help"]["text"]
    annotations = run_ci("--format", "github", cwd=work, env=env)
    assert annotations.returncode == 1
    assert annotations.stdout.startswith("::error file=app/settings.py,line=1,col=11,title=")
    summary = (tmp_path / "summary.md").read_text()
    assert "## sgai-guard" in summary and "`app/settings.py`:1" in summary
    for text in ((work / "out.sarif").read_text(), annotations.stdout, summary, proc.stderr):
        assert key not in text


def test_unreachable_base_exits_3_with_the_fix(tmp_path: Path, rng: random.Random) -> None:
    origin, base, head, _ = _origin(tmp_path, rng)
    work = _shallow_clone(origin, tmp_path / "work", "feature")
    Repo.existing(work).git("remote", "remove", "origin")
    env = _github_env(
        tmp_path, "pull_request", {"pull_request": {"base": {"sha": base}, "head": {"sha": head}}}
    )
    proc = run_cli("ci", cwd=work, env=env)
    assert proc.returncode == 3
    assert "fetch-depth: 0" in proc.stdout and "could not be fetched" in proc.stdout


def test_history_that_never_connects_exits_3(tmp_path: Path, rng: random.Random) -> None:
    origin, _, head, _ = _origin(tmp_path, rng)
    other = Repo(tmp_path / "unrelated")
    unrelated = other.commit("an unrelated root")
    origin.git("fetch", "-q", str(other.path), f"{unrelated}:refs/heads/unrelated")
    work = _shallow_clone(origin, tmp_path / "work", "feature")
    proc = run_ci("--base", unrelated, "--head", head, cwd=work)
    assert proc.returncode == 3 and "share no history" in proc.stdout


def test_push_event_range_and_new_branch(tmp_path: Path, rng: random.Random) -> None:
    origin, base, head, _ = _origin(tmp_path, rng)
    work = tmp_path / "work"
    subprocess.run(
        ["git", "clone", "-q", "--branch", "feature", f"file://{origin.path}", str(work)],
        check=True,
        env=git_env(),
    )
    pushed = _github_env(
        tmp_path, "push", {"before": base, "after": head, "ref": "refs/heads/feature"}
    )
    proc = run_ci("--format", "json", cwd=work, env=pushed)
    assert proc.returncode == 1 and json.loads(proc.stdout)["scanned"]["commits"] == 2
    new_branch = _github_env(
        tmp_path, "push", {"before": "0" * 40, "after": head, "ref": "refs/heads/feature"}
    )
    proc = run_ci("--format", "json", cwd=work, env=new_branch)
    report = json.loads(proc.stdout)
    assert proc.returncode == 1 and report["scanned"]["commits"] == 2, report


def test_new_branch_push_on_shallow_clone_deepens(tmp_path: Path, rng: random.Random) -> None:
    origin, _, head, _ = _origin(tmp_path, rng)
    work = _shallow_clone(origin, tmp_path / "work", "feature")
    env = _github_env(
        tmp_path, "push", {"before": "0" * 40, "after": head, "ref": "refs/heads/feature"}
    )
    proc = run_ci("--format", "json", cwd=work, env=env)
    report = json.loads(proc.stdout)
    assert proc.returncode == 1, report
    assert report["scanned"]["commits"] == 2


def test_same_base_and_head_is_said(tmp_path: Path, rng: random.Random) -> None:
    origin, _, head, _ = _origin(tmp_path, rng)
    work = _shallow_clone(origin, tmp_path / "work", "feature")
    proc = run_ci("--base", head, "--head", head, cwd=work)
    assert proc.returncode == 0 and "base and head are the same commit" in proc.stdout


def test_scheduled_run_audits_everything(tmp_path: Path, rng: random.Random) -> None:
    origin, _, _, _ = _origin(tmp_path, rng)
    env = _github_env(tmp_path, "schedule", {})
    proc = run_ci("--format", "json", cwd=origin.path, env=env)
    report = json.loads(proc.stdout)
    assert proc.returncode == 1 and report["findings"][0]["exposure"]["at_head"] is False


def test_gitlab_merge_request_pipeline_and_report(tmp_path: Path, rng: random.Random) -> None:
    origin, base, head, key = _origin(tmp_path, rng)
    work = _shallow_clone(origin, tmp_path / "work", "feature")
    env = {
        "GITLAB_CI": "true",
        "CI_PIPELINE_SOURCE": "merge_request_event",
        "CI_MERGE_REQUEST_DIFF_BASE_SHA": base,
        "CI_COMMIT_SHA": head,
    }
    proc = run_ci("--format", "gitlab", "-o", "gl.json", cwd=work, env=env)
    assert proc.returncode == 1, proc.stderr
    text = (work / "gl.json").read_text()
    assert key not in text
    report = json.loads(text)
    assert report["scan"]["type"] == "secret_detection" and report["scan"]["status"] == "success"
    [vuln] = report["vulnerabilities"]
    assert vuln["location"]["file"] == "app/settings.py" and vuln["location"]["start_line"] == 1
    assert vuln["location"]["commit"]["sha"] and vuln["identifiers"][0]["value"]
    assert vuln["severity"] == "Critical"
    assert set(vuln) == {
        "id",
        "name",
        "description",
        "severity",
        "solution",
        "location",
        "identifiers",
    }
    for stamp in (report["scan"]["start_time"], report["scan"]["end_time"]):
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}", stamp)
    assert report["version"] in report["schema"]


def test_outside_ci_needs_base(tmp_path: Path) -> None:
    Repo(tmp_path).commit("root")
    proc = run_ci(cwd=tmp_path)
    assert proc.returncode == 2 and "--base" in proc.stderr


def test_markdown_and_incomplete_sarif(tmp_path: Path, rng: random.Random) -> None:
    origin, base, head, key = _origin(tmp_path, rng)
    md = run_ci("--base", base, "--head", head, "--format", "markdown", cwd=origin.path)
    assert md.returncode == 1 and "| Tavily |" in md.stdout and key not in md.stdout
    work = _shallow_clone(origin, tmp_path / "work", "feature")
    Repo.existing(work).git("remote", "remove", "origin")
    sarif = run_cli("ci", "--base", base, "--head", head, "--format", "sarif", cwd=work)
    assert sarif.returncode == 3
    data = json.loads(sarif.stdout)
    jsonschema.validate(data, SARIF_SCHEMA)
    assert data["runs"][0]["invocations"][0]["executionSuccessful"] is False


@pytest.mark.parametrize(
    ("raw", "data", "prop"),
    [
        ("a%b", "a%25b", "a%25b"),
        ("x\ny\r", "x%0Ay%0D", "x%0Ay%0D"),
        ("p:q,r", "p:q,r", "p%3Aq%2Cr"),
    ],
)
def test_workflow_command_escaping(raw: str, data: str, prop: str) -> None:
    assert escape_data(raw) == data and escape_property(raw) == prop


def test_sarif_with_suppressions_is_valid(tmp_path: Path, rng: random.Random) -> None:
    key = keys.sgai_uuid(rng)
    (tmp_path / "dir with space").mkdir()
    (tmp_path / "dir with space" / "a.txt").write_text(
        f"{keys.tavily_current(rng)}  # sgai-guard: allow demo\n{key}\ntvly-{'x' * 32}\n"
    )
    proc = run_cli("scan", ".", "--format", "sarif", "--show-suppressed", cwd=tmp_path)
    assert proc.returncode == 1
    data = json.loads(proc.stdout)
    jsonschema.validate(data, SARIF_SCHEMA)
    results = data["runs"][0]["results"]
    assert results[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == (
        "dir%20with%20space/a.txt"
    )
    kinds = sorted(r["suppressions"][0]["kind"] for r in results if "suppressions" in r)
    assert kinds == ["external", "inSource"]
    assert key not in proc.stdout


@pytest.mark.parametrize("start", ["main", "orphan"])
def test_a_new_branch_cannot_exclude_its_own_key(
    tmp_path: Path, rng: random.Random, start: str
) -> None:
    """Found by an attacker review: a push creating a branch has no base, and the branch's
    own configuration judged it, so a branch excluding the folder of the key it added passed
    (exit 0). It is judged by the configuration of the commit it starts from, or by none."""
    origin = Repo(tmp_path / "origin")
    origin.write("README.md", "project\n")
    origin.write(".sgai-guard.toml", 'exclude-paths = ["fixtures/"]\n')
    origin.commit("base")
    if start == "orphan":
        origin.git("checkout", "-q", "--orphan", "feature")
        origin.git("rm", "-q", "-r", "--cached", ".")
    else:
        origin.git("checkout", "-q", "-b", "feature")
    origin.write("app/settings.py", f"KEY = '{keys.tavily_current(rng)}'\n")
    origin.write(".sgai-guard.toml", 'exclude-paths = ["app/"]\n')
    head = origin.commit("a key, and a configuration that excludes it", "app", ".sgai-guard.toml")
    report = _pushed_new_branch(tmp_path, origin, head)
    assert report["code"] == 1, report
    assert [f["path"] for f in report["findings"]] == ["app/settings.py"]
    said = "this new branch edits .sgai-guard.toml" if start == "main" else "no known commit"
    assert any(said in n for n in report["notices"]), report["notices"]


def _pushed_new_branch(tmp_path: Path, origin: Repo, head: str) -> dict[str, Any]:
    work = tmp_path / "work"
    subprocess.run(
        [
            "git",
            "clone",
            "-q",
            "--no-single-branch",
            "--branch",
            "feature",
            f"file://{origin.path}",
            str(work),
        ],
        check=True,
        env=git_env(),
    )
    env = _github_env(
        tmp_path, "push", {"before": "0" * 40, "after": head, "ref": "refs/heads/feature"}
    )
    proc = run_ci("--format", "json", cwd=work, env=env)
    return {"code": proc.returncode, **json.loads(proc.stdout)}


def test_a_new_branch_that_merges_main_is_judged_as_main_was(
    tmp_path: Path, rng: random.Random
) -> None:
    """Found by a review of the fix above: a feature branch that merged main after main
    changed pyproject.toml (a dependency bump) was judged with no configuration, and its
    fixture key, which the configuration excludes, blocked. Merges bring in what a known
    branch changed; the branch is judged from where its own line meets main."""
    origin = Repo(tmp_path / "origin")
    origin.write(".sgai-guard.toml", 'exclude-paths = ["tests/fixtures/"]\n')
    origin.write("pyproject.toml", '[project]\nname = "x"\ndependencies = ["requests<2"]\n')
    origin.commit("base")
    origin.git("checkout", "-q", "-b", "feature")
    origin.write("tests/fixtures/k.env", f"K={keys.sgai_uuid(rng)}\n")
    origin.commit("a fixture")
    origin.git("checkout", "-q", "main")
    origin.write("pyproject.toml", '[project]\nname = "x"\ndependencies = ["requests<3"]\n')
    origin.commit("bump")
    origin.git("checkout", "-q", "feature")
    origin.git("merge", "-q", "--no-edit", "--no-gpg-sign", "main")
    report = _pushed_new_branch(tmp_path, origin, origin.head())
    assert report["code"] == 0, report
    assert [s["reason"] for s in report["suppressed"]] == ["path"], report


def test_the_first_push_of_a_history_is_judged_by_its_own_configuration(
    tmp_path: Path, rng: random.Random
) -> None:
    """Nothing is known yet: its own configuration is all there is (a baseline included)."""
    origin = Repo(tmp_path / "origin")
    origin.git("checkout", "-q", "-b", "feature")
    origin.write(".sgai-guard.toml", 'exclude-paths = ["tests/fixtures/"]\n')
    origin.write("tests/fixtures/k.env", f"K={keys.sgai_uuid(rng)}\n")
    head = origin.commit("first")
    report = _pushed_new_branch(tmp_path, origin, head)
    assert report["code"] == 0, report


def _two_new_branches(tmp_path: Path, rng: random.Random) -> tuple[Repo, str, str]:
    """origin: main, and two branches one push created at once: `feature` adds a key,
    `feature-more` is feature plus a clean commit. Returns (origin, feature's, more's tip)."""
    origin, _, head, _ = _origin(tmp_path, rng)
    origin.git("checkout", "-q", "-b", "feature-more", "feature")
    origin.write("app/more.py", "y = 2\n")
    more = origin.commit("more")
    origin.git("checkout", "-q", "main")
    return origin, head, more


@pytest.mark.parametrize("system", ["github", "gitlab"])
@pytest.mark.parametrize("shallow", [False, True])
def test_two_new_branches_pushed_at_once_do_not_vouch_for_each_other(
    tmp_path: Path, rng: random.Random, system: str, shallow: bool
) -> None:
    """From session 10's left-alone list: each new branch's run left out what any other
    branch holds, so `git push origin feature feature-more` scanned the key in neither run.
    The default branch alone vouches now, as the platform names it."""
    origin, head, more = _two_new_branches(tmp_path, rng)
    for branch, tip in (("feature", head), ("feature-more", more)):
        work = tmp_path / f"work-{branch}"
        if shallow:
            _shallow_clone(origin, work, branch)
        else:
            clone = ["git", "clone", "-q", "--branch", branch, origin.path.as_uri(), str(work)]
            subprocess.run(clone, check=True, env=git_env())
        env = _new_branch_env(tmp_path, system, branch, tip, "main")
        proc = run_ci("--format", "json", cwd=work, env=env)
        report = json.loads(proc.stdout)
        assert proc.returncode == 1, (branch, report)
        assert [f["path"] for f in report["findings"]] == ["app/settings.py"], branch
        assert report["scanned"]["commits"] == (2 if branch == "feature" else 3), report


def _new_branch_env(
    tmp_path: Path, system: str, branch: str, tip: str, default: str | None
) -> dict[str, str]:
    if system == "gitlab":
        env = {"GITLAB_CI": "true", "CI_COMMIT_SHA": tip, "CI_COMMIT_BEFORE_SHA": "0" * 40}
        env["CI_COMMIT_BRANCH"] = branch
        return env | ({"CI_DEFAULT_BRANCH": default} if default else {})
    payload: dict[str, Any] = {"before": "0" * 40, "after": tip, "ref": f"refs/heads/{branch}"}
    if default:
        payload["repository"] = {"default_branch": default}
    return _github_env(tmp_path, "push", payload)


def test_a_new_branch_at_the_default_branchs_tip_and_a_first_push(
    tmp_path: Path, rng: random.Random
) -> None:
    """A branch made where main is adds nothing; main itself pushed new (a history's first
    push) has all of its history scanned; a default branch the clone lacks falls back to
    every other branch."""
    origin, _, head, _ = _origin(tmp_path, rng)
    work = _clone(origin, tmp_path)
    main = origin.head()
    env = _new_branch_env(tmp_path, "github", "copy", main, "main")
    code = run_ci("--format", "json", cwd=work, env=env)
    assert code.returncode == 0 and json.loads(code.stdout)["scanned"]["commits"] == 0
    origin.git("checkout", "-q", "feature")
    first = _new_branch_env(tmp_path, "github", "feature", head, "feature")
    proc = run_ci("--format", "json", cwd=work, env=first)
    report = json.loads(proc.stdout)
    assert proc.returncode == 1 and report["scanned"]["commits"] == 8, report
    lacking = _new_branch_env(tmp_path, "github", "feature", head, "trunk")
    proc = run_ci("--format", "json", cwd=work, env=lacking)
    report = json.loads(proc.stdout)
    assert proc.returncode == 1 and report["scanned"]["commits"] == 2, report


def test_a_default_branch_a_shallow_clone_cannot_find_falls_back(
    tmp_path: Path, rng: random.Random
) -> None:
    """A default branch the remote does not have (renamed since, say): in a depth-1 clone
    every other branch vouches, as before, instead of git failing on the missing ref."""
    origin, _, head, _ = _origin(tmp_path, rng)
    work = _shallow_clone(origin, tmp_path / "work", "feature")
    env = _new_branch_env(tmp_path, "github", "feature", head, "trunk")
    proc = run_ci("--format", "json", cwd=work, env=env)
    report = json.loads(proc.stdout)
    assert proc.returncode == 1 and report["scanned"]["commits"] == 2, report


def _tag_env(tmp_path: Path, system: str, tag: str, tag_id: str, commit: str) -> dict[str, str]:
    """A pushed new tag as each platform tells it: GitHub's `after` is the tag object (an
    annotated tag), GitLab's CI_COMMIT_SHA the commit it points at."""
    if system == "gitlab":
        return {
            "GITLAB_CI": "true",
            "CI_COMMIT_SHA": commit,
            "CI_COMMIT_BEFORE_SHA": "0" * 40,
            "CI_COMMIT_TAG": tag,
            "CI_COMMIT_REF_NAME": tag,
            "CI_DEFAULT_BRANCH": "main",
        }
    payload = {
        "before": "0" * 40,
        "after": tag_id,
        "ref": f"refs/tags/{tag}",
        "repository": {"default_branch": "main"},
    }
    return _github_env(tmp_path, "push", payload)


def _clone(origin: Repo, tmp_path: Path) -> Path:
    """A whole clone of ``origin`` at tmp_path/work."""
    work = tmp_path / "work"
    subprocess.run(["git", "clone", "-q", origin.path.as_uri(), str(work)], check=True)
    return work


def _tag_run(
    tmp_path: Path, work: Path, system: str, tag: str, tag_id: str, commit: str
) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    """`sgai-guard ci --format json` in ``work`` for a pushed tag (see _tag_env)."""
    proc = run_ci("--format", "json", cwd=work, env=_tag_env(tmp_path, system, tag, tag_id, commit))
    return proc, json.loads(proc.stdout)


@pytest.mark.parametrize("system", ["github", "gitlab"])
@pytest.mark.parametrize("clone", ["full", "shallow", "without the tag"])
def test_a_pushed_tags_message_is_scanned(
    tmp_path: Path, rng: random.Random, system: str, clone: str
) -> None:
    """From session 10's left-alone list: a key in an annotated tag's message is published
    with the tag, but `ci` scanned only the commits the tag brings (none, for a tag of
    main's tip) and passed. A tag of a tag publishes the inner tag's message too."""
    origin, _, _, _ = _origin(tmp_path, rng)
    key, inner_key = keys.tavily_current(rng), keys.sgai_uuid(rng)
    main = origin.head()
    origin.git("tag", "-a", "--no-sign", "inner", "-m", f"inner\n\nSGAI_API_KEY={inner_key}\n")
    message = f"release 1.0\n\nTAVILY_API_KEY={key}\n"
    origin.git("tag", "-a", "--no-sign", "v1.0", "inner", "-m", message)
    tag_id = origin.git("rev-parse", "v1.0").strip()
    work = tmp_path / "work"
    if clone == "shallow":
        _shallow_clone(origin, work, "v1.0")
    else:
        subprocess.run(["git", "clone", "-q", origin.path.as_uri(), str(work)], check=True)
    if clone == "without the tag":  # the runner fetched the commit only: the tag is fetched
        Repo.existing(work).git("tag", "-d", "v1.0", "inner")
    env = _tag_env(tmp_path, system, "v1.0", tag_id, main)
    proc = run_ci("--format", "json", cwd=work, env=env)
    report = json.loads(proc.stdout)
    assert proc.returncode == 1, report
    found = sorted((f["path"], f["provider"]) for f in report["findings"])
    inner_id = origin.git("rev-parse", "inner").strip()
    assert found == sorted(
        [
            (f"(tag {inner_id[:12]} message)", "scrapegraphai"),
            (f"(tag {tag_id[:12]} message)", "tavily"),
        ]
    ), report
    assert key not in proc.stdout + proc.stderr
    assert {f["commit"] for f in report["findings"]} == {None}  # a tag is no commit
    # a tag of main's tip is judged by main's configuration, not by none at all
    assert not any("no known commit" in n for n in report["notices"]), report
    text = run_ci(cwd=work, env=env)
    assert text.returncode == 1 and "Nothing was scanned" not in text.stdout, text.stdout


@pytest.mark.parametrize("system", ["github", "gitlab"])
def test_a_lightweight_tag_has_no_message_to_scan(
    tmp_path: Path, rng: random.Random, system: str
) -> None:
    origin, _, _, _ = _origin(tmp_path, rng)
    main = origin.head()
    origin.git("tag", "v2", main)
    work = _shallow_clone(origin, tmp_path / "work", "v2")
    proc, report = _tag_run(tmp_path, work, system, "v2", main, main)
    assert proc.returncode == 0, report
    assert report["findings"] == [] and report["errors"] == [], report


@pytest.mark.parametrize("tag", ["v3", "bad..name", "-v3"])
def test_a_tag_that_cannot_be_read_is_said(tmp_path: Path, rng: random.Random, tag: str) -> None:
    """A tag the clone lacks and the remote cannot give, or a name that is no tag's (the
    pusher chose it): its message was not read, so the run is incomplete (exit 3)."""
    origin, _, _, _ = _origin(tmp_path, rng)
    main = origin.head()
    work = _shallow_clone(origin, tmp_path / "work", "main")
    proc, report = _tag_run(tmp_path, work, "gitlab", tag, main, main)
    assert proc.returncode == 3, report
    assert "its message was not read" in " ".join(report["incomplete"]), report


def _tag_of(origin: Repo, name: str, target: str, message: str, *, capitals: bool = False) -> str:
    """A hand-made annotated tag (git reads the id in its header in either case)."""
    kind = origin.git("cat-file", "-t", target).strip()
    named = target.upper() if capitals else target
    body = (
        f"object {named}\ntype {kind}\ntag {name}\ntagger A <a@example.invalid> 1 +0000\n\n"
        f"{message}\n"
    )
    made = origin.git(
        "hash-object", "-t", "tag", "-w", "--literally", "--stdin", stdin=body.encode()
    )
    origin.git("update-ref", f"refs/tags/{name}", made.strip())
    return made.strip()


@pytest.mark.parametrize("system", ["github", "gitlab"])
def test_a_tag_of_a_tag_named_in_capitals_is_followed(
    tmp_path: Path, rng: random.Random, system: str
) -> None:
    """Found by an attacker review: the inner tag's key passed with exit 0."""
    origin, _, _, _ = _origin(tmp_path, rng)
    main = origin.head()
    inner = _tag_of(origin, "inner", main, f"SGAI_API_KEY={keys.sgai_uuid(rng)}")
    outer = _tag_of(origin, "outer", inner, "clean", capitals=True)
    origin.git("tag", "-d", "inner")
    work = _clone(origin, tmp_path)
    proc, report = _tag_run(tmp_path, work, system, "outer", outer, main)
    assert proc.returncode == 1, report
    assert [f["path"] for f in report["findings"]] == [f"(tag {inner[:12]} message)"], report


def test_a_tag_that_leads_elsewhere_than_the_scanned_commit_is_said(
    tmp_path: Path, rng: random.Random
) -> None:
    """Found by an attacker review: GitLab names the commit a tag pipeline is for; a tag of a
    blob holding a key (or of another commit) scanned the tag's message alone, exit 0."""
    origin, _, _, _ = _origin(tmp_path, rng)
    main = origin.head()
    blob = origin.git(
        "hash-object", "-w", "--stdin", stdin=f"K={keys.tavily_current(rng)}\n".encode()
    )
    _tag_of(origin, "blobtag", blob.strip(), "just a blob")
    work = _clone(origin, tmp_path)
    proc, report = _tag_run(tmp_path, work, "gitlab", "blobtag", "", main)
    assert proc.returncode == 3, report
    assert "not at the commit this run scans" in " ".join(report["incomplete"]), report


def test_fetching_a_missing_tag_keeps_a_whole_clone_whole(
    tmp_path: Path, rng: random.Random
) -> None:
    """Found by an attacker review: the tag was fetched at depth 1 into a whole clone, which
    made it shallow; the walk then stopped at the boundary and the run said incomplete."""
    origin, _, head, _ = _origin(tmp_path, rng)
    origin.git("tag", "-a", "--no-sign", "rel", "-m", f"rel\n\nK={keys.tavily_current(rng)}", head)
    tag_id = origin.git("rev-parse", "rel").strip()
    work = _clone(origin, tmp_path)
    Repo.existing(work).git("tag", "-d", "rel")
    proc, report = _tag_run(tmp_path, work, "gitlab", "rel", tag_id, head)
    assert proc.returncode == 1 and report["incomplete"] == [], report
    assert sorted(f["path"] for f in report["findings"]) == [
        f"(tag {tag_id[:12]} message)",
        "app/settings.py",
    ], report
    assert not (work / ".git" / "shallow").exists()


def test_a_deleted_ref_publishes_nothing(tmp_path: Path, rng: random.Random) -> None:
    origin, _, _, _ = _origin(tmp_path, rng)
    work = _shallow_clone(origin, tmp_path / "work", "main")
    payload = {"before": origin.head(), "after": "0" * 40, "ref": "refs/heads/old"}
    proc = run_ci("--format", "json", cwd=work, env=_github_env(tmp_path, "push", payload))
    report = json.loads(proc.stdout)
    assert proc.returncode == 0 and report["incomplete"] == [], report
    assert any("deletion publishes nothing" in n for n in report["notices"]), report


def test_a_chain_of_too_many_tags_is_said(tmp_path: Path, rng: random.Random) -> None:
    origin, _, _, _ = _origin(tmp_path, rng)
    main = target = origin.head()
    for n in range(66):
        target = _tag_of(origin, f"t{n}", target, f"tag {n}")
    work = _clone(origin, tmp_path)
    proc, report = _tag_run(tmp_path, work, "github", "t65", target, main)
    assert proc.returncode == 3, report
    assert "a tag of more than 64 tags" in " ".join(report["incomplete"]), report


def test_a_github_tag_of_a_blob_scans_its_message_and_says_what_it_leads_to(
    tmp_path: Path, rng: random.Random
) -> None:
    """Found by a newcomer review: it was said to be a head commit the clone lacked, with
    advice to fetch more history, and the tag's own message went unscanned."""
    origin, _, _, _ = _origin(tmp_path, rng)
    blob = origin.git("hash-object", "-w", "--stdin", stdin=b"just data\n").strip()
    tag = _tag_of(origin, "blobtag", blob, f"K={keys.tavily_current(rng)}")
    work = _clone(origin, tmp_path)
    env = _tag_env(tmp_path, "github", "blobtag", tag, origin.head())
    proc = run_ci("--format", "json", cwd=work, env=env)
    report = json.loads(proc.stdout)
    assert proc.returncode in (1, 3), report
    assert [f["path"] for f in report["findings"]] == [f"(tag {tag[:12]} message)"], report
    assert report["incomplete"] == [
        "the pushed tag blobtag leads to a blob, not a commit: what it points at was not scanned"
    ], report


def test_a_lightweight_tag_of_a_blob_is_said(tmp_path: Path, rng: random.Random) -> None:
    origin, _, _, _ = _origin(tmp_path, rng)
    blob = origin.git("hash-object", "-w", "--stdin", stdin=b"just data\n").strip()
    origin.git("tag", "lw", blob)
    work = _clone(origin, tmp_path)
    proc, report = _tag_run(tmp_path, work, "github", "lw", blob, blob)
    assert proc.returncode == 3, report
    assert "the pushed tag lw leads to a blob, not a commit" in report["incomplete"][0], report


@pytest.mark.parametrize("system", ["github", "gitlab"])
def test_a_tag_push_whose_head_is_nowhere_says_so(
    tmp_path: Path, rng: random.Random, system: str
) -> None:
    """Found by an attacker review: a tag deleted or moved before the job fetched it made
    git's `cat-file -t` fail, an error (exit 2) instead of an incomplete run with advice."""
    origin, _, _, _ = _origin(tmp_path, rng)
    origin.git("tag", "-a", "--no-sign", "rel", "-m", "release")
    work = _clone(origin, tmp_path)
    gone = "1234567890" * 4
    proc, report = _tag_run(tmp_path, work, system, "rel", gone, gone)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert "could not be fetched" in report["incomplete"][0], report


def test_a_gitlab_lightweight_tag_of_a_blob_is_said(tmp_path: Path, rng: random.Random) -> None:
    """Found by an attacker review: only an annotated tag was checked to lead to the commit
    the pipeline is for; a lightweight tag of a blob holding a key passed, exit 0."""
    origin, _, _, _ = _origin(tmp_path, rng)
    blob = origin.git(
        "hash-object", "-w", "--stdin", stdin=f"K={keys.tavily_current(rng)}\n".encode()
    )
    origin.git("tag", "light", blob.strip())
    work = _clone(origin, tmp_path)
    main = origin.head()
    proc, report = _tag_run(tmp_path, work, "gitlab", "light", "", main)
    assert proc.returncode == 3, report
    assert "not at the commit this run scans" in report["incomplete"][0], report


def test_github_naming_a_blob_for_a_tag_the_clone_has_otherwise(
    tmp_path: Path, rng: random.Random
) -> None:
    """Found by an attacker review: said 'leads to a commit, not a commit'."""
    origin, _, _, _ = _origin(tmp_path, rng)
    origin.git("tag", "-a", "--no-sign", "rel", "-m", "release")
    blob = origin.git("hash-object", "-w", "--stdin", stdin=b"data\n").strip()
    work = _clone(origin, tmp_path)
    Repo.existing(work).git("fetch", "-q", origin.path.as_uri(), f"{origin.head()}")
    subprocess.run(
        ["git", "-C", str(work), "hash-object", "-w", "--stdin"], input=b"data\n", check=True
    )
    proc, report = _tag_run(tmp_path, work, "github", "rel", blob, blob)
    assert proc.returncode == 3, report
    assert report["incomplete"][0].startswith("the pushed tag rel leads to a blob, not a commit")
