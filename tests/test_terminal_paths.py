"""What a person at a terminal meets and the rest of the suite does not: a progress line on
stderr, output that goes to a screen, hooks folders that hold something else than a file.
Found by session 13's attacker review of the terminal-only paths."""

from __future__ import annotations

import os
import pty
import random
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests import keys
from tests.cli_helpers import run_cli
from tests.gitrepo import Repo, git_env


def _run(
    args: list[str],
    cwd: Path,
    *,
    stdin: int | None = None,
    stdout: int = subprocess.PIPE,
    stderr: int = subprocess.PIPE,
    preexec: Callable[[], None] | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """The CLI with the standard streams a test chooses (tests.cli_helpers.run_cli pipes
    all three)."""
    return subprocess.run(
        [sys.executable, "-m", "sgai_guard", *args],
        cwd=cwd,
        env={**git_env(), **(env or {})},
        stdin=stdin,
        stdout=stdout,
        stderr=stderr,
        text=True,
        check=False,
        preexec_fn=preexec,
        timeout=120,
    )


def _close_stderr() -> None:
    os.close(2)


@pytest.fixture
def repos(tmp_path: Path, rng: random.Random) -> tuple[Path, Path]:
    keyed, clean = Repo(tmp_path / "keyed"), Repo(tmp_path / "clean")
    keyed.write("k.env", f"K={keys.tavily_current(rng)}\n")
    keyed.commit("a key")
    clean.write("a.txt", "nothing\n")
    clean.commit("nothing")
    return keyed.path, clean.path


@pytest.mark.parametrize("stderr", ["broken pipe", "closed"])
@pytest.mark.parametrize("command", ["audit", "scan", "fleet"])
def test_a_progress_line_that_cannot_be_written_changes_nothing(
    repos: tuple[Path, Path], stderr: str, command: str
) -> None:
    """The progress line is decoration. Before, a stderr whose reader went away made click
    end the run with exit 1 ("secrets found") and no report, clean or not, and a closed
    stderr ended it as an internal error, exit 3, with no report either."""
    keyed, clean = repos
    for repo, expected in ((keyed, 1), (clean, 0)):
        args = {
            "audit": ["audit", str(repo)],
            "scan": ["scan", str(repo)],
            "fleet": ["audit", str(repo), str(clean), "--jobs", "1"],
        }[command]
        quiet = _run([*args, "--progress", "never"], repo, stderr=subprocess.DEVNULL)
        assert quiet.returncode == expected, quiet.stdout
        read_end, write_end = os.pipe()
        os.close(read_end)
        try:
            if stderr == "broken pipe":
                shown = _run([*args, "--progress", "always"], repo, stderr=write_end)
            else:
                shown = _run(
                    [*args, "--progress", "always"],
                    repo,
                    stderr=subprocess.DEVNULL,
                    preexec=_close_stderr,
                )
        finally:
            os.close(write_end)
        assert shown.returncode == expected, shown.stdout
        assert "Scanned" in shown.stdout and shown.stdout == _timeless(quiet.stdout, shown)


def _timeless(text: str, like: subprocess.CompletedProcess[str]) -> str:
    """``text`` with the run's seconds put as ``like`` says them (the only difference)."""
    seconds = re.findall(r"in [0-9.]+ s", like.stdout)
    return re.sub(r"in [0-9.]+ s", lambda _: seconds.pop(0), text) if seconds else text


@pytest.mark.parametrize("args", [["install-hook"], ["--version"], ["audit", "--help"]])
def test_a_pipe_that_breaks_is_exit_2_not_1(tmp_path: Path, args: list[str]) -> None:
    """click ends a command whose output pipe broke with exit 1, which means "secrets
    found": `install-hook | head -0` on a clean repository said keys were found. Exit 2
    now, as for a report that cannot be delivered."""
    repo = Repo(tmp_path / "repo")
    repo.commit("root")
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        proc = _run(args, repo.path, stdout=write_end)
    finally:
        os.close(write_end)
    assert proc.returncode == 2, proc.stderr


@pytest.mark.parametrize("kind", ["fifo", "symlink", "tty", "dangling"])
def test_install_hook_never_opens_nor_writes_through_what_is_there(
    tmp_path: Path, kind: str
) -> None:
    """A FIFO (or a link to /dev/tty, on a terminal) where the hook goes blocked
    install-hook for good, and --force wrote the hook into the file a symlinked hook points
    at (a dangling link made the file it names)."""
    repo = Repo(tmp_path / "repo")
    repo.commit("root")
    hook = repo.path / ".git" / "hooks" / "pre-commit"
    victim = tmp_path / "victim.txt"
    if kind == "fifo":
        os.mkfifo(hook)
    elif kind == "symlink":
        victim.write_text("precious\n")
        hook.symlink_to(victim)
    elif kind == "tty":
        hook.symlink_to("/dev/tty")
    else:
        hook.symlink_to(victim)
    refused = run_cli("install-hook", cwd=repo.path, timeout=60)
    assert refused.returncode == 2, refused.stderr
    assert ("a FIFO" if kind == "fifo" else "a symbolic link") in refused.stderr
    forced = run_cli("install-hook", "--force", cwd=repo.path, timeout=60)
    assert forced.returncode == 0, forced.stderr
    assert hook.is_file() and not hook.is_symlink() and os.access(hook, os.X_OK)
    assert "# installed by sgai-guard" in hook.read_text()
    if kind == "symlink":
        assert victim.read_text() == "precious\n"
    elif kind == "dangling":
        assert not victim.exists()
    assert run_cli("install-hook", cwd=repo.path, timeout=60).returncode == 0  # ours now


def test_install_hook_says_the_path_escaped_and_redacted(
    tmp_path: Path, rng: random.Random
) -> None:
    """The hooks folder comes from the repository's own core.hooksPath: its name went to
    the terminal raw (escape sequences that move the cursor or set the window's title) and
    with a key in it in clear."""
    repo = Repo(tmp_path / "repo")
    repo.commit("root")
    key = keys.tavily_current(rng)
    folder = f"{tmp_path}/hooks\x1b]0;title\x07\x1b[2K/{key}"
    repo.git("config", "core.hooksPath", folder)
    proc = run_cli("install-hook", cwd=repo.path, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "\x1b" not in proc.stdout and "\x07" not in proc.stdout
    assert key not in proc.stdout + proc.stderr and "installed" in proc.stdout
    assert (Path(folder) / "pre-commit").is_file()


@pytest.mark.parametrize("stdin", ["terminal", "/dev/null", "closed"])
@pytest.mark.parametrize("flag", ["--pre-push", "--pre-receive"])
def test_a_push_hook_not_fed_by_git_is_a_usage_error(
    tmp_path: Path, rng: random.Random, flag: str, stdin: str
) -> None:
    """Git writes the refs pushed on a push hook's stdin, through a pipe. With a terminal,
    /dev/null or nothing there (a person, or a hook manager that does not pass git's stdin
    on, such as lefthook without use_stdin) the hook said "git named no ref to push:
    nothing to scan" and exited 0, with a key waiting to be pushed: every push went through
    unscanned. The pre-commit framework (PRE_COMMIT set) hands /dev/null to a hook run by
    hand: a pre-receive hook stays "nothing to scan", and a push hook, which the framework
    gives a push's refs in variables, says it was given none (exit 2)."""
    repo = Repo(tmp_path / "repo")
    repo.write("k.env", f"K={keys.tavily_current(rng)}\n")
    repo.commit("a key")
    main_end, terminal = pty.openpty()
    null = os.open(os.devnull, os.O_RDONLY)
    feed = {"terminal": terminal, "/dev/null": null, "closed": subprocess.DEVNULL}[stdin]
    try:
        runs = [
            _run(
                ["hook", flag],
                repo.path,
                stdin=feed,
                env=extra,
                preexec=(lambda: os.close(0)) if stdin == "closed" else None,
            )
            for extra in ({}, {"PRE_COMMIT": "1"})
        ]
    finally:
        for fd in (terminal, main_end, null):
            os.close(fd)
    refused, framework = runs
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "standard input" in refused.stderr
    if stdin == "/dev/null" and flag == "--pre-push":  # run by hand, without a push's refs
        assert framework.returncode == 2 and "without the refs of a push" in framework.stderr
    elif stdin == "/dev/null":
        assert framework.returncode == 0 and "nothing to scan" in framework.stdout
    else:  # a terminal would be waited on, and nothing is not what git gives
        assert framework.returncode == 2, framework.stdout + framework.stderr
