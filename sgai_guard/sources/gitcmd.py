"""Running git on data we do not trust: nothing the repository configures may execute.

The trust boundary in one place. Three mechanisms, each closing a whole class:

1. The environment is an allowlist. Every ``GIT_*`` variable of the caller is dropped (they can
   name programs, other repositories, other config files or a different exec path) except the
   few a git hook is handed by git itself for this very repository (``inherit``).
2. ``PROGRAM_KEYS``: every configuration key that can name a program is either overridden on
   the command line (the command scope is read last and is "protected", so it beats the
   repository's own value) or, for keys under a subsection (``diff.<driver>.textconv``), never
   consulted by any command we run: plumbing with ``--raw`` and ``-z``, ``cat-file`` without
   ``--textconv``/``--filters``, no porcelain that diffs content, merges, signs or edits.
   tests/test_program_keys.py enumerates the installed git's own list of keys and plants each.
3. Transports: ``GIT_ALLOW_PROTOCOL`` overrides every ``protocol.*.allow`` in any config. It is
   empty (nothing may be fetched, so a partial clone never fetches a missing object) except for
   ``fetch_config``: https, ssh and git, plus file only for a URL the user gave.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Sequence
from typing import TYPE_CHECKING

from sgai_guard.errors import GitError, StalledError

if TYPE_CHECKING:
    from pathlib import Path

    from _typeshed import StrPath

# key: how it is neutralised. A value is the -c override; None: no command we run reads it.
PROGRAM_KEYS: dict[str, str | None] = {
    "core.fsmonitor": "false",
    "core.hooksPath": os.devnull,
    "core.sshCommand": "false",
    "core.askPass": "",
    "core.editor": "false",
    "core.pager": "cat",
    "core.gitProxy": None,  # multi-valued: GIT_PROXY_COMMAND="" below overrides it
    "core.alternateRefsCommand": "",
    "sequence.editor": "false",
    "diff.external": "",
    "diff.tool": "",
    "diff.guitool": "",
    "merge.tool": "",
    "merge.guitool": "",
    "credential.helper": "",  # an empty value resets the list of helpers
    "gpg.program": "false",
    "gpg.openpgp.program": "false",
    "gpg.x509.program": "false",
    "gpg.ssh.program": "false",
    "gpg.ssh.defaultKeyCommand": "",
    "log.showSignature": "false",
    "uploadpack.packObjectsHook": "",
    "help.browser": "",
    "web.browser": "",
    "instaweb.browser": "",
    "sendemail.smtpServer": "",
    "sendemail.toCmd": "",
    "sendemail.ccCmd": "",
    "sendemail.sendmailCmd": "",
    "interactive.diffFilter": "",
    "http.proxy": "",
    "maintenance.auto": "false",
    "gc.auto": "0",
    "fetch.recurseSubmodules": "false",
    "submodule.recurse": "false",
    "protocol.allow": "never",
    # Subsections: read only by porcelain we never run (diffs of content, merges, tools,
    # remotes by name, aliases). The planted-program test proves each stays silent.
    "diff.<driver>.textconv": None,
    "diff.<driver>.command": None,
    "filter.<driver>.clean": None,
    "filter.<driver>.smudge": None,
    "filter.<driver>.process": None,
    "merge.<driver>.driver": None,
    "difftool.<tool>.cmd": None,
    "difftool.<tool>.path": None,
    "mergetool.<tool>.cmd": None,
    "mergetool.<tool>.path": None,
    "guitool.<name>.cmd": None,
    "browser.<tool>.cmd": None,
    "browser.<tool>.path": None,
    "man.<tool>.cmd": None,
    "man.<tool>.path": None,
    "trailer.<token>.command": None,
    "trailer.<token>.cmd": None,
    "credential.<url>.helper": None,  # credential.helper="" resets these too
    "remote.<name>.uploadpack": None,  # fetches go to an explicit URL, never a named remote
    "remote.<name>.receivepack": None,
    "remote.<name>.vcs": None,
    "remote.<name>.proxy": None,
    "url.<base>.insteadOf": None,  # whatever it rewrites to, GIT_ALLOW_PROTOCOL decides
    "url.<base>.pushInsteadOf": None,
    "protocol.<name>.allow": None,  # GIT_ALLOW_PROTOCOL overrides it
    "gpg.<format>.program": None,  # the three formats git knows are overridden above
    "pager.<cmd>": None,  # --no-pager
    "alias.<name>": None,  # aliases never shadow the built-in commands we call
    "submodule.<name>.update": None,  # nothing we run updates submodules
}

# Variables git sets for a hook it runs: they name this repository, never a program.
HOOK_VARIABLES = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_COMMON_DIR")
_SET = {
    "GIT_TERMINAL_PROMPT": "0",
    "GIT_NO_REPLACE_OBJECTS": "1",
    "GIT_NO_LAZY_FETCH": "1",
    "GIT_OPTIONAL_LOCKS": "0",
    "GIT_ATTR_NOSYSTEM": "1",
    "GIT_ALLOW_PROTOCOL": "",
    "GIT_PROTOCOL_FROM_USER": "0",
    "GIT_PROXY_COMMAND": "",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "LC_ALL": "C",
}
_DROP_ALSO = ("SSH_ASKPASS", "PAGER", "EDITOR", "VISUAL")
# Where the user's own configuration lives: kept only for reading that configuration.
_USER_CONFIG = ("GIT_CONFIG_GLOBAL", "GIT_CONFIG_SYSTEM", "GIT_CONFIG_NOSYSTEM")
_inherited: set[str] = set()
_safe_dirs: list[str] | None = None  # the user's own safe.directory entries, once needed

SAFE_CONFIG: tuple[str, ...] = (
    *(f"{key}={value}" for key, value in PROGRAM_KEYS.items() if value is not None),
    "core.quotePath=false",
)


def inherit(names: Sequence[str]) -> None:
    """Keep these caller variables from now on: only for a hook, whose environment git set."""
    _inherited.update(names)


def git_env(*, isolate: bool = True, keep: Sequence[str] = ()) -> dict[str, str]:
    """An environment in which git reads only the repository's own data."""
    kept = _inherited.union(keep, () if isolate else _USER_CONFIG)
    env = {
        k: v
        for k, v in os.environ.items()
        if (not k.startswith("GIT_") and k not in _DROP_ALSO) or k in kept
    }
    env.update({k: v for k, v in _SET.items() if isolate or k not in _USER_CONFIG})
    return env


