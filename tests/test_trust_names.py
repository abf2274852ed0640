"""Names from a repository, and words the user typed, are data: never options, never a line of
their own in a CI log, never a terminal escape, and never a clear key on screen.

Classes of issue 10: 1 (file names read as options), 7 (log injection), 10 (echoed secrets).
"""

from __future__ import annotations

import base64
import json
import random
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests import keys
from tests.cli_helpers import run_cli, run_json
from tests.gitrepo import Repo, git_env
from tests.precommit import Project

# --- class 1: file names are never options ----------------------------------------------------

OPTION_NAMES = ["--pre-push", "--show-secrets", "-x", "--help", "--version", "--", "-"]


@pytest.mark.parametrize("name", OPTION_NAMES)
def test_staged_file_named_like_an_option_is_a_file(
    project: Project, rng: random.Random, name: str
) -> None:
    """Through the real pre-commit framework: the key still blocks, stays redacted, and the
    oddly named file itself is scanned."""
    key = keys.tavily_current(rng)
    project.repo.write(name, f"NAME_KEY = '{keys.sgai_uuid(rng)}'\n")
    project.repo.write("leak.py", f"KEY = '{key}'\n")
    project.repo.add(name, "leak.py")
    proc = project.pre_commit("run", "--all-files", "--hook-stage", "pre-commit")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    assert "leak.py:1:8" in out and key not in out
    assert f"{name}:1:" in out, out  # the file named like an option was read as a file
    assert "unknown option" not in out


def test_a_commit_beside_an_option_named_file_passes(project: Project) -> None:
    for name in OPTION_NAMES:
        project.repo.write(name, "nothing to see\n")
    project.repo.add(*OPTION_NAMES)
    proc = project.git("commit", "--no-gpg-sign", "-m", "odd names")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_scan_takes_option_named_paths_after_double_dash(
    tmp_path: Path, rng: random.Random
) -> None:
    key = keys.sgai_uuid(rng)
    (tmp_path / "--show-secrets").write_text(f"K = '{key}'\n")
    proc = run_cli("scan", "--", "--show-secrets", cwd=tmp_path)
    assert proc.returncode == 1 and key not in proc.stdout and "--show-secrets:1:" in proc.stdout


def test_hook_help_and_pathspec_magic_names(tmp_path: Path, rng: random.Random) -> None:
    repo = Repo(tmp_path)
    repo.commit("root")
    assert run_cli("hook", "--help", cwd=tmp_path).returncode == 0
    key = keys.tavily_current(rng)
    repo.write("key.txt", f"K = '{key}'\n")
    repo.write(":(exclude)key.txt", "x\n")
    repo.add("key.txt", ":(exclude)key.txt")
    proc = run_cli("hook", "--", ":(exclude)key.txt", "key.txt", cwd=tmp_path)
    assert proc.returncode == 1 and "key.txt:1:6" in proc.stdout


# --- class 7: nothing from a repository starts a line in a CI log ------------------------------

INJECTIONS = {
    "workflow command": "x\n::warning file=a.py::all clear\n",
    "legacy command": "y##[warning]all clear",
    "azure command": "t ##vso[task.setvariable variable=DEPLOY_ENV]prod",
    "azure command, upper case": "s ##VSO[task.complete result=Succeeded]done",
    "carriage return": "z\rnothing found",
    "terminal escape": "w\x1b[2J\x1b[31mclean",
    "bidi override": "v\u202etxt.exe",
    "line separator": "u\u2028::error::x",
}


def _lines_outside_fence(text: str) -> list[str]:
    fence = re.match(r"::stop-commands::(\w+)\n", text)
    if fence is None:
        return text.splitlines()
    token = fence.group(1)
    body, _, after = text[fence.end() :].partition(f"::{token}::\n")
    return [*after.splitlines(), *(line for line in body.splitlines() if not line)]


