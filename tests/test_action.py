"""The GitHub Action (action.yml) run step by step as the runner runs it, on shallow clones,
with real pull_request and push event files."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from tests import keys
from tests.actionrunner import ActionRun, Runner
from tests.gitrepo import Repo, git_env
from tests.hostile import shallow_clone

ROOT = Path(__file__).resolve().parent.parent
ACTION = ROOT / "action.yml"
INSTALL = "Install sgai-guard"
SARIF_SCHEMA = json.loads((ROOT / "fixtures" / "sarif-schema-2.1.0.json").read_text())


@pytest.fixture(scope="module")
def action_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """setup-python's stand-in: a fresh virtual environment, into which the action's own
    install step installs sgai-guard from the action's folder."""
    root = tmp_path_factory.mktemp("runner")
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    runner = Runner(ACTION, _base_env(venv, root), root, root)
    others = tuple(s.get("name") or s["uses"] for s in runner.spec["runs"]["steps"])
    run = runner.run({}, skip=tuple(n for n in others if n != INSTALL))
    install = run.step(INSTALL)
    assert install.returncode == 0, install.stderr[-2000:]
    assert (venv / "bin" / "sgai-guard").exists()
    return venv


def _base_env(venv: Path, root: Path) -> dict[str, str]:
    env = git_env()
    env.pop("NO_COLOR", None)
    env.update(
        PATH=f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}",
        GITHUB_ACTIONS="true",
        CI="true",
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        HOME=env.get("HOME", str(root)),
    )
    return env


def _origin(root: Path, rng: random.Random) -> tuple[Repo, str, dict[str, str], str]:
    """origin: main with history; `clean` adds code, `leaky` adds a key."""
    origin = Repo(root / "origin")
    for n in range(4):
        origin.write(f"main{n}.txt", f"main {n}\n")
        origin.commit(f"main {n}")
    base = origin.head()
    heads = {}
    key = keys.tavily_current(rng)
    for branch, text in (("clean", "x = 1\n"), ("leaky", f"TAVILY = '{key}'\n")):
        origin.git("checkout", "-q", "-b", branch, base)
        origin.write("app/settings.py", text)
        origin.commit(f"{branch} change")
        origin.write("app/more.py", "y = 2\n")
        heads[branch] = origin.commit(f"{branch} goes on")
    origin.git("checkout", "-q", "main")
    return origin, base, heads, key


def _run(
    tmp_path: Path,
    venv: Path,
    origin: Repo,
    branch: str,
    event: str,
    payload: dict[str, object],
    args: str = "",
    sarif_name: str = "sgai-guard.sarif",
) -> tuple[ActionRun, Path, Path]:
    work = shallow_clone(origin, tmp_path / f"work-{branch}", branch).path
    event_path = tmp_path / "event.json"
    event_path.write_text(json.dumps(payload))
    summary = tmp_path / "summary.md"
    temp = tmp_path / "runner-temp"
    temp.mkdir(exist_ok=True)
    env = _base_env(venv, tmp_path)
    env.update(
        GITHUB_EVENT_NAME=event,
        GITHUB_EVENT_PATH=str(event_path),
        GITHUB_STEP_SUMMARY=str(summary),
        GITHUB_SHA=Repo.existing(work).head(),
    )
    sarif = work / sarif_name
    inputs = {"sarif": str(sarif), "args": f"--remote-url {origin.path.as_uri()} {args}".strip()}
    run = Runner(ACTION, env, work, temp).run(inputs, skip=(INSTALL,))
    return run, summary, sarif


def _pull_request(base: str, head: str, branch: str) -> dict[str, object]:
    return {
        "action": "opened",
        "number": 7,
        "pull_request": {
            "number": 7,
            "base": {"ref": "main", "sha": base},
            "head": {"ref": branch, "sha": head},
        },
    }


def test_clean_pull_request(tmp_path: Path, rng: random.Random, action_python: Path) -> None:
    origin, base, heads, _ = _origin(tmp_path, rng)
    payload = _pull_request(base, heads["clean"], "clean")
    run, summary, sarif = _run(tmp_path, action_python, origin, "clean", "pull_request", payload)
    assert run.outputs == {"exit-code": "0", "findings": "0", "sarif-file": str(sarif)}, run.log
    assert not run.failed
    upload = run.step("Upload SARIF")
    assert upload.inputs == {"sarif_file": str(sarif)}  # the file the scan wrote
    data = json.loads(sarif.read_text())
    jsonschema.validate(data, SARIF_SCHEMA)
    assert data["runs"][0]["automationDetails"]["id"] == "sgai-guard/ci/pull_request/"
    assert summary.read_text().count("## sgai-guard\n") == 1  # one scan, one summary
    assert "sgai-guard: clean" in run.step("Fail on findings or an incomplete scan").stdout


def test_pull_request_adding_a_key(tmp_path: Path, rng: random.Random, action_python: Path) -> None:
    origin, base, heads, key = _origin(tmp_path, rng)
    payload = _pull_request(base, heads["leaky"], "leaky")
    run, summary, sarif = _run(tmp_path, action_python, origin, "leaky", "pull_request", payload)
    assert run.outputs == {"exit-code": "1", "findings": "1", "sarif-file": str(sarif)}, run.log
    assert run.failed
    scan = run.step("Scan (annotations, job summary and SARIF from one run)")
    assert scan.stdout.count("::error file=app/settings.py,line=1") == 1  # scanned once
    final = run.step("Fail on findings or an incomplete scan")
    assert final.returncode == 1 and "API keys found (1)" in final.stdout
    assert run.step("Upload SARIF").inputs == {"sarif_file": str(sarif)}
    [result] = json.loads(sarif.read_text())["runs"][0]["results"]
    assert result["ruleId"].startswith("tavily")
    text = summary.read_text()
    assert "app/settings.py" in text and text.count("## sgai-guard\n") == 1
    for blob in (text, sarif.read_text(), run.log):
        assert key not in blob


