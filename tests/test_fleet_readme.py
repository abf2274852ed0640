"""The README's laptop recipe for auditing an organisation, run as written (the listing goes to
the API stand-in, and the repositories it lists are served by `git daemon`)."""

from __future__ import annotations

import json
import os
import random
import shlex
import subprocess
import sys
from pathlib import Path

import yaml

from tests.api_standin import Plan, serving
from tests.fleet_repos import key, small
from tests.fleet_world import git_daemon
from tests.gitrepo import git_env

ROOT = Path(__file__).resolve().parent.parent


def _block(start: str, lang: str = "sh") -> str:
    readme = (ROOT / "README.md").read_text()
    return readme.split(f"```{lang}\n{start}", 1)[1].split("```", 1)[0]


def test_laptop_recipe(tmp_path: Path, rng: random.Random) -> None:
    served = tmp_path / "served"
    first, second = key(rng, 1), key(rng, 2)
    small(served / "r0.git", [first], bare=True)
    small(served / "r1.git", [second, first], bare=True)
    lines = (
        "sgai-guard repos github my-org" + _block("sgai-guard repos github my-org")
    ).splitlines()
    assert lines[0].startswith("sgai-guard repos github my-org > targets.txt")
    with git_daemon(served) as daemon:
        items = [
            {"clone_url": f"{daemon}r{n}.git", "archived": False, "fork": False} for n in (0, 1)
        ]
        with serving(Plan(items)) as api:
            env = {**git_env(), "GITHUB_TOKEN": "test-token", "SGAI_GUARD_GITHUB_API": api}
            env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
            runs = [
                subprocess.run(
                    ["bash", "-c", line], cwd=tmp_path, env=env, capture_output=True, check=False
                )
                for line in lines
            ]
    codes = [run.returncode for run in runs]
    logs = [run.stderr.decode(errors="replace") for run in runs]
    assert codes == [0, 1, 1], logs  # listed; two repositories with keys; the merged report
    assert (tmp_path / "targets.txt").read_text().split() == [f"{daemon}r{n}.git" for n in (0, 1)]
    sarif = json.loads((tmp_path / "fleet.sarif").read_text())
    fingerprints = {r["fingerprints"]["sgaiGuardSecret/v1"] for r in sarif["runs"][0]["results"]}
    assert len(fingerprints) == 2  # the key in both repositories is one key
    for text in (json.dumps(sarif), *(p.read_text() for p in (tmp_path / "results").iterdir())):
        assert first not in text and second not in text


def test_dask_and_matrix_recipes_name_real_options() -> None:
    dask = _block('pip install "sgai-guard[dask]"').replace("\\\n", " ")
    audit = shlex.split(next(line for line in dask.splitlines() if "sgai-guard audit" in line))
    at = audit.index("sgai-guard")
    assert audit[at:] == [
        "sgai-guard",
        "audit",
        "--targets-file",
        "targets.txt",
        "--dask",
        "tls://10.0.0.5:8786",
        "--out",
        "results/",
    ]
    settings = dict(word.split("=", 1) for word in audit[:at])
    assert {"CA_FILE", "CLIENT__CERT", "CLIENT__KEY"} == {
        name.removeprefix("DASK_DISTRIBUTED__COMM__TLS__") for name in settings
    }
    nodes = [line for line in dask.splitlines() if line.lstrip().startswith(("dask ", "DASK_"))]
    scheduler = next(line for line in nodes if "dask scheduler" in line)
    worker = next(line for line in nodes if "dask worker" in line)
    assert "--protocol tls $TLS" in scheduler and "tls://10.0.0.5:8786" in worker
    assert "$TLS" in worker and "tcp://" not in dask
    matrix = yaml.safe_load(_block("jobs:\n  list:", "yaml").join(("jobs:\n  list:", "")))
    every = [s for job in matrix["jobs"].values() for s in job["steps"]]
    steps = [s.get("run", "") for s in every]
    audit_step = next(s for s in every if s.get("run", "").startswith("sgai-guard audit"))
    assert audit_step["run"].startswith('sgai-guard audit "$TARGET" --out results/')
    assert audit_step["env"]["TARGET"] == "${{ matrix.target }}"
    # nothing a server listed is pasted into a script: a target holding $(...) would run
    assert not any("${{" in run for run in steps), steps
    listing = next(run for run in steps if "sgai-guard repos github" in run)
    assert listing.splitlines()[0] == "sgai-guard repos github my-org > targets.txt"
    assert any(s.startswith("sgai-guard merge results/") for s in steps)
    uses = [s["uses"] for job in matrix["jobs"].values() for s in job["steps"] if "uses" in s]
    assert uses and all(len(u.split("@")[1]) == 40 for u in uses)
