"""Listing files outside git: a directory walk that honours .gitignore files with pathspec."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from pathspec import GitIgnoreSpec

_Spec = tuple[str, GitIgnoreSpec]  # (directory relative to the root, its rules)


def walk(root: Path, *, use_gitignore: bool) -> Iterator[str]:
    """Forward-slash paths of the files under ``root``, relative to it; never enters .git."""
    specs: list[_Spec] = []
    for current, dirs, files in os.walk(root):
        rel_dir = Path(current).relative_to(root).as_posix()
        rel_dir = "" if rel_dir == "." else rel_dir + "/"
        if use_gitignore:
            specs = [s for s in specs if rel_dir.startswith(s[0])]
            spec = _load(Path(current) / ".gitignore")
            if spec is not None:
                specs.append((rel_dir, spec))
        dirs[:] = sorted(d for d in dirs if d != ".git" and not _ignored(specs, rel_dir + d + "/"))
        for name in sorted(files):
            if not _ignored(specs, rel_dir + name):
                yield rel_dir + name


def _load(path: Path) -> GitIgnoreSpec | None:
    try:
        lines = path.read_text("utf-8", "replace").splitlines()
    except OSError:
        return None
    return GitIgnoreSpec.from_lines(lines)


def _ignored(specs: list[_Spec], rel_path: str) -> bool:
    for base, spec in reversed(specs):  # the deepest .gitignore that decides wins
        result = spec.check_file(rel_path[len(base) :])
        if result.include is not None:
            return bool(result.include)
    return False
