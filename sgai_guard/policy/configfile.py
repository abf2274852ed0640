"""Finding the configuration file without importing the configuration machinery.

The commit hook calls this on every commit; most repositories have no configuration, and then
nothing else of the configuration is imported (not even pathlib).
"""

from __future__ import annotations

import os
import sys

from sgai_guard import fsread

TYPE_CHECKING = False  # typing stays out of the commit hook's start-up
if TYPE_CHECKING:
    from _typeshed import StrPath

FILE_NAME = ".sgai-guard.toml"


def find(start: StrPath) -> str | None:
    """The nearest `.sgai-guard.toml`, or `pyproject.toml` with a `[tool.sgai-guard]` table,
    at or above ``start`` and no higher than the work tree root (the first folder holding
    .git). Outside a work tree (a plain folder, a bare repository) only ``start`` itself is
    looked at: a file in a folder above what is scanned, such as a shared /tmp, never
    applies."""
    folder = os.path.realpath(start)
    top = _work_tree_root(folder)
    while True:
        own = os.path.join(folder, FILE_NAME)
        if os.path.lexists(own):
            return own  # a symlink or FIFO is refused by the loader, with a clear error
        pyproject = os.path.join(folder, "pyproject.toml")
        if fsread.is_regular(pyproject) and _configures(pyproject):
            return pyproject
        parent = os.path.dirname(folder)
        if top is None or folder in (top, parent):
            return None
        folder = parent


def _work_tree_root(folder: str) -> str | None:
    while True:
        if os.path.lexists(os.path.join(folder, ".git")):
            return folder
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        folder = parent


def _configures(path: str) -> bool:
    try:
        data = fsread.read_small(path)
    except (OSError, fsread.NotRegularError):
        return False
    return configures(data)


def configures(data: bytes) -> bool:
    """Whether a `pyproject.toml`'s bytes have a `[tool.sgai-guard]` table (or are no TOML
    the loader could read: it then says why). Any mention was taken for one: a dependency on
    sgai-guard, or a comment, in a sub-project's file replaced the root's configuration (a
    review). TOML is parsed only for a file that mentions the name at all."""
    if b"sgai-guard" not in data:
        return False
    if sys.version_info >= (3, 11):
        import tomllib  # noqa: PLC0415
    else:  # pragma: no cover - exercised on Python 3.10 only
        import tomli as tomllib  # noqa: PLC0415
    try:
        document = tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError):
        return True
    tool = document.get("tool")
    return isinstance(tool, dict) and "sgai-guard" in tool


def says_nothing(path: str) -> bool:
    """True when ``path`` is a `.sgai-guard.toml` of comments and blank lines only (what
    `sgai-guard init` writes): a TOML document with no key, so every setting is its default,
    exactly as with no file. Without loading TOML (the commit hook's quick path): anything the
    TOML rules for comments would not accept is False, and the loader decides."""
    if os.path.basename(path) != FILE_NAME:
        return False
    try:
        text = fsread.read_small(path, 1 << 20).decode("utf-8")
    except (OSError, fsread.NotRegularError, UnicodeDecodeError):
        return False
    *lines, last = text.split("\n")
    return all(_comment_or_blank(line.removesuffix("\r")) for line in lines) and (
        _comment_or_blank(last)
    )


def _comment_or_blank(line: str) -> bool:
    """``line`` without its newline (and the CR before it, if any)."""
    line = line.lstrip(" \t")
    if not line:
        return True
    # TOML: no control character but tab in a comment (a lone CR included)
    return line[0] == "#" and all(c == "\t" or " " <= c != "\x7f" for c in line)
