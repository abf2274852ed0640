"""Writing a report: to a file never through a symlink, or to a stream; when that fails, the
report goes to the other stream so that nothing found is lost."""

from __future__ import annotations

import errno
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TextIO

import click

from sgai_guard.errors import say

Pieces = Callable[[], Iterable[str]]  # a report, made afresh (in pieces) each time it is called
_BLOCK = 64 * 1024


def deliver(report: Pieces, path: Path | None, *, shown: Pieces, color: bool = False) -> bool:
    """Write ``report`` to ``path``, or ``shown`` (the report as a log may show it) to stdout.
    When that fails (a missing folder, no permission, a full disk, a symlink, a closed
    stdout) say so in one line and put the report on the other stream, so what was found is
    never lost; False tells the caller to exit 2."""
    if path is not None:
        problem = write_file(path, report())
        if problem is None:
            return True
        say(f"sgai-guard: error: cannot write the report to {path}: {problem}")
        say("sgai-guard: the report follows on standard output instead")
        if _stream(shown, sys.stdout, color) is None:
            return False
        say("sgai-guard: error: cannot write to standard output either; the report is on stderr")
        _stream(shown, sys.stderr, False)
        return False
    cut = _stream(shown, sys.stdout, color)
    if cut is None:
        return True
    partly = " (what reached it is incomplete)" if cut else ""
    say(f"sgai-guard: error: cannot write to standard output{partly}; the report follows on stderr")
    _stream(shown, sys.stderr, False)
    return False


def _stream(report: Pieces, stream: TextIO | None, color: bool) -> bool | None:
    """None once the whole report is written; else whether any of it was."""
    if stream is None:
        return False
    written = False
    try:
        for block in blocks(report()):
            click.echo(block, file=stream, nl=False, color=color)
            written = True
        stream.flush()
    except (OSError, ValueError):  # ValueError: a closed stream, or text it cannot encode
        return written
    return None


def blocks(pieces: Iterable[str], size: int = _BLOCK) -> Iterator[str]:
    """``pieces`` as blocks of about ``size`` characters: a report of 100,000 findings is not
    100,000 writes, and a pipe that closes (``| head``) fails a write instead of taking a short
    one without a word, as one write of megabytes can."""
    held: list[str] = []
    length = 0
    for piece in pieces:
        for start in range(0, len(piece), size):
            part = piece[start : start + size]
            if length + len(part) > size:
                yield "".join(held)
                held, length = [], 0
            held.append(part)
            length += len(part)
    if held:
        yield "".join(held)


def _linked_folder(path: Path) -> Path | None:
    """The first folder of ``path`` below the current folder that is a symlink: a checkout may
    hold one named like the folder a report goes to, pointing out of it (found by an attacker
    review: `--sarif reports/x.sarif` wrote through a committed `reports -> ../outside`, and
    so did `--sarif $GITHUB_WORKSPACE/reports/x.sarif`). Folders above the current one, and an
    absolute path outside it, are the user's own, links and all."""
    base = Path()
    if path.is_absolute():
        found = _below_current(Path("/" + str(path).lstrip("/")))  # `//x` is `/x` here
        if found is None:
            return None
        base, path = found
    folder = base
    for part in path.parts[:-1]:
        folder = folder / part
        if folder.is_symlink():
            return folder
    return None


def _below_current(path: Path) -> tuple[Path, Path] | None:
    """(the current folder, ``path`` relative to it) when ``path`` is below it, spelled
    through the physical current folder or the logical one a shell keeps in $PWD (found by a
    review: a checkout under a symlinked folder, as /tmp is on macOS, took $PWD/reports/x for
    a path outside)."""
    try:
        bases = [Path.cwd()]
    except OSError:
        return None
    logical = Path(os.environ.get("PWD") or ".")
    if logical.is_absolute() and logical.is_dir() and logical.samefile(bases[0]):
        bases.append(logical)
    for base in bases:
        try:
            return base, path.relative_to(base)
        except ValueError:
            continue
    return None


def _refusal(path: Path, exc: OSError) -> str:
    if isinstance(exc, FileExistsError):
        return "it exists already (--force replaces it)"
    if path.is_symlink():
        return "it is a symbolic link, and a report is never written through one"
    if exc.errno == errno.ENXIO:  # a FIFO nobody reads, opened without blocking
        return "it is not a plain file of its own (a FIFO)"
    return exc.strerror or str(exc)


def write_file(path: Path, report: str | Iterable[str], *, replace: bool = True) -> str | None:
    """Write ``report`` (text, or its pieces) to ``path``; what went wrong, or None. Never
    through a symlink (a checkout may hold one named like the report), never into a FIFO
    (opened without blocking, then checked), never into a file with other names (hard links);
    a character device such as /dev/null is fine; an existing file only when ``replace``."""
    import stat  # noqa: PLC0415

    flags = os.O_WRONLY | os.O_CREAT | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0)
    flags |= getattr(os, "O_CLOEXEC", 0) | (0 if replace else os.O_EXCL)
    linked = _linked_folder(path)
    if linked is not None:
        return f"its folder {linked} is a symbolic link, and a report is never written through one"
    try:
        fd = os.open(path, flags, 0o644)
    except OSError as exc:
        return _refusal(path, exc)
    info = os.fstat(fd)
    plain = stat.S_ISREG(info.st_mode) and info.st_nlink == 1
    if not plain and not stat.S_ISCHR(info.st_mode):  # /dev/null and the like are fine
        os.close(fd)
        return "it is not a plain file of its own (a FIFO, a socket or a hard link)"
    try:
        if plain:
            os.ftruncate(fd, 0)
        # a text no UTF-8 can hold (a name's stray bytes) is written escaped, not half-written
        with os.fdopen(fd, "w", encoding="utf-8", errors="backslashreplace") as handle:
            handle.writelines(blocks((report,) if isinstance(report, str) else report))
    except OSError as exc:
        return exc.strerror or str(exc)
    return None
