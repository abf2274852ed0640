"""Scanning someone else's repository never runs a program that repository configures."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from tests import keys
from tests.cli_helpers import run_cli
from tests.gitrepo import Repo

HOOKS = (
    "pre-commit",
    "post-checkout",
    "reference-transaction",
    "pre-auto-gc",
    "post-index-change",
    "fsmonitor-watchman",
    "pre-push",
    "post-commit",
)


def _trap(bin_dir: Path, markers: Path, name: str) -> str:
    script = bin_dir / name
    script.write_text(f"#!/bin/sh\ntouch '{markers / name}'\n")
    script.chmod(0o755)
    return str(script)


def _plant(repo: Repo, tmp_path: Path) -> tuple[Path, Path]:
    markers, bin_dir, hooks = tmp_path / "markers", tmp_path / "traps", tmp_path / "hooks"
    for folder in (markers, bin_dir, hooks):
        folder.mkdir()
    config = {
        "core.fsmonitor": _trap(bin_dir, markers, "fsmonitor"),
        "diff.external": _trap(bin_dir, markers, "external-diff"),
        "diff.evil.textconv": _trap(bin_dir, markers, "textconv"),
        "filter.evil.clean": _trap(bin_dir, markers, "clean"),
        "filter.evil.smudge": _trap(bin_dir, markers, "smudge"),
        "filter.evil.process": _trap(bin_dir, markers, "process"),
        "core.sshCommand": _trap(bin_dir, markers, "ssh"),
        "core.askPass": _trap(bin_dir, markers, "askpass"),
        "core.pager": _trap(bin_dir, markers, "pager"),
        "core.hooksPath": str(hooks),
    }
    for key, value in config.items():
        repo.git("config", key, value)
    for hook in HOOKS:
        _trap(hooks, markers, hook)
        (repo.path / ".git" / "hooks" / hook).write_text((hooks / hook).read_text())
        (repo.path / ".git" / "hooks" / hook).chmod(0o755)
    (repo.path / ".gitattributes").write_text("* diff=evil filter=evil\n")
    global_config = tmp_path / "global.gitconfig"
    global_config.write_text(
        f"[core]\n\tfsmonitor = {_trap(bin_dir, markers, 'global-fsmonitor')}\n"
    )
    return markers, global_config


@pytest.fixture
def planted(tmp_path: Path, rng: random.Random) -> tuple[Repo, Path, Path, str]:
    repo = Repo(tmp_path / "repo")
    repo.write("a.txt", "one\n")
    base = repo.commit("root")
    repo.write("b.txt", keys.tavily_current(rng))
    repo.commit("leak")
    repo.write("c.txt", keys.sgai_uuid(rng))
    repo.add("c.txt")
    markers, global_config = _plant(repo, tmp_path)
    return repo, markers, global_config, base


def test_the_traps_are_live(planted: tuple[Repo, Path, Path, str]) -> None:
    """Plain git does run them, so the next test would notice if sgai-guard did."""
    repo, markers, _, base = planted
    repo.git("status", "--short", check=False)  # the fake filter process makes git fail late
    repo.git("diff", base, "HEAD", "--", "b.txt", check=False)
    assert {"fsmonitor", "process"} <= {p.name for p in markers.iterdir()}


@pytest.mark.parametrize(
    "args",
    [
        ["scan", "."],
        ["scan", "--staged"],
        ["scan", "--range", "HEAD~1..HEAD"],
        ["audit", "."],
        ["audit", ".", "--include-reflog", "--include-unreachable"],
    ],
)
def test_no_scan_mode_runs_planted_programs(
    planted: tuple[Repo, Path, Path, str], args: list[str]
) -> None:
    repo, markers, global_config, _ = planted
    proc = run_cli(*args, cwd=repo.path, env={"GIT_CONFIG_GLOBAL": str(global_config)})
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert sorted(p.name for p in markers.iterdir()) == []