def git_argv(
    args: Sequence[str], extra_config: Sequence[str] = (), *, safe: bool = True
) -> list[str]:
    """``safe=False`` only for queries about the user's own setup (where its hooks live)."""
    argv = ["git", "--no-pager", "--no-replace-objects"]
    for setting in (*(SAFE_CONFIG if safe else ()), *_safe_directories(), *extra_config):
        argv += ["-c", setting]
    return [*argv, *args]


def _safe_directories() -> tuple[str, ...]:
    return tuple(f"safe.directory={d}" for d in _safe_dirs or ())


def _load_safe_directories() -> bool:
    """The user's own safe.directory entries (global and system configuration, which every
    other call isolates away), passed on with -c: a CI runner's checkout owned by another
    user stays readable exactly when plain git would read it. True if there were any."""
    global _safe_dirs  # noqa: PLW0603 - read once per process, only after git refused
    if _safe_dirs is None:
        proc = spawn(
            ["git", "config", "--get-all", "safe.directory"], os.sep, git_env(isolate=False), False
        )
        out, _ = proc.communicate()
        text = out.decode("utf-8", "surrogateescape")
        _safe_dirs = [line for line in text.split("\n") if line]
    return bool(_safe_dirs)


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
    if _dubious(proc) and _safe_dirs is None and _load_safe_directories():
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
    proc = spawn(argv, cwd, git_env(isolate=isolate, keep=keep_env), stdin is not None)
    try:
        out, err = proc.communicate(stdin, timeout=timeout())
    except subprocess.TimeoutExpired:
        stop(proc)
        raise StalledError(
            f"git {' '.join(args[:2])} did not finish within {timeout():g} s in "
            f"{os.fspath(cwd)!r} (a FIFO or a stalled file system in the repository?)"
        ) from None
    return subprocess.CompletedProcess(argv, proc.returncode, out, err)


