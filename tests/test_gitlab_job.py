"""The GitLab job (ci/gitlab-ci.yml): its rules decide as GitLab would, and its `script:`
lines, run with the variables GitLab sets for a merge request pipeline, write a report that
validates against GitLab's own schema."""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

import sgai_guard
from tests import keys
from tests.gitrepo import Repo, git_env

ROOT = Path(__file__).resolve().parent.parent
JOB_FILE = ROOT / "ci" / "gitlab-ci.yml"
SCHEMA = json.loads(
    (ROOT / "fixtures" / "gitlab-secret-detection-report-format-15.2.1.json").read_text()
)


def _job() -> dict[str, Any]:
    [job] = yaml.safe_load(JOB_FILE.read_text()).values()
    return job  # type: ignore[no-any-return]


def _condition(expr: str, variables: dict[str, str]) -> bool:
    """GitLab's rules:if for the forms the job uses: `$VAR`, `$VAR == "x"`, joined by &&."""
    for raw in expr.split("&&"):
        clause = raw.strip()
        compared = re.fullmatch(r'\$(\w+)\s*==\s*"([^"]*)"', clause)
        if compared:
            if variables.get(compared.group(1), "") != compared.group(2):
                return False
        elif not variables.get(clause.lstrip("$")):
            return False
    return True


def _created(variables: dict[str, str]) -> bool:
    for rule in _job()["rules"]:
        if _condition(rule["if"], variables):
            return rule.get("when", "on_success") != "never"
    return False


def test_rules_kill_switch_and_no_duplicate_pipelines() -> None:
    mr = {"CI_PIPELINE_SOURCE": "merge_request_event", "CI_MERGE_REQUEST_IID": "3"}
    branch = {"CI_PIPELINE_SOURCE": "push", "CI_COMMIT_BRANCH": "feature"}
    assert _created(mr)
    assert _created(branch)
    assert not _created({**branch, "CI_OPEN_MERGE_REQUESTS": "group/project!3"})  # the MR runs
    assert not _created({**mr, "SGAI_GUARD_DISABLED": "true"})
    assert not _created({**branch, "SGAI_GUARD_DISABLED": "true"})
    tag = {"CI_PIPELINE_SOURCE": "push", "CI_COMMIT_TAG": "v1"}
    assert _created(tag)  # its message is published with it: scanned
    assert not _created({**tag, "SGAI_GUARD_DISABLED": "true"})


def test_job_is_pinned_and_scans_once() -> None:
    job = _job()
    assert job["variables"] == {"GIT_DEPTH": "0"}
    header = JOB_FILE.read_text().split("\nsgai_guard_secret_detection:")[0]
    readme = (ROOT / "README.md").read_text()
    [remote] = [
        line.split("remote:")[1].strip() for line in header.splitlines() if "remote:" in line
    ]
    assert f"remote: {remote}" in readme  # the file names the address the README gives
    assert 'SGAI_GUARD_PACKAGE: "git+https://github.com/OWNER/sgai-guard@<commit>"' in readme
    assert "after_script" not in job  # a second scan there would scan twice, and hide failures
    header = JOB_FILE.read_text().split("\nsgai_guard_secret_detection:")[0]
    assert job["allow_failure"] is False and "allow_failure" in header  # the choice, explained
    assert [line for line in job["script"] if "sgai-guard" in line] == job["script"][:1]
    assert job["artifacts"]["reports"]["secret_detection"] in job["script"][0]


def _installed(variables: dict[str, str]) -> str:
    """What the job's pip line installs, its shell run with ``variables`` as GitLab gives
    them: the including file's global variables, then the job's own over them (GitLab's
    order: a job's variables win), then the project's CI/CD variables over both."""
    job = _job()
    [line] = [line for line in job["before_script"] if "pip install" in line]
    shown = line.replace("python -m pip install --quiet", "printf %s")
    env = {"PATH": os.environ["PATH"], **variables, **job["variables"]}
    proc = subprocess.run(["sh", "-c", shown], env=env, capture_output=True, text=True, check=True)
    return proc.stdout