@pytest.mark.parametrize("kind", list(INJECTIONS))
def test_hostile_file_name_cannot_start_a_line(
    tmp_path: Path, rng: random.Random, kind: str
) -> None:
    name = INJECTIONS[kind]
    (tmp_path / name).write_text(f"K = '{keys.sgai_uuid(rng)}'\n")
    # a plain folder: the GitLab report takes its commit from the pipeline, as in GitLab CI
    env = {"GITHUB_ACTIONS": "true", "CI_COMMIT_SHA": "a" * 40}
    for fmt in ("text", "github", "markdown", "json", "sarif", "gitlab"):
        proc = subprocess.run(  # bytes: text mode would turn a bare \r into \n
            [sys.executable, "-m", "sgai_guard", "scan", ".", "--format", fmt],
            cwd=tmp_path,
            env={**git_env(), **env},
            capture_output=True,
            check=False,
        )
        assert proc.returncode == 1, proc.stderr
        out = proc.stdout.decode("utf-8")
        for bad in ("\x1b", "\r", "\u202e", "\u2028"):
            assert bad not in out, (fmt, bad)
        # Azure Pipelines finds `##vso[` anywhere, fence or not, stdout or stderr
        assert "##vso[" not in (out + proc.stderr.decode("utf-8")).lower(), fmt
        lines = _lines_outside_fence(out) if fmt == "text" else out.splitlines()
        # inert inside the text format's fence, and inside a command the runner has parsed
        if fmt != "github":
            assert not any("##[" in line for line in lines), fmt
        commands = [line for line in lines if line.lstrip().startswith("::")]
        if fmt == "github":
            assert len(commands) == 1 and commands[0].startswith("::error file="), commands
        else:
            assert commands == [], (fmt, commands)


def test_text_in_github_actions_is_fenced(tmp_path: Path, rng: random.Random) -> None:
    (tmp_path / "a.txt").write_text(f"K = '{keys.sgai_uuid(rng)}'\n")
    proc = run_cli("scan", ".", cwd=tmp_path, env={"GITHUB_ACTIONS": "true"})
    first, last = proc.stdout.splitlines()[0], proc.stdout.splitlines()[-1]
    token = first.removeprefix("::stop-commands::")
    assert first.startswith("::stop-commands::") and last == f"::{token}::" and len(token) == 32


def test_author_and_ref_names_in_audit_are_escaped(tmp_path: Path, rng: random.Random) -> None:
    repo = Repo(tmp_path)
    repo.write("k.env", f"K={keys.tavily_current(rng)}\n")
    repo.add("k.env")
    repo.git(
        "-c",
        "user.name=Evil\x1b[2J",
        "commit",
        "-q",
        "--no-gpg-sign",
        "-m",
        "x",
        "--author",
        "Evil\u202e <e@example.invalid>",
    )
    repo.git("branch", "-f", "weird\u202ebranch")
    proc = run_cli("audit", ".", cwd=tmp_path)
    assert proc.returncode == 1
    assert "\u202e" not in proc.stdout and "\\u202e" in proc.stdout


# --- class 10: nothing the user typed comes back as a clear key -------------------------------


def test_typed_keys_are_redacted_in_every_error(tmp_path: Path, rng: random.Random) -> None:
    repo = Repo(tmp_path)
    repo.write("a.txt", "x\n")
    repo.commit("root")
    key = keys.tavily_current(rng)
    attempts = [
        ("scan", "--range", f"{key}..HEAD"),
        ("ci", "--base", key),
        ("scan", key),
        ("audit", key),
        ("scan", "--config", key),
        ("hook", f"--{key}"),
        ("allow", key, "--reason", "test"),
        ("scan", "--max-file-size", key),
    ]
    for args in attempts:
        proc = run_cli(*args, cwd=tmp_path)
        assert proc.returncode in (2, 3), (args, proc.stdout + proc.stderr)
        assert key not in proc.stdout + proc.stderr, args


def test_allow_regex_holding_a_key_is_not_echoed(tmp_path: Path, rng: random.Random) -> None:
    key = keys.sgai_uuid(rng)
    (tmp_path / ".sgai-guard.toml").write_text(f'allow-regex = ["({key}"]\n')
    (tmp_path / "a.txt").write_text("x\n")
    proc = run_cli("scan", ".", cwd=tmp_path)
    assert proc.returncode == 2 and "allow-regex" in proc.stderr
    assert key not in proc.stderr + proc.stdout