def spawn(
    argv: list[str], cwd: StrPath, env: dict[str, str], stdin: bool
) -> subprocess.Popen[bytes]:
    """Start git in a process group of its own, so that a stalled git and every helper it
    started can be stopped together; one-line errors for the usual reasons it cannot start."""
    try:
        return subprocess.Popen(
            [executable(), *argv[1:]],
            cwd=cwd,
            env=env,
            stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
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
    import signal  # noqa: PLC0415 - only when git has stalled

    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate()


def timeout() -> float:
    """Seconds one git command may take before the scan is declared incomplete (exit 3).
    Generous by default; SGAI_GUARD_GIT_TIMEOUT sets it."""
    try:
        return max(float(os.environ.get("SGAI_GUARD_GIT_TIMEOUT", "600")), 0.1)
    except ValueError:
        return 600.0


_executable: list[str] = []


def executable() -> str:
    """git, looked up once in the absolute folders of PATH: a relative entry such as "." would
    otherwise find a `git` planted in the scanned repository (the child runs there)."""
    if not _executable:
        for folder in os.environ.get("PATH", os.defpath).split(os.pathsep):
            candidate = os.path.join(folder, "git")
            if os.path.isabs(folder) and os.access(candidate, os.X_OK):
                _executable.append(candidate)
                break
        else:
            raise GitError("git is not installed or not on PATH (absolute folders only)")
    return _executable[0]


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


# Transports a fetch may use. file only when the user typed the URL: a repository's own
# configuration must not point a fetch at another local repository.
NETWORK_TRANSPORTS = ("https", "ssh", "git")


def fetch(
    cwd: StrPath, url: str, options: Sequence[str], refspecs: Sequence[str], *, allow_file: bool
) -> bool:
    """The one network operation (deepening a CI clone): an explicit URL, never a named
    remote (whose uploadpack, vcs and proxy settings would apply), over allowed transports."""
    transports = (*NETWORK_TRANSPORTS, *(("file",) if allow_file else ()))
    overrides = _fetch_overrides(cwd, url)
    argv = git_argv(
        [
            "fetch",
            "--no-tags",
            "--quiet",
            "--no-recurse-submodules",
            "--no-write-fetch-head",
            "--upload-pack=git-upload-pack",
            *options,
            "--end-of-options",
            url,
            *refspecs,
        ],
        ("core.sshCommand=ssh", *overrides),
    )
    env = {**git_env(), "GIT_ALLOW_PROTOCOL": ":".join(transports)}
    proc = spawn(argv, cwd, env, False)
    try:
        proc.communicate(timeout=timeout())
    except subprocess.TimeoutExpired:
        stop(proc)
        return False
    return proc.returncode == 0


def _fetch_overrides(cwd: StrPath, url: str) -> tuple[str, ...]:
    """-c settings that take back what the repository's own config would do to this fetch:
    every proxy it names (``http.<url>.proxy`` beats a plain ``http.proxy`` override) is
    emptied. A remote section named like the URL (``remote."<URL>".url``) would silently send
    the fetch elsewhere: that is refused."""
    proc = run(["config", "-z", "--get-regexp", r"^(http\..*proxy|remote\..*\.[a-z]*url)$"], cwd)
    overrides = []
    for record in proc.stdout.split(b"\0"):
        key = record.split(b"\n", 1)[0].decode("utf-8", "surrogateescape")
        if key.startswith("http.") and key.lower().endswith(".proxy"):
            overrides.append(f"{key}=")
        elif key.startswith("remote.") and key[len("remote.") : key.rfind(".")] in (url, url + "/"):
            raise GitError(
                "the repository configures a remote named like the URL to fetch "
                "(remote.<URL>.url): refusing to let it redirect the fetch"
            )
    return tuple(overrides)


def toplevel(path: StrPath) -> Path | None:
    """The work tree root holding ``path``: the nearest folder upwards holding ``.git``, as
    the file system says, never as the repository's configuration (core.worktree) claims."""
    from pathlib import Path  # noqa: PLC0415 - only the work-tree scan asks this

    start = Path(os.path.abspath(path))
    for folder in (start, *start.parents):
        if os.path.lexists(folder / ".git"):
            check_metadata(folder)
            proc = run([work_tree(folder), "rev-parse", "--git-dir"], folder)
            return folder if proc.returncode == 0 else None
    return None


def work_tree(folder: StrPath) -> str:
    """The option that pins git's work tree to ``folder``, whatever core.worktree says."""
    return f"--work-tree={os.fspath(folder)}"


# Files git opens at start-up or while listing; a FIFO or device there would block it forever.
_METADATA = (
    "config",
    "config.worktree",
    "HEAD",
    "index",
    "packed-refs",
    "shallow",
    "commondir",
    "MERGE_HEAD",
    "info/exclude",
    "info/attributes",
    "objects/info/alternates",
)


def check_metadata(folder: StrPath) -> None:
    """Refuse a repository whose git metadata files are FIFOs, sockets or devices (checked
    through symlinks), before any git process can block on one. A few lstat calls: cheap
    enough for the commit hook. What this cannot see (an include.path naming a FIFO) is left
    to the timeout."""
    import stat  # noqa: PLC0415 - os has already imported it

    for base in (os.path.join(folder, ".git"), os.fspath(folder)):
        for name in _METADATA:
            path = os.path.join(base, name)
            try:
                mode = os.stat(path).st_mode
            except OSError:
                continue
            if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
                raise GitError(f"{path} is not a regular file: refusing to let git open it")