def test_push_adding_a_key(tmp_path: Path, rng: random.Random, action_python: Path) -> None:
    origin, base, heads, key = _origin(tmp_path, rng)
    payload = {"ref": "refs/heads/leaky", "before": base, "after": heads["leaky"]}
    run, _, sarif = _run(tmp_path, action_python, origin, "leaky", "push", payload)
    assert run.outputs["exit-code"] == "1" and run.outputs["findings"] == "1", run.log
    data = json.loads(sarif.read_text())
    assert data["runs"][0]["automationDetails"]["id"] == "sgai-guard/ci/push/"
    assert key not in run.log


def test_broken_base_is_incomplete_not_clean(
    tmp_path: Path, rng: random.Random, action_python: Path
) -> None:
    origin, _, heads, _ = _origin(tmp_path, rng)
    gone = f"{rng.getrandbits(160):040x}"  # a base no repository has (force-pushed away)
    payload = _pull_request(gone, heads["clean"], "clean")
    run, _, sarif = _run(tmp_path, action_python, origin, "clean", "pull_request", payload)
    assert run.outputs["exit-code"] == "3", run.log
    final = run.step("Fail on findings or an incomplete scan")
    assert final.returncode == 3 and "incomplete (exit 3)" in final.stdout
    data = json.loads(sarif.read_text())  # the SARIF says the run did not succeed
    assert data["runs"][0]["invocations"][0]["executionSuccessful"] is False


def test_usage_error_skips_the_upload_and_says_so(
    tmp_path: Path, rng: random.Random, action_python: Path
) -> None:
    origin, base, heads, _ = _origin(tmp_path, rng)
    payload = _pull_request(base, heads["clean"], "clean")
    run, _, sarif = _run(
        tmp_path, action_python, origin, "clean", "pull_request", payload, args="--no-such-flag"
    )
    assert run.outputs == {"exit-code": "2", "findings": "", "sarif-file": ""}, run.log
    assert not sarif.exists()
    assert run.step("Upload SARIF").returncode is None and not run.step("Upload SARIF").inputs
    final = run.step("Fail on findings or an incomplete scan")
    assert final.returncode == 2 and "usage or configuration error" in final.stdout


def test_keys_found_and_an_output_not_written_are_said_as_both(
    tmp_path: Path, rng: random.Random, action_python: Path
) -> None:
    """Found by a newcomer review: a SARIF path in a folder that does not exist made exit 2,
    and the last step said "nothing was judged" beside a key's annotation."""
    origin, base, heads, _ = _origin(tmp_path, rng)
    payload = _pull_request(base, heads["leaky"], "leaky")
    run, _, _ = _run(
        *(tmp_path, action_python, origin, "leaky", "pull_request", payload),
        sarif_name="reports/sgai-guard.sarif",
    )
    assert (run.outputs["exit-code"], run.outputs["findings"]) == ("2", "1"), run.log
    final = run.step("Fail on findings or an incomplete scan")
    assert final.returncode == 2 and "API keys found (1)" in final.stdout, final.stdout
    assert "nothing was judged" not in final.stdout


def test_third_party_actions_are_pinned_by_full_commit_sha() -> None:
    import re

    text = ACTION.read_text()
    uses = re.findall(r"uses:\s*(\S+)(.*)", text)
    assert uses
    for ref, comment in uses:
        assert re.fullmatch(r"[\w./-]+@[0-9a-f]{40}", ref), ref
        assert re.search(r"# v\d+\.\d+\.\d+", comment), comment


def test_readme_workflow_uses_the_action_as_declared() -> None:
    import yaml

    import sgai_guard

    readme = (ROOT / "README.md").read_text()
    block = readme.split("```yaml\non: [pull_request, push]", 1)[1].split("```", 1)[0]
    workflow = yaml.safe_load("on: [pull_request, push]" + block)
    steps = workflow["jobs"]["sgai-guard"]["steps"]
    [ours] = [s for s in steps if "sgai-guard@" in s["uses"]]
    assert ours["uses"].endswith(f"@v{sgai_guard.__version__}")
    declared = yaml.safe_load(ACTION.read_text())["inputs"]
    assert set(ours["with"]) <= set(declared)
    assert workflow["permissions"]["security-events"] == "write"
    checkout = next(s for s in steps if s["uses"].startswith("actions/checkout@"))
    assert len(checkout["uses"].split("@")[1]) == 40


def test_args_are_never_globbed_against_the_checkout(
    tmp_path: Path, rng: random.Random, action_python: Path
) -> None:
    """A pull request that adds a file named like an option cannot make a `*` in the
    workflow's args turn into that option (here: printing the key in clear)."""
    origin, base, _, key = _origin(tmp_path, rng)
    origin.git("checkout", "-q", "leaky")
    origin.write("--show-secrets", "x\n")
    head = origin.commit("a file named like an option")
    origin.git("checkout", "-q", "main")
    payload = _pull_request(base, head, "leaky")
    run, _, _ = _run(tmp_path, action_python, origin, "leaky", "pull_request", payload, args="*")
    assert key not in run.log
    assert run.outputs["exit-code"] == "2", run.log  # `*` reached sgai-guard as itself
