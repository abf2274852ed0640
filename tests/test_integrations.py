"""Small conventions users of other scanners expect: init and its schema, standard input,
shell completion, and push hints that can unblock a push."""

from __future__ import annotations

import datetime
import json
import random
import re
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest

try:
    import tomllib
except ImportError:  # Python 3.10
    import tomli as tomllib

import sgai_guard
from sgai_guard.policy import config
from tests import keys
from tests.cli_helpers import run_cli
from tests.gitrepo import Repo

ROOT = Path(__file__).resolve().parent.parent


def _schema(tmp_path: Path) -> dict[str, Any]:
    proc = run_cli("init", "--schema", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)  # type: ignore[no-any-return]


def _as_json(value: Any) -> Any:
    """TOML as a schema-aware editor sees it: dates are strings with format date."""
    if isinstance(value, dict):
        return {k: _as_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_json(v) for v in value]
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


def _readme_block(lang: str, first_line: str) -> str:
    blocks = re.findall(rf"```{lang}\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    return next(b for b in blocks if b.startswith(first_line))


def test_readme_config_example_validates_against_the_published_schema(tmp_path: Path) -> None:
    schema = _schema(tmp_path)
    jsonschema.Draft7Validator.check_schema(schema)
    example = tomllib.loads(_readme_block("toml", "# .sgai-guard.toml"))
    jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker()).validate(
        _as_json(example)
    )
    (tmp_path / "c.toml").write_text(_readme_block("toml", "# .sgai-guard.toml"))
    config.load(tmp_path / "c.toml")  # and the loader accepts it too


def test_schema_and_loader_agree_on_the_keys(tmp_path: Path) -> None:
    schema = _schema(tmp_path)
    assert set(schema["properties"]) == set(config.SCALARS) | set(config.TABLES)
    bad = {"max-file-size": "5 parsecs", "archive-depth": -1, "allow": [{"fingerprint": "x"}]}
    for key, value in bad.items():
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate({key: value}, schema)
    for size in ("5MiB", "512k", "1048576", "2 gb"):
        jsonschema.validate({"max-file-size": size}, schema)
        assert config.parse_size(size) is not None


def test_init_writes_a_valid_commented_config_and_prints_the_hook_block(tmp_path: Path) -> None:
    repo = Repo(tmp_path)
    proc = run_cli("init", cwd=repo.path)
    assert proc.returncode == 0, proc.stderr
    written = tmp_path / ".sgai-guard.toml"
    loaded = config.load(written)
    from sgai_guard.detection.fingerprint import DEFAULT_SALT

    assert loaded.salt == DEFAULT_SALT  # a salt is a choice to make, not one init makes
    assert re.search(r'^# salt = "[0-9a-f]{32}"$', written.read_text(), re.M)
    assert proc.stdout == _readme_block("yaml", "repos:")  # the README shows what init prints
    assert "until sgai-guard has a release" in proc.stderr  # a newcomer review
    assert f"rev: v{sgai_guard.__version__}" in proc.stdout
    ids = re.findall(r"- id: (\S+)", (ROOT / ".pre-commit-hooks.yaml").read_text())
    assert re.findall(r"- id: (\S+)", proc.stdout) == ids
    again = run_cli("init", cwd=repo.path)
    assert again.returncode == 2 and "exists already" in again.stderr
    assert config.load(written) == loaded  # not overwritten
    assert run_cli("scan", ".", cwd=repo.path).returncode == 0  # its own salt is no finding


def test_init_never_writes_through_a_symlink(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("keep me\n")
    work = tmp_path / "work"
    work.mkdir()
    (work / ".sgai-guard.toml").symlink_to(victim)
    proc = run_cli("init", "--force", cwd=work)
    assert proc.returncode == 2 and victim.read_text() == "keep me\n"


def test_scan_standard_input(tmp_path: Path, rng: random.Random) -> None:
    key = keys.tavily_current(rng)
    text = f"# config\nTAVILY_API_KEY={key}\n".encode()
    proc = run_cli("scan", "-", "--stdin-filename", "deploy/app.env", cwd=tmp_path, stdin=text)
    assert proc.returncode == 1 and "deploy/app.env:2:" in proc.stdout and key not in proc.stdout
    plain = run_cli("scan", "-", "--format", "json", cwd=tmp_path, stdin=text)
    assert json.loads(plain.stdout)["findings"][0]["path"] == "<stdin>"
    big = b"x = 1\n" * 3_000_000 + text  # past one piece: read in bounded pieces
    proc = run_cli("scan", "-", "--format", "json", cwd=tmp_path, stdin=big)
    [finding] = json.loads(proc.stdout)["findings"]
    assert finding["line"] == 3_000_002
    mixed = run_cli("scan", "-", ".", cwd=tmp_path, stdin=b"")
    assert mixed.returncode == 2 and "cannot be combined" in mixed.stderr
    stray = run_cli("scan", ".", "--stdin-filename", "x", cwd=tmp_path)
    assert stray.returncode == 2


def test_allowlist_paths_apply_to_the_stdin_filename(tmp_path: Path, rng: random.Random) -> None:
    (tmp_path / ".sgai-guard.toml").write_text('exclude-paths = ["fixtures/"]\n')
    text = f"K={keys.sgai_uuid(rng)}\n".encode()
    kept = run_cli("scan", "-", "--stdin-filename", "src/k.env", cwd=tmp_path, stdin=text)
    skipped = run_cli("scan", "-", "--stdin-filename", "fixtures/k.env", cwd=tmp_path, stdin=text)
    assert (kept.returncode, skipped.returncode) == (1, 0)


def test_shell_completion(tmp_path: Path) -> None:
    import subprocess

    env = {
        "COMP_WORDS": "sgai-guard sc",
        "COMP_CWORD": "1",
        "_SGAI_GUARD_COMPLETE": "bash_complete",
    }
    proc = subprocess.run(
        [sys.executable, "-c", "from sgai_guard.entry import run; run()"],
        env={**env, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert "scan" in proc.stdout.split("\n")[0].split(",") or "plain,scan" in proc.stdout
    assert "_SGAI_GUARD_COMPLETE=bash_source" in (ROOT / "README.md").read_text()


def test_pre_push_hints_name_the_commits_to_fix(tmp_path: Path, rng: random.Random) -> None:
    remote = Repo(tmp_path / "remote.git", bare=True)
    repo = Repo(tmp_path / "work")
    repo.git("remote", "add", "origin", remote.path.as_uri())
    repo.commit("root")
    repo.git("push", "-q", "origin", "main")
    repo.write("k.env", f"K={keys.tavily_current(rng)}\n")
    leak = repo.commit("leak")
    repo.write("more.txt", "x\n")
    head = repo.commit("more")
    line = (
        f"refs/heads/main {head} refs/heads/main {repo.git('rev-parse', 'origin/main').strip()}\n"
    )
    proc = run_cli("hook", "--pre-push", cwd=repo.path, stdin=line.encode())
    assert proc.returncode == 1, proc.stderr
    assert leak[:12] in proc.stdout and "git rebase -i <commit>^" in proc.stdout
    assert "git push --no-verify" in proc.stdout and "stage the file again" not in proc.stdout
