"""The GitLab secret-detection report validates against GitLab's own schema (15.2.1, vendored
in fixtures/), with findings, suppressions and an incomplete scan, and names real commits."""

from __future__ import annotations

import json
import random
from pathlib import Path

import jsonschema

from tests import keys
from tests.cli_helpers import run_cli
from tests.gitrepo import Repo

SCHEMA = json.loads(
    (
        Path(__file__).resolve().parent.parent
        / "fixtures"
        / "gitlab-secret-detection-report-format-15.2.1.json"
    ).read_text()
)


def _report(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> dict[str, object]:
    proc = run_cli(*args, "--format", "gitlab", "-o", "gl.json", cwd=tmp_path, env=env)
    assert proc.returncode in (1, 3), proc.stderr
    report = json.loads((tmp_path / "gl.json").read_text())
    jsonschema.Draft7Validator(SCHEMA).validate(report)
    assert report["version"] == "15.2.1" and "v15.2.1" in str(report["schema"])
    return report


def test_work_tree_scan_names_head_and_validates(tmp_path: Path, rng: random.Random) -> None:
    repo = Repo(tmp_path)
    repo.write("app.env", f"K={keys.sgai_uuid(rng)}\n")
    repo.write("docs.md", "\n".join(f"K = '{p}'" for p in keys.placeholders()))
    head = repo.commit("leak")
    report = _report(tmp_path, "scan", ".", "--show-suppressed")
    vulns = report["vulnerabilities"]
    assert isinstance(vulns, list) and [v["location"]["commit"]["sha"] for v in vulns] == [head]
    pipeline = _report(tmp_path, "scan", ".", env={"CI_COMMIT_SHA": "f" * 40})
    assert pipeline["vulnerabilities"][0]["location"]["commit"]["sha"] == "f" * 40  # type: ignore[index]


def test_range_and_incomplete_scans_validate(tmp_path: Path, rng: random.Random) -> None:
    repo = Repo(tmp_path)
    base = repo.commit("root")
    repo.write("k.env", f"K={keys.tavily_current(rng)}\n")
    head = repo.commit("leak")
    report = _report(tmp_path, "scan", "--range", f"{base}..HEAD")
    assert report["vulnerabilities"][0]["location"]["commit"]["sha"] == head  # type: ignore[index]
    (tmp_path / "dir").symlink_to(tmp_path)
    broken = _report(tmp_path, "scan", "dir")  # a symlinked folder: incomplete
    assert broken["scan"]["status"] == "failure"  # type: ignore[index]


def test_outside_git_says_a_commit_is_needed(tmp_path: Path, rng: random.Random) -> None:
    (tmp_path / "k.env").write_text(f"K={keys.sgai_uuid(rng)}\n")
    proc = run_cli("scan", ".", "--format", "gitlab", cwd=tmp_path)
    assert proc.returncode == 2 and "CI_COMMIT_SHA" in proc.stderr
