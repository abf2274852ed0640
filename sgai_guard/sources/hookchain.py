"""The hook `install-hook --chain` writes: sgai-guard's check and the hook that was there.

The kept hook gets git's arguments and, for a push, the same standard input: a commit's
runs before the check, a push's only once the check passed (see ``script``); as git would
run it, only when it is executable. A shell script is
run with `$0` still the hook's own path: managers such as husky pick what to run from their
hook's file name, and under another name ran nothing (found by a review: a chained husky
hook, and the scanner it ran, were silently switched off).
"""

from __future__ import annotations

import os
import re
import shlex
import stat
from pathlib import Path

from sgai_guard import fsread

# zsh is not one: sourced, it sets $0 to the file (FUNCTION_ARGZERO)
_SHELLS = frozenset(("sh", "bash", "dash", "ksh", "ash", "busybox"))
_READ = 64 * 1024
_OWN_NAME = re.compile(rb"\$\{?0")
_SOURCING = re.compile(rb"BASH_SOURCE|\breturn\b")  # a top-level return acts otherwise
_FLAGS = re.compile(r"-[A-Za-z]+")
# the kept hook run by its shell with $0 (this hook's path) and the arguments git gave
_SOURCED = ' -c \'. "$SGAI_GUARD_CHAINED_HOOK"\' "$0" "$@"'


def script(head: str, check: str, name: str, runner: list[str] | None, pre_push: bool) -> str:
    """The hook's text: ``head`` (shebang and comment), ``check`` (the sgai-guard command),
    ``name`` (the kept hook, beside this one), ``runner`` (its shell, see ``shell_of``).
    A commit's check comes last: a kept hook may stage more (`git add -u` after a
    formatter), and the index the check reads must be the one committed (found by a
    review: a key staged by the kept hook was committed). A push's check comes first: the
    kept hook may upload what the push sends (git-lfs), which a refused push must not."""
    lines = [head.rstrip("\n"), f'next="${{0%/*}}"/{shlex.quote(name)}']  # keeps a newline
    if runner is not None:  # sourced, so that $0 stays this hook's path
        lines.append('SGAI_GUARD_CHAINED_HOOK="$next"; export SGAI_GUARD_CHAINED_HOOK')
        kept = " ".join(map(shlex.quote, runner)) + _SOURCED
    else:
        kept = '"$next" "$@"'
    if not pre_push:  # as git: a hook that is not executable is not run
        lines += [f'if [ -x "$next" ]; then {kept} || exit $?; fi', f"exec {check}"]
        return "\n".join(lines) + "\n"
    lines += ["input=$(mktemp) || exit 1", "trap 'rm -f \"$input\"' EXIT"]
    lines += ['cat > "$input" || exit 1', f'{check} < "$input" || exit $?']
    lines += ['[ -x "$next" ] || exit 0', f'{kept} < "$input"']  # the trap cleans up
    return "\n".join(lines) + "\n"


def shell_of(hook: Path) -> list[str] | None:
    """The shell to source a kept hook with, so that its `$0` stays the hook's path: only
    for a shell script that reads `$0` (a dispatcher) and does not test whether it is
    sourced (`BASH_SOURCE`, `return`: those run as they are, found by a review). Its first
    line names the shell: ``["/bin/sh"]``, ``["/usr/bin/env", "bash"]``, ``["/bin/bash",
    "-e"]``. None: the hook is run as it is. A link is read through (a dispatcher linked
    under each hook's name is the common case), but only to a regular file."""
    try:
        text = _head(hook)
    except (OSError, fsread.NotRegularError):
        return None
    first = text.split(b"\n", 1)[0]
    if not first.startswith(b"#!") or not _OWN_NAME.search(text) or _SOURCING.search(text):
        return None
    words = os.fsdecode(first[2:]).split()
    if not words:
        return None
    program = Path(words[0]).name
    if program == "env":
        return words if len(words) == 2 and words[1] in _SHELLS else None
    if program not in _SHELLS or len(words) > 2:
        return None
    if len(words) == 2 and not _FLAGS.fullmatch(words[1]):
        return None
    return words


def _head(hook: Path) -> bytes:
    """The start of a kept hook, through a link; never a FIFO or a device."""
    fd = os.open(hook, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise fsread.NotRegularError("not a regular file")
        return os.read(fd, _READ)
    finally:
        os.close(fd)
