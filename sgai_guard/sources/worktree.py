"""Work-tree files: what `sgai-guard scan PATH...` reads.

Inside a git work tree the file list comes from `git ls-files`, so .gitignore, .git/info/exclude
and the global excludes file mean exactly what they mean to git. Outside one, a walk with
pathspec honours the .gitignore files it meets.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from sgai_guard.models import Blob, Skipped
from sgai_guard.sources import gitcmd

DEFAULT_MAX_SIZE = 5 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Listing:
    root: Path  # paths are reported relative to this
    paths: tuple[str, ...]
    tracked_ignored: frozenset[str]


def worktree_blobs(
    targets: Iterable[Path], *, use_gitignore: bool = True, max_size: int = DEFAULT_MAX_SIZE
) -> Iterator[Blob | Skipped]:
    """Every file under the targets, once, read from disk."""
    seen: set[Path] = set()
    for target in targets:
        if not target.exists() and not target.is_symlink():
            yield Skipped(target.as_posix(), "no such file or directory", error=True)
            continue
        listing = _list(target, use_gitignore)
        for rel in listing.paths:
            path = listing.root / rel
            key = path.absolute()
            if key in seen:
                continue
            seen.add(key)
            item = _read(path, listing.root, rel, max_size)
            if item is None:
                continue
            if isinstance(item, Blob) and rel in listing.tracked_ignored:
                item = Blob(item.path, item.data, tracked_ignored=True)
            yield item


def _list(target: Path, use_gitignore: bool) -> Listing:
    if not target.is_dir() or target.is_symlink():
        top = _toplevel(target.parent)
        if top is None:
            return Listing(Path(), (target.as_posix(),), frozenset())
        rel = (target.parent.resolve() / target.name).relative_to(top.resolve())
        return Listing(top, (rel.as_posix(),), frozenset())
    top = _toplevel(target) if use_gitignore else None
    if top is None:
        from sgai_guard.sources.walk import walk  # noqa: PLC0415 - pathspec is slow to import

        return Listing(target, tuple(walk(target, use_gitignore=use_gitignore)), frozenset())
    return _git_listing(target, top)


_TOPLEVELS: dict[Path, Path | None] = {}


def _toplevel(directory: Path) -> Path | None:
    key = directory.absolute()
    if key not in _TOPLEVELS:
        _TOPLEVELS[key] = gitcmd.toplevel(key)
    return _TOPLEVELS[key]


def _git_listing(target: Path, top: Path) -> Listing:
    config = _global_excludes()
    common = ["--full-name", "--exclude-standard"]
    listed = gitcmd.output(
        ["ls-files", "-z", "--cached", "--others", "--deduplicate", *common],
        target,
        extra_config=config,
    )
    ignored = gitcmd.output(
        ["ls-files", "-z", "--cached", "--ignored", *common], target, extra_config=config
    )
    return Listing(top, _split(listed), frozenset(_split(ignored)))


def _split(raw: bytes) -> tuple[str, ...]:
    return tuple(sorted({os.fsdecode(p) for p in raw.split(b"\0") if p}))


def _global_excludes() -> tuple[str, ...]:
    """The user's own core.excludesFile, which isolated git calls would otherwise not see."""
    proc = gitcmd.run(
        ["config", "--global", "--path", "--get", "core.excludesFile"], Path.cwd(), isolate=False
    )
    value = proc.stdout.decode("utf-8", "replace").strip()
    return (f"core.excludesFile={value}",) if proc.returncode == 0 and value else ()


def _read(path: Path, root: Path, rel: str, max_size: int) -> Blob | Skipped | None:
    try:
        info = path.lstat()
    except FileNotFoundError:
        return None  # tracked but deleted in the work tree: nothing on disk to scan
    except OSError as exc:
        return Skipped(rel, f"cannot read: {exc.strerror}", error=True)
    if stat.S_ISLNK(info.st_mode):
        return _symlink(path, root, rel)
    if not stat.S_ISREG(info.st_mode):
        return None  # directories (submodules), sockets, fifos: no file content
    if info.st_size > max_size:
        return Skipped(rel, f"larger than the size cap ({info.st_size} > {max_size} bytes)")
    try:
        return Blob(rel, path.read_bytes())
    except OSError as exc:
        return Skipped(rel, f"cannot read: {exc.strerror}", error=True)


def _symlink(path: Path, root: Path, rel: str) -> Skipped | None:
    """Symlinks are never followed; one that leaves the tree is said to be skipped."""
    target = path.resolve()
    try:
        target.relative_to(root.resolve())
    except ValueError:
        return Skipped(rel, "symlink to a path outside the scanned tree: not followed")
    return None  # the target inside the tree is scanned as a file of its own
