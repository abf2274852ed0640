"""Running the real command line in a child process, as a user would."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.gitrepo import git_env


def run_cli(
    *args: str,
    cwd: Path,
    env: dict[str, str] | None = None,
    stdin: bytes | None = None,
    preexec_fn: Callable[[], None] | None = None,
    timeout: float = 300,
) -> subprocess.CompletedProcess[str]:
    """The CLI as a user runs it; ``timeout`` turns a hang into a failure, not a stuck run."""
    full_env = git_env()
    full_env.pop("NO_COLOR", None)
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "sgai_guard", *args],
        cwd=cwd,
        env=full_env,
        input=stdin.decode() if stdin is not None else None,
        capture_output=True,
        text=True,
        check=False,
        preexec_fn=preexec_fn,
        timeout=timeout,
    )


def run_json(*args: str, cwd: Path, env: dict[str, str] | None = None) -> tuple[int, Any]:
    proc = run_cli(*args, "--format", "json", cwd=cwd, env=env)
    return proc.returncode, json.loads(proc.stdout)


def peak_kib(args: list[str], cwd: Path) -> tuple[subprocess.CompletedProcess[str], int]:
    """Run the CLI from a fresh process that reports the peak memory of its children."""
    probe = (
        "import resource, subprocess, sys; p = subprocess.run(sys.argv[1:], capture_output=True,"
        " text=True); sys.stdout.write(p.stdout); "
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr);"
        "sys.exit(p.returncode)"
    )
    proc = subprocess.run(
        [sys.executable, "-c", probe, sys.executable, "-m", "sgai_guard", *args],
        cwd=cwd,
        env=git_env(),
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    return proc, int(proc.stderr.strip().splitlines()[-1])
