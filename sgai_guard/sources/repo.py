"""A git repository as the scanner sees it: validated, with revisions resolved safely."""

from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

from sgai_guard.errors import GitError
from sgai_guard.sources import gitcmd


class Repository(NamedTuple):
    path: Path  # where git commands run: the work tree root, or the bare repository
    git_dir: Path | None  # None: not looked up (the commit hook skips asking; see here())
    bare: bool

    def git(self, *args: str) -> bytes:
        return gitcmd.output(list(args), self.path)

    def lines(self, *args: str) -> list[str]:
        return [line for line in self.git(*args).decode("utf-8", "replace").split("\n") if line]

    def resolve(self, rev: str) -> str | None:
        """The commit id ``rev`` names, or None when it names nothing."""
        if rev.startswith("-"):
            raise GitError(f"{rev!r} is not a revision")
        proc = gitcmd.run(
            ["rev-parse", "--verify", "--quiet", "--end-of-options", rev + "^{commit}"], self.path
        )
        return proc.stdout.decode().strip() if proc.returncode == 0 else None

    def commit(self, rev: str) -> str:
        """Like resolve, but an unknown revision is a one-line error."""
        oid = self.resolve(rev)
        if oid is None:
            raise GitError(f"unknown revision {rev!r} in {self.path}")
        return oid

    def head(self) -> str | None:
        return self.resolve("HEAD")

    def shallow_commits(self) -> frozenset[str]:
        """Commits whose parents were cut off by a shallow clone."""
        path = Path(os.fsdecode(self.git("rev-parse", "--git-path", "shallow").strip()))
        if not path.is_absolute():
            path = self.path / path
        try:
            return frozenset(path.read_text().split())
        except FileNotFoundError:
            return frozenset()

    def empty_tree(self) -> str:
        """The id of the empty tree in this repository's hash (SHA-1 or SHA-256)."""
        raw = gitcmd.output(["hash-object", "-t", "tree", "--stdin"], self.path, stdin=b"")
        return raw.decode().strip()


def open_repository(path: Path) -> Repository:
    """The repository at or above ``path``; a clear error when there is none."""
    if not path.exists():
        raise GitError(f"{path}: no such file or directory")
    if not path.is_dir():
        raise GitError(f"{path}: not a directory")
    # One call for a work tree (the commit hook's case); bare repositories need a second.
    proc = gitcmd.run(["rev-parse", "--absolute-git-dir", "--show-toplevel"], path)
    if proc.returncode == 0:
        git_dir, top = proc.stdout.decode("utf-8", "replace").splitlines()[:2]
        return Repository(Path(top), Path(git_dir), False)
    proc = gitcmd.run(["rev-parse", "--is-bare-repository", "--absolute-git-dir"], path)
    lines = proc.stdout.decode("utf-8", "replace").splitlines()
    if proc.returncode != 0 or len(lines) < 2:
        raise GitError(f"{path}: not a git repository")
    if lines[0].strip() == "true":
        return Repository(Path(lines[1]), Path(lines[1]), True)
    return Repository(path, Path(lines[1]), False)  # inside .git of a work tree


def here(path: Path) -> Repository:
    """The work tree git runs a hook in, without asking git where it is (a process saved on
    every commit); callers that hit a git error call open_repository for a clear message."""
    return Repository(path, None, False)
