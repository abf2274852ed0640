"""What users install and wire up: the hook manifest, the GitHub Action, the GitLab job."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def test_hook_manifest_is_valid_for_pre_commit() -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pre_commit",
            "validate-manifest",
            str(ROOT / ".pre-commit-hooks.yaml"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    hooks = {h["id"]: h for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
    assert hooks["sgai-guard"]["stages"] == ["pre-commit", "manual"]
    assert hooks["sgai-guard"]["pass_filenames"] is True
    assert hooks["sgai-guard-push"]["stages"] == ["pre-push"]
    # the launcher without pip's `import re` (scripts/sgai-guard-hook), installed with the wheel
    assert hooks["sgai-guard-push"]["entry"] == "sgai-guard-hook --pre-push"
    assert hooks["sgai-guard"]["entry"] == "sgai-guard-hook --"


def test_gitlab_template_writes_the_secret_detection_artifact() -> None:
    job = yaml.safe_load((ROOT / "ci" / "gitlab-ci.yml").read_text())["sgai_guard_secret_detection"]
    assert "sgai-guard ci --format gitlab" in " ".join(job["script"])
    assert job["artifacts"]["reports"]["secret_detection"] == "gl-secret-detection-report.json"


def test_readme_opens_with_the_two_quickstart_commands() -> None:
    readme = (ROOT / "README.md").read_text()
    quick = readme.split("## Quickstart", 1)[1].split("##", 1)[0]
    assert "python3 -m venv .venv && . .venv/bin/activate && python -m pip install . && " in quick
    assert 'python -m pip install -e ".[test]" && python -m pytest' in quick
    assert "sgai-guard scan ." in quick
    ci = (ROOT / ".ci" / "run").read_text()
    assert 'python -m pip install -q -e ".[test]"' in ci and "python -m pytest" in ci


def test_readme_configuration_example_loads(tmp_path: Path) -> None:
    import re

    from sgai_guard.policy.config import load

    block = re.search(r"```toml\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    assert block is not None
    (tmp_path / ".sgai-guard.toml").write_text(block.group(1))
    config = load(tmp_path / ".sgai-guard.toml")
    assert config.archives.depth == 3 and config.max_file_size == 5 * 2**20
