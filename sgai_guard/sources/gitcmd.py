"""Running git: every process but those of the commit hook's quick path (sources.spawn) runs
through here: hardened (see sources.hardening), in a process group of its own, with a timeout,
and with git found in the absolute folders of PATH only.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence
from typing import IO, TYPE_CHECKING

from sgai_guard.errors import GitError, StalledError
from sgai_guard.sources import hardening
from sgai_guard.sources.gitargs import executable, git_argv, stalled, timeout

if TYPE_CHECKING:
    import subprocess
    from pathlib import Path

    from _typeshed import StrPath


_asked_for_safe_dirs: list[bool] = []


def _load_safe_directories() -> bool:
    """The user's own safe.directory entries (global and system configuration, which every
    other call isolates away), passed on with -c: a CI runner's checkout owned by another
    user stays readable exactly when plain git would read it. True if there were any."""
    _asked_for_safe_dirs.append(True)
    env = hardening.git_env(isolate=False)
    proc = spawn(["git", "config", "--get-all", "safe.directory"], os.sep, env, False)
    out, _ = proc.communicate()
    entries = [line for line in out.decode("utf-8", "surrogateescape").split("\n") if line]
    hardening.remember_safe_directories(entries)
    return bool(entries)


def _dubious(proc: subprocess.CompletedProcess[bytes]) -> bool:
    return proc.returncode != 0 and b"dubious ownership" in proc.stderr


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
    proc = _run_once(args, cwd, isolate, extra_config, keep_env, stdin, safe)
    if _dubious(proc) and not _asked_for_safe_dirs and _load_safe_directories():
        proc = _run_once(args, cwd, isolate, extra_config, keep_env, stdin, safe)
    return proc


def _run_once(
    args: Sequence[str],
    cwd: StrPath,
    isolate: bool,
    extra_config: Sequence[str],
    keep_env: Sequence[str],
    stdin: bytes | None,
    safe: bool,
) -> subprocess.CompletedProcess[bytes]:
    argv = git_argv(args, extra_config, safe=safe)
    import subprocess  # noqa: PLC0415 - a hook handed what it scans never runs git here

    proc = spawn(argv, cwd, hardening.git_env(isolate=isolate, keep=keep_env), stdin is not None)
    try:
        out, err = proc.communicate(stdin, timeout=timeout())
    except subprocess.TimeoutExpired:
        stop(proc)
        raise StalledError(stalled(args, cwd)) from None
    except BaseException:  # Ctrl-C: git runs in a session of its own, which ^C never reaches
        stop(proc)
        raise
    return subprocess.CompletedProcess(argv, proc.returncode, out, err)


def spawn(
    argv: list[str],
    cwd: StrPath,
    env: dict[str, str],
    stdin: bool | IO[bytes],
    stdout: IO[bytes] | None = None,
    stderr: IO[bytes] | None = None,
) -> subprocess.Popen[bytes]:
    """Start git in a process group of its own, so that a stalled git and every helper it
    started can be stopped together; one-line errors for the usual reasons it cannot start.
    ``stdin``: a pipe (True), nothing (False) or an open file; ``stdout`` and ``stderr``: a
    file, else a pipe."""
    import subprocess  # noqa: PLC0415

    if isinstance(stdin, bool):
        stdin_arg: int | IO[bytes] = subprocess.PIPE if stdin else subprocess.DEVNULL
    else:
        stdin_arg = stdin
    try:
        return subprocess.Popen(
            [executable(), *argv[1:]],
            cwd=cwd,
            env=env,
            stdin=stdin_arg,
            stdout=subprocess.PIPE if stdout is None else stdout,
            stderr=subprocess.PIPE if stderr is None else stderr,
            start_new_session=True,
        )
    except FileNotFoundError as exc:
        if not os.path.isdir(cwd):
            raise GitError(f"{os.fspath(cwd)!r}: no such directory") from exc
        raise GitError("git is not installed or not on PATH") from exc
    except NotADirectoryError as exc:
        raise GitError(f"{os.fspath(cwd)!r}: not a directory") from exc


def stop(proc: subprocess.Popen[bytes]) -> None:
    """Kill git and everything it started, then collect it."""
    _kill_group(proc)
    proc.communicate()


def kill(proc: subprocess.Popen[bytes]) -> None:
    """Kill git and everything it started, if git still runs (once collected, its process
    group's number may be another's); collecting it is left to its reader."""
    if proc.poll() is None:
        _kill_group(proc)


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    import signal  # noqa: PLC0415 - only when git has stalled

    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


def failure(args: Sequence[str], proc: subprocess.CompletedProcess[bytes]) -> GitError:
    """A one-line error naming the command and git's last line of complaint."""
    message = proc.stderr.decode("utf-8", "replace").strip().splitlines()
    detail = message[-1] if message else f"exit {proc.returncode}"
    return GitError(f"git {' '.join(args[:2])} failed: {detail}")


def output(args: Sequence[str], cwd: StrPath, **kwargs: object) -> bytes:
    """Run git and return stdout; a failure is a GitError naming the command."""
    proc = run(args, cwd, **kwargs)  # type: ignore[arg-type]
    if proc.returncode != 0:
        raise failure(args, proc)
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
    """The work tree root holding ``path``: the nearest folder upwards holding ``.git``, as
    the file system says, never as the repository's configuration (core.worktree) claims."""
    from pathlib import Path  # noqa: PLC0415 - only the work-tree scan asks this

    start = Path(os.path.abspath(path))
    for folder in (start, *start.parents):
        if os.path.lexists(folder / ".git"):
            hardening.check_metadata(folder)
            proc = run([work_tree(folder), "rev-parse", "--git-dir"], folder)
            return folder if proc.returncode == 0 else None
    return None


def work_tree(folder: StrPath) -> str:
    """The option that pins git's work tree to ``folder``, whatever core.worktree says."""
    return f"--work-tree={os.fspath(folder)}"
