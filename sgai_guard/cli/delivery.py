"""Writing a report: to a file never through a symlink, or to a stream; when that fails, the
report goes to the other stream so that nothing found is lost."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TextIO

import click

from sgai_guard.errors import say


def deliver(report: str, path: Path | None, *, shown: str, color: bool = False) -> bool:
    """Write ``report`` to ``path``, or ``shown`` (the report as a log may show it) to stdout.
    When that fails (a missing folder, no permission, a full disk, a symlink, a closed
    stdout) say so in one line and put the report on the other stream, so what was found is
    never lost; False tells the caller to exit 2."""
    if path is not None:
        problem = write_file(path, report)
        if problem is None:
            return True
        say(f"sgai-guard: error: cannot write the report to {path}: {problem}")
        say("sgai-guard: the report follows on standard output instead")
        _stream(shown, sys.stdout, color)
        return False
    if _stream(shown, sys.stdout, color):
        return True
    say("sgai-guard: error: cannot write to standard output; the report follows on stderr")
    _stream(shown, sys.stderr, False)
    return False


def _stream(report: str, stream: TextIO | None, color: bool) -> bool:
    if stream is None:
        return False
    try:
        click.echo(report, file=stream, nl=False, color=color)
        stream.flush()
    except (OSError, ValueError):
        return False
    return True


def write_file(path: Path, report: str) -> str | None:
    """Write without following a symlink (a checkout may hold one named like the report, to
    make the scanner overwrite another file); what went wrong, or None."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags | getattr(os, "O_CLOEXEC", 0), 0o644)
    except OSError as exc:
        if path.is_symlink():
            return "it is a symbolic link, and a report is never written through one"
        return exc.strerror or str(exc)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(report)
    except OSError as exc:
        return exc.strerror or str(exc)
    return None
