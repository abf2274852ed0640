"""Installing sgai-guard as a plain git hook, without the pre-commit framework."""

from __future__ import annotations

import contextlib
import os
import shlex
import stat
import sys
from pathlib import Path

from sgai_guard import fsread
from sgai_guard.errors import UsageError
from sgai_guard.sources import gitcmd
from sgai_guard.sources.repo import Repository

MARKER = "# installed by sgai-guard"
_HOOK_LIMIT = 1 << 20  # a hook larger than this is read no further: it is not ours


# Git runs a hook at the top of the work tree. `python -m` and `python -c` put that folder
# first on sys.path, so a repository holding a folder `sgai_guard` (or `enum.py`) would run its
# own code in place of the scanner. Only absolute entries stay: the ones the environment
# configured (and no `re` or runpy either: they cost 5 ms a commit).
LAUNCH = (
    "import os, sys; sys.path[:] = [p for p in sys.path if os.path.isabs(p)]; "
    "from sgai_guard.entry import hook; hook()"
)


def hook_script(pre_push: bool) -> str:
    # a pre-push hook is told the remote's name and URL: only that remote's tracking refs
    # vouch for a new branch's commits (sources.pushed)
    args = ' --pre-push -- "$@"' if pre_push else ""
    return (
        "#!/bin/sh\n"
        f"{MARKER}: remove this file to uninstall\n"
        f"exec {shlex.quote(sys.executable)} -c {shlex.quote(LAUNCH)}{args}\n"
    )


def install(repo: Repository, *, pre_push: bool, force: bool) -> Path:
    """Write the hook; an existing hook that is not ours is kept unless ``force``. What is
    there is never opened unless it is a plain file (a FIFO or a link to /dev/tty would
    block), and never written through: the new hook replaces it whole, a symlink included
    (found by an attacker review: --force overwrote the file a symlinked hook points at)."""
    name = "pre-push" if pre_push else "pre-commit"
    hooks = gitcmd.output(
        ["rev-parse", "--git-path", "hooks"], repo.path, isolate=False, safe=False
    )
    target = Path(repo.path) / os.fsdecode(hooks.strip()) / name
    existing = _existing(target)
    if existing is not None and not force:
        raise UsageError(
            f"{target} exists and {existing}: chain it yourself, or pass --force to replace it"
        )
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        _replace(target, hook_script(pre_push).encode())
    except OSError as exc:  # a folder where the hook goes, a read-only hooks folder, ...
        raise UsageError(f"cannot write {target}: {exc.strerror or exc}") from exc
    return target


def _existing(target: Path) -> str | None:
    """Why what ``target`` holds is not ours to replace; None when nothing or ours is there."""
    info = fsread.lstat(target)
    if info is None:
        return None
    if not stat.S_ISREG(info.st_mode):  # never followed, even to a hook of ours
        return f"is {fsread.kind_of(info.st_mode)}, which is replaced only with --force"
    if info.st_size > _HOOK_LIMIT:
        return f"is larger than {_HOOK_LIMIT} bytes, so not a hook installed by sgai-guard"
    try:
        text = fsread.read_small(target, _HOOK_LIMIT).decode("utf-8", "replace")
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})"
    return None if MARKER in text else "was not installed by sgai-guard"


def _replace(target: Path, script: bytes) -> None:
    """Write ``script`` beside ``target``, then rename it over whatever ``target`` is."""
    temporary = target.with_name(f".{target.name}.sgai-guard-{os.getpid()}")
    with contextlib.suppress(FileNotFoundError):
        temporary.unlink()  # a leftover of an earlier run (unlink never follows a link)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(temporary, flags | getattr(os, "O_CLOEXEC", 0), 0o755)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(script)
            os.fchmod(handle.fileno(), 0o755)  # whatever the umask; never by path
        temporary.replace(target)
    except BaseException:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise
