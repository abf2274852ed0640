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
        self._trusted()
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

    def _trusted(self) -> None:
        """Results decide what a rerun skips and what a merge reports: a folder another user
        owns, or that others may write to, could hold planted ones."""
        from sgai_guard.errors import ConfigError  # noqa: PLC0415

        info = self.folder.stat()
        if info.st_uid != os.getuid() or info.st_mode & 0o022:
            raise ConfigError(
                f"{self.folder}: owned by another user or writable by others: results there "
                "could be planted (use a folder of your own, chmod go-w)"
            )

    def read(self, path: Path) -> Stored:
        """A result file, read as any file a repository could have planted: never through a
        symlink, never a FIFO or device, at most 256 MiB; it must be the file its name says."""
        from sgai_guard import fsread  # noqa: PLC0415
        from sgai_guard.errors import ConfigError  # noqa: PLC0415

        try:
            stored = load(fsread.read_text(path, 256 << 20), str(path))
        except (OSError, fsread.NotRegularError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: not a readable fleet result ({exc})") from exc
        if path.name not in (file_name(stored, True), file_name(stored, False)):
            raise ConfigError(f"{path}: its content is another repository's or state's")
        return stored

    def latest(self) -> tuple[list[Path], list[str]]:
        """Every result file, and a line for each repository with more than one. A run
        leaves one file a repository (older ones are removed once the new one is written),
        so two mean a crash between the two, or a planted file: a newest-wins choice let
        an empty result with a newer date hide another's findings (found by a review). All
        are read, and the merge says it is incomplete."""
        by_name: dict[str, list[Path]] = {}
        for path, name, _ in self.files():
            by_name.setdefault(name, []).append(path)
        twice = [
            f"{name}: {len(paths)} result files ({', '.join(p.name for p in paths)}): all were "
            "merged; remove the stale ones"
            for name, paths in sorted(by_name.items())
            if len(paths) > 1
        ]
        return [path for name in sorted(by_name) for path in by_name[name]], twice
