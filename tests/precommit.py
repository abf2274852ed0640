"""This project as a pre-commit framework hook repository, and projects that use it."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.gitrepo import Repo, git_env

ROOT = Path(__file__).resolve().parent.parent
PROJECT_FILES = ("pyproject.toml", "README.md", ".pre-commit-hooks.yaml", "sgai_guard", "scripts")


@pytest.fixture(scope="session")
def hook_repo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """This project, committed as it is now, for pre-commit to install from."""
    target = tmp_path_factory.mktemp("hook-repo")
    for name in PROJECT_FILES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, target / name)
    repo = Repo(target)
    return target, repo.commit("snapshot")


@pytest.fixture(scope="session")
def pre_commit_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pre-commit-home")


def framework_env(home: Path) -> dict[str, str]:
    env = git_env()
    env["PRE_COMMIT_HOME"] = str(home)
    env["PATH"] = f"{Path(sys.executable).parent}:{env.get('PATH', '')}"
    return env


class Project:
    """A repository using the hooks through the pre-commit framework."""

    def __init__(self, path: Path, hook_repo: tuple[Path, str], home: Path) -> None:
        self.repo = Repo(path)
        self.env = framework_env(home)
        url, rev = hook_repo
        self.repo.write(
            ".pre-commit-config.yaml",
            f"repos:\n- repo: {url}\n  rev: {rev}\n  hooks:\n"
            "  - id: sgai-guard\n  - id: sgai-guard-push\n",
        )
        self.repo.write("README.md", "project\n")
        self.repo.commit("root")

    def pre_commit(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "pre_commit", *args],
            cwd=self.repo.path,
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
        )

    def git(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["git", *args],
            cwd=self.repo.path,
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
        )


@pytest.fixture
def project(
    tmp_path: Path, hook_repo: tuple[Path, str], pre_commit_home: Path
) -> Iterator[Project]:
    proj = Project(tmp_path / "project", hook_repo, pre_commit_home)
    installed = proj.pre_commit("install", "--hook-type", "pre-commit", "--hook-type", "pre-push")
    assert installed.returncode == 0, installed.stderr
    yield proj
