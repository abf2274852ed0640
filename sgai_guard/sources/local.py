"""The sources a commit hook and `scan` read: work-tree files, standard input, the index, and
named files as staged. Each imports what it reads with only when asked (the hook's start-up)."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, BinaryIO

from sgai_guard.errors import GitError
from sgai_guard.models import Blob, Skipped, Summary
from sgai_guard.sources.repo import here, open_repository

if TYPE_CHECKING:
    from pathlib import Path

    from _typeshed import StrPath

    from sgai_guard.sources.lfs import LocalStore
    from sgai_guard.sources.quick import Staged
    from sgai_guard.sources.repo import Repository
    from sgai_guard.sources.staged import Changes
    from sgai_guard.sources.worktree import Ignored


class WorktreeSource:
    """Files under ``paths`` as they are on disk (git only answers what is ignored)."""

    def __init__(
        self,
        paths: Sequence[Path],
        *,
        use_gitignore: bool,
        max_size: int | None,
        cap_from: str = "--max-file-size",
    ):
        self.paths, self.use_gitignore, self.max_size = paths, use_gitignore, max_size
        self.cap_from = cap_from  # who set ``max_size``, as the skipped files say it
        self.ignored: Ignored | None = None

    def items(self) -> Iterator[Blob | Skipped]:
        from sgai_guard.sources.worktree import Ignored, worktree_blobs  # noqa: PLC0415

        self.ignored = Ignored()
        yield from worktree_blobs(
            self.paths,
            use_gitignore=self.use_gitignore,
            max_size=self.max_size,
            cap_from=self.cap_from,
            ignored=self.ignored,
        )

    def summary(self) -> Summary:
        notice = self.ignored.notice() if self.ignored is not None else None
        return Summary(notices=(notice,) if notice else ())


class StdinSource:
    """Standard input as one file named ``path`` (`scan -`)."""

    def __init__(self, stream: BinaryIO, path: str) -> None:
        self.stream, self.path, self.read = stream, path, 0

    def items(self) -> Iterator[Blob | Skipped]:
        from sgai_guard.sources.stdin import stdin_blobs  # noqa: PLC0415

        for blob in stdin_blobs(self.stream, self.path):
            self.read += len(blob.data)
            yield blob

    def summary(self) -> Summary:
        """Empty input is not a pass: `git show REV:FILE | sgai-guard scan -` with a FILE
        not at REV piped nothing, and exited 0 (found by a newcomer review)."""
        if self.read:
            return Summary()
        return Summary(incomplete=(f"{EMPTY_STDIN}: nothing was scanned",))


EMPTY_STDIN = "standard input was empty"


class StagedSource:
    """What the next commit holds. ``check_bare``: refuse a bare repository up front (one git
    process; the commit hook skips it, since git never runs it in a bare repository).
    ``preread``: what the hook's quick path already read (sources.quick), used as it is."""

    def __init__(
        self, path: StrPath, *, check_bare: bool = False, preread: Staged | None = None
    ) -> None:
        self.path, self.check_bare, self.preread, self.staged = path, check_bare, preread, 0
        self.lfs: LocalStore | None = None

    def items(self) -> Iterator[Blob | Skipped]:
        from sgai_guard.sources import staged  # noqa: PLC0415

        repo = here(self.path)
        if self.check_bare:
            open_repository(self.path).require_work_tree("nothing can be staged in it")
        read = self.preread
        if read is not None:
            changes, contents = staged.listed(read.listing), read.blobs
        else:
            changes, contents = self._changes(repo), None
        self.staged = len(changes.added)
        self.lfs = _store(self.path)
        yield from self.lfs.expand(staged.staged_blobs(repo, changes, contents))

    def _changes(self, repo: Repository) -> Changes:
        from sgai_guard.sources.staged import staged_changes  # noqa: PLC0415

        try:
            changes = staged_changes(repo)
        except GitError:
            open_repository(self.path)  # says "not a git repository" when that is the reason
            raise
        if not changes.added:
            repo.require_work_tree("nothing can be staged in it")
        return changes

    def summary(self) -> Summary:
        if self.staged:
            return Summary(notices=self.lfs.notices() if self.lfs else ())
        notice = "nothing is staged: the next commit adds no file content"
        return Summary(notices=(notice,), empty_ok=True)


class IndexSource:
    """The named files as the index holds them (what pre-commit passes to a hook);
    ``in_commit``: a key the file already held in HEAD is "already committed".
    ``preread``: what the hook's quick path already read (sources.quick), used as it is."""

    def __init__(
        self,
        path: StrPath,
        files: Sequence[str],
        *,
        in_commit: bool,
        preread: Staged | None = None,
    ) -> None:
        self.path, self.files, self.in_commit = path, list(files), in_commit
        self.preread = preread
        self.lfs: LocalStore | None = None

    def items(self) -> Iterator[Blob | Skipped]:
        from sgai_guard.sources.staged import index_blobs  # noqa: PLC0415

        read = self.preread
        listed, contents = (read.listing, read.blobs) if read is not None else (None, None)
        self.lfs = _store(self.path)
        try:
            yield from self.lfs.expand(
                index_blobs(
                    here(self.path),
                    self.files,
                    with_prior=self.in_commit,
                    listed=listed,
                    contents=contents,
                )
            )
        except GitError:
            open_repository(self.path).require_work_tree("it has no staged files")
            raise

    def summary(self) -> Summary:
        return Summary(notices=self.lfs.notices() if self.lfs else ())


def _store(path: StrPath) -> LocalStore:
    """The local Git LFS store, asked as the commit hook asks git (sources.lfs)."""
    from sgai_guard.sources.gitargs import HOOK_ENV  # noqa: PLC0415
    from sgai_guard.sources.lfs import LocalStore  # noqa: PLC0415

    return LocalStore(os.fspath(path), HOOK_ENV)
