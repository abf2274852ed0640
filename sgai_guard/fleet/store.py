"""The results folder: ``OUT/<name>@<state>.json`` per repository, written atomically (a
crash never leaves half a file), one file per repository (a newer state replaces an older
one). ``@<state>-incomplete`` and ``@error`` files are retried by the next run."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from sgai_guard.fleet.resultfile import Stored, dump, load

SUFFIX = ".json"
INCOMPLETE = "-incomplete"
ERROR = "error"


def parse_name(filename: str) -> tuple[str, str] | None:
    """(name, state) of a result file's name, or None for anything else in the folder."""
    if not filename.endswith(SUFFIX) or filename.startswith("."):
        return None
    name, sep, state = filename.removesuffix(SUFFIX).rpartition("@")
    return (name, state) if sep and name else None


def file_name(item: Stored, complete: bool) -> str:
    if item.result is None:
        return f"{item.name}@{ERROR}{SUFFIX}"
    return f"{item.name}@{item.state}{'' if complete else INCOMPLETE}{SUFFIX}"


class Store:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def files(self) -> Iterator[tuple[Path, str, str]]:
        """(path, name, state) of every result file, sorted by file name."""
        if not self.folder.is_dir():
            return
        for entry in sorted(p.name for p in self.folder.iterdir()):
            parsed = parse_name(entry)
            if parsed is not None:
                yield self.folder / entry, *parsed

    def done(self) -> dict[str, frozenset[str]]:
        """For each repository, the states whose complete result is written: a rerun skips."""
        found: dict[str, set[str]] = {}
        for _, name, state in self.files():
            if state != ERROR and not state.endswith(INCOMPLETE):
                found.setdefault(name, set()).add(state)
        return {name: frozenset(states) for name, states in found.items()}

    def path_of(self, name: str, state: str) -> Path:
        return self.folder / f"{name}@{state}{SUFFIX}"

    def write(self, item: Stored, complete: bool) -> Path:
        """Write atomically, then drop the repository's older files."""
        self.folder.mkdir(parents=True, exist_ok=True)
        final = self.folder / file_name(item, complete)
        fd, temp = tempfile.mkstemp(prefix=".tmp-", suffix=SUFFIX, dir=self.folder)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(dump(item))
                handle.flush()
                os.fsync(handle.fileno())
            Path(temp).replace(final)
        except BaseException:
            with contextlib.suppress(OSError):
                Path(temp).unlink()
            raise
        for path, name, _ in list(self.files()):
            if name == item.name and path != final:
                with contextlib.suppress(OSError):
                    path.unlink()
        return final

    def read(self, path: Path) -> Stored:
        return load(path.read_text(encoding="utf-8"), str(path))

    def latest(self) -> list[Path]:
        """One file per repository (the newest, if a crash left two), by name."""
        chosen: dict[str, Path] = {}
        for path, name, _ in self.files():
            if name not in chosen or path.stat().st_mtime_ns > chosen[name].stat().st_mtime_ns:
                chosen[name] = path
        return [chosen[name] for name in sorted(chosen)]
