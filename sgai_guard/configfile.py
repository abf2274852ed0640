"""Finding the configuration file without importing the configuration machinery.

The commit hook calls this on every commit; most repositories have no configuration, and then
nothing else of the configuration is imported.
"""

from __future__ import annotations

from pathlib import Path

FILE_NAME = ".sgai-guard.toml"


def find(start: Path) -> Path | None:
    """The nearest `.sgai-guard.toml`, or `pyproject.toml` mentioning sgai-guard, at or above
    ``start``, up to the repository root (the first folder holding .git)."""
    here = start.resolve()
    for folder in [here, *here.parents]:
        own = folder / FILE_NAME
        if own.is_file():
            return own
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file() and b"sgai-guard" in pyproject.read_bytes():
            return pyproject
        if (folder / ".git").exists():
            break
    return None