def test_file_named_like_a_key_is_redacted(tmp_path: Path, rng: random.Random) -> None:
    named = keys.tavily_current(rng)
    inside = keys.sgai_uuid(rng)
    (tmp_path / f"{named}.txt").write_text(f"K = '{inside}'\n")
    for fmt in ("text", "json", "sarif", "gitlab", "markdown", "github"):
        proc = run_cli("scan", ".", "--format", fmt, cwd=tmp_path, env={"CI_COMMIT_SHA": "a" * 40})
        assert proc.returncode == 1
        assert named not in proc.stdout and inside not in proc.stdout, fmt
    report = json.loads(run_cli("scan", ".", "--format", "json", cwd=tmp_path).stdout)
    assert report["findings"][0]["path"].endswith(named[-4:] + ".txt")


def test_a_key_in_an_encoded_or_split_form_is_never_echoed_by_a_reason(
    tmp_path: Path, rng: random.Random
) -> None:
    """Found by an attacker review: an inline marker's reason is the rest of its line, and
    redaction replaced the decoded key, which a base64 or split form does not spell: the
    JSON report (and text with --show-suppressed, and fleet result files) held it in clear."""
    encoded = base64.b64encode(f"x={keys.tavily_current(rng)}".encode()).decode()
    split = keys.tavily_current(rng)[9:]
    repo = Repo(tmp_path / "repo")
    repo.write(
        "x.py",
        f"a = 1  # sgai-guard: allow b64 {encoded}\n"
        f"b = 1  # sgai-guard: allow split 'tvly-dev-' + '{split}'\n",
    )
    repo.commit("x")
    for args in (["scan", "."], ["audit", "."]):
        for fmt in ("json", "text"):
            proc = run_cli(*args, "--format", fmt, "--show-suppressed", cwd=repo.path)
            out = proc.stdout + proc.stderr
            assert proc.returncode == 0, out
            assert "withheld" in out, out
            assert encoded not in out and split not in out, (args, fmt)


def test_markdown_names_neither_mention_nor_link(tmp_path: Path, rng: random.Random) -> None:
    """Found by an attacker review: a file named `@octo-org/admins … www.evil.example` went
    into the PR comment or job summary as is, pinging a team and showing a link. GitHub finds
    mentions and autolinks after entities are decoded (a review of the first fix), so names go
    in code spans, where it finds neither."""
    folder = tmp_path / "@octo-org"
    folder.mkdir()
    (folder / "admins www.Evil.example `x` https:x.env").write_text(f"K={keys.sgai_uuid(rng)}\n")
    proc = run_cli("scan", ".", "--format", "markdown", cwd=tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "| ``@octo-org/admins www.Evil.example `x` https:x.env``:1 |" in proc.stdout


def test_markdown_prose_breaks_mentions_references_and_autolinks() -> None:
    from sgai_guard.report.markdown import _cell, _code

    cell = _cell("see @octo-org/admins, #12, https://evil.example and WWW.evil.example")
    for live in ("@octo", "#12", "https://", "WWW.evil", "&#35;12"):
        assert live not in cell, (live, cell)
    assert cell.replace("\u200b", "") == (
        "see @octo-org/admins, &#35;12, https://evil.example and WWW.evil.example"
    )
    assert _code("a|b") == "`a\\|b`"
    assert _code("``x") == "``` ``x ```"


def test_a_key_written_twice_in_a_name_is_redacted_not_withheld(
    tmp_path: Path, rng: random.Random
) -> None:
    """Found by a review: the second copy of a plain key in a path was taken for an encoded
    form once the first was replaced, and the whole path was withheld."""
    key = keys.tavily_current(rng)
    folder = tmp_path / "cache" / key
    folder.mkdir(parents=True)
    (folder / f"{key}.json").write_text(f'{{"k": "{keys.sgai_uuid(rng)}"}}\n')
    code, report = run_json("scan", ".", cwd=tmp_path)
    assert code == 1, report
    [finding] = report["findings"]
    assert finding["path"].startswith("cache/tvly-") and key not in finding["path"]
    assert "withheld" not in finding["path"]
