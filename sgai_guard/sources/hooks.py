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
from sgai_guard.sources import gitcmd, hookchain
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


CHAINED = ".sgai-guard-chained"  # the hook that was there, run with the check (--chain)


def hook_script(pre_push: bool, chained: str | None = None, shell: list[str] | None = None) -> str:
    """The hook; ``chained``: the file name (beside it) of a hook to run with the check
    (sources.hookchain), ``shell`` the shell that one names."""
    # a pre-push hook is told the remote's name and URL: only that remote's tracking refs
    # vouch for a new branch's commits (sources.pushed)
    args = ' --pre-push -- "$@"' if pre_push else ""
    check = f"{shlex.quote(sys.executable)} -c {shlex.quote(LAUNCH)}{args}"
    if chained is None:
        return f"#!/bin/sh\n{MARKER}: remove this file to uninstall\nexec {check}\n"
    head = f"#!/bin/sh\n{MARKER}: to uninstall, move {chained} (it runs too) back to this name\n"
    return hookchain.script(head, check, chained, shell, pre_push)


def install(
    repo: Repository, *, pre_push: bool, force: bool, chain: bool = False
) -> tuple[Path, list[str]]:
    """Write the hook, and say what the user should know of it. An existing hook that is not
    ours is kept unless ``force``, or kept and run with the check with ``chain`` (git-lfs's
    own pre-push hook uploads the LFS objects of a push: replacing it would push pointers to
    objects the remote never gets); a hook chained before stays chained when ours is written
    again, and one left behind is never run unasked. What is there is never opened unless it
    is a plain file (a FIFO or a link to /dev/tty would block), and never written through:
    the new hook replaces it whole, a symlink included (found by an attacker review: --force
    overwrote the file a symlinked hook points at)."""
    name = "pre-push" if pre_push else "pre-commit"
    hooks = gitcmd.output(
        ["rev-parse", "--git-path", "hooks"], repo.path, isolate=False, safe=False
    )
    hooks = hooks[:-1] if hooks.endswith(b"\n") else hooks  # a path may end in a space
    target = Path(repo.path) / os.fsdecode(hooks) / name
    kept = target.with_name(name + CHAINED)
    existing = _existing(target)
    if existing is not None and not (force or chain):
        raise UsageError(
            f"{target} exists and {existing}: pass --chain to run it with sgai-guard's check, "
            "or --force to replace it"
        )
    chaining = chain or (existing is None and _chains(target, kept.name))
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        if existing is not None and chain:
            if fsread.lstat(kept) is not None:
                raise UsageError(f"{kept} exists already: move it away first")
            target.rename(kept)  # the link itself when it is one: never followed
        chained = kept.name if chaining and fsread.lstat(kept) is not None else None
        shell = hookchain.shell_of(kept) if chained else None
        _replace(target, hook_script(pre_push, chained, shell).encode())
    except OSError as exc:  # a folder where the hook goes, a read-only hooks folder, ...
        raise UsageError(f"cannot write {target}: {exc.strerror or exc}") from exc
    return target, _said(target, kept, chained)


def _chains(target: Path, name: str) -> bool:
    """Whether the hook of ours at ``target`` runs the kept hook ``name``."""
    try:
        return name in fsread.read_small(target, _HOOK_LIMIT).decode("utf-8", "replace")
    except (OSError, fsread.NotRegularError):
        return False


def _said(target: Path, kept: Path, chained: str | None) -> list[str]:
    if chained is not None:
        when = "after a check that passed" if target.name == "pre-push" else "before the check"
        return [f"{kept} runs {when}; to uninstall, move it back to {target}"]
    if fsread.lstat(kept) is not None:
        return [f"{kept} is not run: delete it, or install with --chain to run it too"]
    return []


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