def test_the_package_to_install_is_the_including_file_s_to_set() -> None:
    """Found by a newcomer review: the job set SGAI_GUARD_PACKAGE in its own `variables:`,
    which win over the including file's, so the README's way to install from a commit did
    nothing and every pipeline tried a release PyPI does not have."""
    assert _installed({}) == f"sgai-guard=={sgai_guard.__version__}"
    assert _installed({"SGAI_GUARD_VERSION": "9.9"}) == "sgai-guard==9.9"
    commit = "git+https://github.com/OWNER/sgai-guard@0123abc"
    assert _installed({"SGAI_GUARD_PACKAGE": commit}) == commit


def _merge_request(
    tmp_path: Path, rng: random.Random, leak: bool
) -> tuple[Path, dict[str, str], str, str]:
    origin = Repo(tmp_path / "origin")
    for n in range(3):
        origin.write(f"main{n}.txt", f"main {n}\n")
        origin.commit(f"main {n}")
    base = origin.head()
    origin.git("checkout", "-q", "-b", "feature")
    key = keys.sgai_uuid(rng)
    origin.write("svc/config.py", f"SGAI_API_KEY = '{key}'\n" if leak else "x = 1\n")
    added = origin.commit("feature")
    origin.write("svc/more.py", "y = 2\n")
    head = origin.commit("feature goes on")
    work = tmp_path / "project"  # GIT_DEPTH 0: the runner clones the whole history
    subprocess.run(
        ["git", "clone", "-q", "--branch", "feature", origin.path.as_uri(), str(work)],
        check=True, env=git_env(), capture_output=True,
    )  # fmt: skip
    variables = {
        "GITLAB_CI": "true",
        "CI": "true",
        "CI_PIPELINE_SOURCE": "merge_request_event",
        "CI_MERGE_REQUEST_IID": "12",
        "CI_MERGE_REQUEST_DIFF_BASE_SHA": base,
        "CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "main",
        "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME": "feature",
        "CI_COMMIT_SHA": head,
        "CI_COMMIT_REF_NAME": "feature",
        "CI_PROJECT_DIR": str(work),
        "CI_JOB_ID": "4242",
        "GIT_DEPTH": _job()["variables"]["GIT_DEPTH"],
    }
    return work, variables, added, key


def _run_script(work: Path, variables: dict[str, str]) -> list[subprocess.CompletedProcess[str]]:
    """Each `script:` line through bash in the project folder, as GitLab's shell runs it."""
    env = git_env()
    env.pop("NO_COLOR", None)
    env.update(variables)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return [
        subprocess.run(
            ["bash", "-eo", "pipefail", "-c", line],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )
        for line in _job()["script"]
    ]


@pytest.mark.parametrize("leak", [True, False])
def test_merge_request_pipeline(tmp_path: Path, rng: random.Random, leak: bool) -> None:
    work, variables, added, key = _merge_request(tmp_path, rng, leak)
    assert _created(variables)
    [proc] = _run_script(work, variables)
    assert proc.returncode == (1 if leak else 0), proc.stderr
    artifact = _job()["artifacts"]["reports"]["secret_detection"]
    report = json.loads((work / artifact).read_text())
    jsonschema.Draft7Validator(SCHEMA).validate(report)
    assert report["version"] == "15.2.1"
    scan = report["scan"]
    assert scan["analyzer"]["id"] == scan["scanner"]["id"] == "sgai-guard"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", scan["start_time"])  # no zone
    assert scan["status"] == "success"
    summary = work / _job()["artifacts"]["paths"][0]
    assert summary.exists()
    if not leak:
        assert report["vulnerabilities"] == []
        return
    [vuln] = report["vulnerabilities"]
    assert vuln["location"]["file"] == "svc/config.py"
    assert vuln["location"]["commit"]["sha"] == added  # the commit that added it
    assert vuln["identifiers"] and vuln["identifiers"][0]["value"]
    for text in ((work / artifact).read_text(), summary.read_text(), proc.stdout, proc.stderr):
        assert key not in text


def test_readme_includes_this_job_at_the_pinned_release() -> None:
    readme = (ROOT / "README.md").read_text()
    block = readme.split("```yaml\ninclude:", 1)[1].split("```", 1)[0]
    [remote] = yaml.safe_load("include:" + block)["include"]
    assert remote["remote"].endswith(f"/v{sgai_guard.__version__}/ci/gitlab-ci.yml")
    assert "SGAI_GUARD_DISABLED" in readme
