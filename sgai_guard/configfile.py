"""Finding the configuration file without importing the configuration machinery.

The commit hook calls this on every commit; most repositories have no configuration, and then
nothing else of the configuration is imported (not even pathlib).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from _typeshed import StrPath

FILE_NAME = ".sgai-guard.toml"


def find(start: StrPath) -> str | None:
    """The nearest `.sgai-guard.toml`, or `pyproject.toml` mentioning sgai-guard, at or above
    ``start``, up to the repository root (the first folder holding .git)."""
    folder = os.path.realpath(start)
    while True:
        own = os.path.join(folder, FILE_NAME)
        if os.path.isfile(own):
            return own
        pyproject = os.path.join(folder, "pyproject.toml")
        if os.path.isfile(pyproject) and _mentions(pyproject):
            return pyproject
        parent = os.path.dirname(folder)
        if os.path.exists(os.path.join(folder, ".git")) or parent == folder:
            return None
        folder = parent


def _mentions(path: str) -> bool:
    with open(path, "rb") as handle:
        return b"sgai-guard" in handle.read()
