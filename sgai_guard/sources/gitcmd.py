"""Running git on data we do not trust: nothing the repository configures may execute.

Every call switches off the settings through which a repository, or the user's global and
system configuration, can make git run a program or change what is read: fsmonitor, hooks,
textconv and external diff drivers, clean/smudge filters, ssh and askpass helpers, replace
refs and lazy fetches of missing objects in partial clones.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from typing import TYPE_CHECKING

from sgai_guard.errors import GitError

if TYPE_CHECKING:
    from pathlib import Path

    from _typeshed import StrPath

SAFE_CONFIG: tuple[str, ...] = (
    "core.fsmonitor=false",
    "core.hooksPath=/dev/null",
    "core.sshCommand=false",
    "core.askPass=",
    "core.pager=cat",
    "core.quotePath=false",
    "diff.external=",
    "credential.helper=",
    "protocol.allow=never",
    "filter.lfs.process=",
    "uploadpack.packObjectsHook=",
)
_ENV_DROP = (
    "GIT_EXTERNAL_DIFF",
    "GIT_ASKPASS",
    "SSH_ASKPASS",
    "GIT_SSH",
    "GIT_SSH_COMMAND",
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_CONFIG",
    "GIT_CONFIG_PARAMETERS",
    "GIT_CONFIG_COUNT",
    "GIT_PAGER",
    "GIT_EDITOR",
    "GIT_TRACE",
    "GIT_NAMESPACE",
)


def git_env(*, isolate: bool = True, keep: Sequence[str] = ()) -> dict[str, str]:
    """An environment in which git reads only the repository's own data.

    ``keep`` names variables that the caller sets on purpose (a hook's GIT_INDEX_FILE).
    """
    env = {k: v for k, v in os.environ.items() if k not in _ENV_DROP or k in keep}
    env.update(
        GIT_TERMINAL_PROMPT="0",
        GIT_NO_REPLACE_OBJECTS="1",
        GIT_NO_LAZY_FETCH="1",
        GIT_OPTIONAL_LOCKS="0",
        GIT_ATTR_NOSYSTEM="1",
        LC_ALL="C",
    )
    if isolate:
        env.update(GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull)
    return env


def git_argv(
    args: Sequence[str], extra_config: Sequence[str] = (), *, safe: bool = True
) -> list[str]:
    """``safe=False`` only for queries about the user's own setup (where its hooks live)."""
    argv = ["git", "--no-pager", "--no-replace-objects"]
    for setting in (*(SAFE_CONFIG if safe else ()), *extra_config):
        argv += ["-c", setting]
    return [*argv, *args]


def run(
    args: Sequence[str],
    cwd: StrPath,
    *,
    isolate: bool = True,
    extra_config: Sequence[str] = (),
    keep_env: Sequence[str] = (),
    stdin: bytes | None = None,
    safe: bool = True,
) -> subprocess.CompletedProcess[bytes]:
    """Run git and capture its output; raise GitError only when git itself is missing."""
    try:
        return subprocess.run(
            git_argv(args, extra_config, safe=safe),
            cwd=cwd,
            env=git_env(isolate=isolate, keep=keep_env),
            input=stdin,
            capture_output=True,
            check=False,
        )
    except FileNotFoundError as exc:
        raise GitError("git is not installed or not on PATH") from exc
    except NotADirectoryError as exc:
        raise GitError(f"{cwd}: not a directory") from exc


def output(args: Sequence[str], cwd: StrPath, **kwargs: object) -> bytes:
    """Run git and return stdout; a failure is a GitError naming the command."""
    proc = run(args, cwd, **kwargs)  # type: ignore[arg-type]
    if proc.returncode != 0:
        message = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        detail = message[-1] if message else f"exit {proc.returncode}"
        raise GitError(f"git {' '.join(args[:2])} failed: {detail}")
    return proc.stdout


def parse_version(text: str) -> tuple[int, int]:
    """(major, minor) from `git version` output such as "git version 2.39.5.windows.1"."""
    words = text.split()
    numbers = words[2].split(".") if len(words) > 2 else []
    try:
        return int(numbers[0]), int(numbers[1])
    except (IndexError, ValueError):
        return (0, 0)


def require_version(minimum: tuple[int, int], purpose: str) -> None:
    """A one-line error when the installed git is too old for ``purpose``."""
    found = parse_version(output(["version"], os.getcwd()).decode("utf-8", "replace"))
    if found < minimum:
        raise GitError(
            f"{purpose} needs git {minimum[0]}.{minimum[1]} or newer; "
            f"this git is {found[0]}.{found[1]}"
        )


def toplevel(path: StrPath) -> Path | None:
    """The work tree root holding ``path``, or None when it is not inside a git work tree."""
    proc = run(["rev-parse", "--show-toplevel"], path)
    if proc.returncode != 0:
        return None
    from pathlib import Path  # noqa: PLC0415 - only the work-tree scan asks this

    return Path(os.fsdecode(proc.stdout.rstrip(b"\n")))
