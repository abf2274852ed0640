"""Work-tree files: what `sgai-guard scan PATH...` reads.

The file system decides what is under PATH: a walk that never follows a symlink and never
enters `.git`. Git is asked only which of those files it ignores (.gitignore, info/exclude and
the user's excludes file, exactly as git means them) and which ignored files it tracks anyway,
with the work tree pinned to the folder that holds `.git`, so a repository's core.worktree
cannot point the scan at a decoy. Nested repositories and submodules are walked too, with their
own ignore rules. Outside git, pathspec reads the .gitignore files the walk meets.

Nothing under PATH is passed over in silence: a folder or file that cannot be read is an error
(exit 3), a FIFO, socket or device is listed as not opened, a symlink is scanned as the path it
holds (as git stores it), and a large file is read in overlapping pieces.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Iterator
from pathlib import Path

from sgai_guard import fsread
from sgai_guard.models import Blob, Part, Skipped
from sgai_guard.sources import gitcmd
from sgai_guard.sources.ignore import GitRules, NoRules, Rules, SpecRules
from sgai_guard.sources.pieces import pieces


class Ignored:
    """How many files and folders the ignore rules kept out of a walk: said, never silent (a
    hostile `.gitignore` in an unpacked archive could name the one file holding a key)."""

    def __init__(self) -> None:
        self.files = self.folders = 0

    def notice(self) -> str | None:
        if not self.files and not self.folders:
            return None
        counts = ((self.files, "file(s)"), (self.folders, "folder(s)"))
        shown = " and ".join(f"{n} {word}" for n, word in counts if n)
        return (
            f"{shown} that git's ignore rules exclude (.gitignore, .git/info/exclude, "
            "core.excludesFile) were not scanned (--no-gitignore scans them)"
        )


def worktree_blobs(
    targets: Iterable[Path],
    *,
    use_gitignore: bool = True,
    max_size: int | None = None,
    cap_from: str = "--max-file-size",
    ignored: Ignored | None = None,
) -> Iterator[Blob | Skipped]:
    """Every file under the targets, once, read from disk; ``max_size``: a cap the user set
    (``cap_from`` says where); ``ignored`` counts what the ignore rules left out."""
    seen: set[str] = set()
    ignored = ignored if ignored is not None else Ignored()
    targets = list(targets)
    several = len(targets) > 1
    for target in targets:
        info = fsread.lstat(target)
        if info is None:
            yield Skipped(target.as_posix(), "no such file or directory", error=True)
            continue
        if stat.S_ISLNK(info.st_mode) and os.path.isdir(target):
            reason = "a symbolic link to a folder: not followed (name the folder it points to)"
            yield Skipped(target.as_posix(), reason, error=True)
            continue
        if stat.S_ISDIR(info.st_mode):
            items = _tree(target, use_gitignore, ignored, named=several)
        else:
            top = gitcmd.toplevel(target.parent)
            rel = os.path.relpath(os.path.abspath(target), top) if top else target.as_posix()
            # absolute, like the walk's: a file named again inside a named folder is read once
            items = iter([(os.path.abspath(target), Path(rel).as_posix(), False)])
        for item in items:
            if isinstance(item, Skipped):
                yield item
            elif item[0] not in seen:
                seen.add(item[0])
                yield from _read(*item, (max_size, cap_from))


_Item = tuple[str, str, bool]  # (path on disk, path shown, tracked although ignored)


def _tree(
    target: Path, use_gitignore: bool, ignored: Ignored, *, named: bool = False
) -> Iterator[_Item | Skipped]:
    """Files under ``target`` as (path, shown path); shown paths are relative to the work tree
    root when ``target`` is inside one (as git names them), else to ``target``, or, when it
    is one of several (``named``), start with ``target`` as given: `scan a b` outside git
    showed a/app.py and b/app.py both as app.py (found by a newcomer review)."""
    top = gitcmd.toplevel(target) if use_gitignore else None
    root = os.path.abspath(target)
    if top is None:
        rules: Rules = SpecRules.empty() if use_gitignore else NoRules()
        given = Path(os.path.normpath(target)).as_posix()
        yield from _walk(root, given + "/" if named and given != "." else "", rules, ignored)
        return
    prefix = Path(os.path.relpath(root, top)).as_posix()
    prefix = "" if prefix == "." else prefix + "/"
    yield from _walk(root, prefix, GitRules.load(str(top), prefix, ""), ignored)


def _listing(folder: str, rel: str) -> list[os.DirEntry[str]] | Skipped:
    try:
        with os.scandir(folder) as listing:
            return sorted(listing, key=lambda e: e.name)
    except OSError as exc:
        reason = f"cannot read this folder: {exc.strerror or exc}"
        return Skipped(rel.rstrip("/") or ".", reason, error=True)


# Folders deeper than this are said, not walked: a walk a level a call ran out of Python's
# stack at about 1,000, and the crash lost every finding (found by a review).
MAX_DEPTH = 200


def _walk(
    folder: str, rel: str, rules: Rules, ignored: Ignored, depth: int = 0
) -> Iterator[_Item | Skipped]:
    if depth > MAX_DEPTH:
        yield Skipped(rel, f"folders nested more than {MAX_DEPTH} deep: not scanned", error=True)
        return
    entries = _listing(folder, rel)
    if isinstance(entries, Skipped):
        yield entries
        return
    if rel and any(e.name == ".git" for e in entries):  # a nested repository or submodule
        rules = rules.nested(folder, rel)
    rules = rules.entering(folder, rel)
    for entry in entries:
        if entry.name == ".git":
            continue
        path = rel + entry.name
        is_dir = entry.is_dir(follow_symlinks=False)
        if rules.ignored(path, is_dir=is_dir):
            ignored.folders += is_dir
            ignored.files += not is_dir
            continue
        if is_dir:
            yield from _walk(entry.path, path + "/", rules, ignored, depth + 1)
        else:
            yield entry.path, path, rules.tracked_ignored(path)


def _read(
    path: str, rel: str, noted: bool, cap: tuple[int | None, str]
) -> Iterator[Blob | Skipped]:
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return  # gone since it was listed: nothing on disk to scan
    except OSError as exc:
        yield Skipped(rel, f"cannot read: {exc.strerror or exc}", error=True)
        return
    if stat.S_ISLNK(info.st_mode):
        yield _symlink(path, rel)
        return
    if not stat.S_ISREG(info.st_mode):
        kind = fsread.kind_of(info.st_mode)
        yield Skipped(rel, f"{kind}, not a regular file: not opened (it holds no content)")
        return
    max_size, cap_from = cap
    if max_size is not None and info.st_size > max_size:
        reason = f"larger than the size cap set by {cap_from} ({info.st_size} > {max_size} bytes)"
        yield Skipped(rel, reason)
        return
    yield from _content(path, rel, noted)


def _symlink(path: str, rel: str) -> Blob | Skipped:
    """A symlink is never followed: its content is the path it holds, as git stores it."""
    try:
        return Blob(rel, os.fsencode(os.readlink(path)))
    except OSError as exc:
        return Skipped(rel, f"cannot read the link: {exc.strerror}", error=True)


def _content(path: str, rel: str, noted: bool) -> Iterator[Blob | Skipped]:
    try:
        fd = fsread.open_regular(path)
    except fsread.NotRegularError as exc:
        yield Skipped(rel, f"{exc.kind}, not a regular file: not opened")
        return
    except OSError as exc:
        yield Skipped(rel, f"cannot read: {exc.strerror or exc}", error=True)
        return
    try:
        yield from _pieces(fd, rel, noted)
    except OSError as exc:
        yield Skipped(rel, f"cannot read: {exc.strerror or exc}", error=True)


def _pieces(fd: int, rel: str, noted: bool) -> Iterator[Blob]:
    def make(data: bytes, part: Part | None) -> Blob:
        return Blob(rel, data, tracked_ignored=noted, part=part)

    yield from pieces(fsread.chunks(fd), make)
