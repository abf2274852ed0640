"""A git repository as the scanner sees it: validated, with revisions resolved safely."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, NamedTuple

from sgai_guard import fsread
from sgai_guard.errors import GitError
from sgai_guard.sources import gitcmd, hardening

if TYPE_CHECKING:
    from _typeshed import StrPath


class Repository(NamedTuple):
    path: str  # where git commands run: the work tree root, or the bare repository
    git_dir: str | None  # None: not looked up (the commit hook skips asking; see here())
    bare: bool
    # what "all refs" is for an audit: the ids of its tips, one a line, read by rev-list and
    # log from stdin (sources.reach.walk_tips); None: git's own --all
    tip_ids: bytes | None = None
    broken: tuple[str, ...] = ()  # refs (and HEADs) naming objects the store lacks

    def all_refs(self) -> list[str]:
        """Every ref, for rev-list and log: ``--stdin`` with ``tip_ids`` as its input."""
        return ["--all"] if self.tip_ids is None else ["--stdin"]

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

    def require_work_tree(self, purpose: str) -> None:
        """A one-line error when this is a bare repository, which has no index."""
        if self.git("rev-parse", "--is-bare-repository").strip() == b"true":
            raise GitError(
                f"{os.fspath(self.path)!r} is a bare repository: it has no index, so {purpose}; "
                "audit it with `sgai-guard audit` instead"
            )

    def git_path(self, name: str) -> str:
        """Where ``name`` (``shallow``, ``objects/info/alternates``) lives in this repository."""
        return os.path.join(
            self.path, os.fsdecode(_one_line(self.git("rev-parse", "--git-path", name)))
        )

    def git_paths(self, *names: str) -> dict[str, str]:
        """``git_path`` of each of ``names``, asked of one git; one git each when its answer
        is not one line per name (a repository path holding a newline)."""
        asked = [arg for name in names for arg in ("--git-path", name)]
        said = self.git("rev-parse", *asked).split(b"\n")
        if len(said) != len(names) + 1 or said[-1]:
            return {name: self.git_path(name) for name in names}
        return {
            name: os.path.join(self.path, os.fsdecode(path))
            for name, path in zip(names, said, strict=False)
        }

    def shallow_commits(self, path: str | None = None) -> frozenset[str]:
        """Commits whose parents were cut off by a shallow clone; ``path``: where the shallow
        file is, when already asked."""
        path = path or self.git_path("shallow")
        try:
            return frozenset(fsread.read_small(path).decode("ascii", "replace").split())
        except FileNotFoundError:
            return frozenset()
        except fsread.NotRegularError as exc:
            raise GitError(f"{path} is {exc.kind}, not a file: refusing to read it") from exc

    def empty_tree(self) -> str:
        """The id of the empty tree in this repository's hash (SHA-1 or SHA-256)."""
        raw = gitcmd.output(["hash-object", "-t", "tree", "--stdin"], self.path, stdin=b"")
        return raw.decode().strip()


def open_repository(path: StrPath) -> Repository:
    """The repository at or above ``path``; a clear error when there is none."""
    where = os.fspath(path)
    if not os.path.exists(where):
        raise GitError(f"{where}: no such file or directory")
    if not os.path.isdir(where):
        raise GitError(f"{where}: not a directory")
    hardening.check_metadata(where)
    # One call for a work tree (the common case); bare repositories need a second.
    proc = gitcmd.run(["rev-parse", "--absolute-git-dir", "--show-toplevel"], where)
    if proc.returncode == 0:
        said = proc.stdout.split(b"\n")
        if len(said) != 3 or said[2]:  # a path holding a newline: one git for each
            said = [_asked(where, "--absolute-git-dir"), _asked(where, "--show-toplevel")]
        git_dir, top = (os.fsdecode(path) for path in said[:2])
        _check_pinned(where, top, git_dir)
        _check_common(git_dir)
        return Repository(top, git_dir, False)
    proc = gitcmd.run(["rev-parse", "--is-bare-repository", "--absolute-git-dir"], where)
    bare, _, rest = proc.stdout.partition(b"\n")  # the path last: it may hold newlines
    lines = [bare.decode("ascii", "replace"), os.fsdecode(_one_line(rest))] if rest else []
    if b"dubious ownership" in proc.stderr:
        raise GitError(
            f"{where}: git refuses this repository because another user owns it (dubious "
            "ownership); if you trust it, add it to safe.directory in your global git "
            f"configuration: git config --global --add safe.directory {os.path.abspath(where)}"
        )
    if proc.returncode != 0 or len(lines) < 2:
        raise GitError(f"{where}: not a git repository")
    _check_common(lines[1])
    if lines[0].strip() == "true":
        return Repository(lines[1], lines[1], True)
    return Repository(where, lines[1], False)  # inside .git of a work tree


def _check_pinned(where: str, top: str, git_dir: str) -> None:
    """Every later git runs in ``top``, and finds its repository from there again. The
    repository's own configuration (core.worktree) may name another folder as its work tree,
    or another repository's: the scan would then read files the user did not name, and
    history of a repository they did not ask for, and pass on a decoy."""
    if not (_inside(where, top) or _inside(where, git_dir)):
        raise GitError(
            f"{git_dir}: its configuration (core.worktree) sets {top} as its work tree, "
            f"outside {where}: refusing to scan files other than those asked for; remove "
            "core.worktree from its configuration, or scan that folder"
        )
    if _same(os.path.join(top, ".git"), git_dir):
        return  # the common case, told without a process
    proc = gitcmd.run(["rev-parse", "--absolute-git-dir"], top)
    found = os.fsdecode(_one_line(proc.stdout)) if proc.returncode == 0 else ""
    if not found or not _same(found, git_dir):
        raise GitError(
            f"{git_dir}: its work tree {top} is where git finds {found or 'no repository'}: "
            "refusing to scan another repository than the one asked for; remove core.worktree "
            "from its configuration"
        )


def _check_common(git_dir: str) -> None:
    """A `commondir` file sends git to another repository's objects and refs: git writes one
    only in a linked work tree's folder, `<repository>/worktrees/<name>`, naming that
    repository. One anywhere else (planted in a copied `.git`, say) would have the scan read a
    decoy's history and pass, while the objects of the folder asked for go unread."""
    path = os.path.join(git_dir, "commondir")
    if not os.path.lexists(path):
        return  # the common case: one lstat
    try:
        named = fsread.read_small(path, 4096).decode("utf-8", "surrogateescape").rstrip("\r\n")
    except (OSError, UnicodeError) as exc:
        raise GitError(f"{path}: cannot read it ({exc}): refusing to guess the repository") from exc
    common = os.path.realpath(os.path.join(git_dir, named))
    if not _linked_admin(git_dir, common):
        raise GitError(
            f"{path} names {common} as the repository whose objects and refs git reads, but "
            f"{git_dir} is not one of its linked work trees: refusing to scan another "
            "repository than the one asked for; remove that file, or scan that repository"
        )


def _linked_admin(git_dir: str, common: str) -> bool:
    """Whether ``git_dir`` is a linked work tree's folder in ``common``, as `git worktree add`
    makes it: `<common>/worktrees/<name>`, holding a `gitdir` file and no object store of its
    own (found by a review: a repository's `.git` in a folder named `worktrees` inside the
    decoy passed a check of the parent folder's name alone)."""
    real = os.path.realpath(git_dir)
    return (
        os.path.dirname(real) == os.path.join(common, "worktrees")
        and os.path.basename(real) != ".git"
        and os.path.isfile(os.path.join(real, "gitdir"))
        and not os.path.lexists(os.path.join(real, "objects"))
    )


def _inside(path: str, folder: str) -> bool:
    real, container = os.path.realpath(path), os.path.realpath(folder)
    try:
        return os.path.commonpath([real, container]) == container
    except ValueError:  # different drives
        return False


def _same(one: str, other: str) -> bool:
    try:
        return os.path.samefile(one, other)
    except OSError:
        return False


def _one_line(said: bytes) -> bytes:
    """What git printed, less the newline it ends with (a path may hold others, and end
    with spaces)."""
    return said[:-1] if said.endswith(b"\n") else said


def _asked(where: str, option: str) -> bytes:
    return _one_line(gitcmd.output(["rev-parse", option], where))


def here(path: StrPath) -> Repository:
    """The work tree git runs a hook in, without asking git where it is (a process saved on
    every commit); callers that hit a git error call open_repository for a clear message.
    A bare repository (seen on the file system, no process) has nothing staged: an error."""
    hardening.check_metadata(path)
    where = os.fspath(path)
    if _looks_bare(where):
        Repository(where, None, True).require_work_tree("nothing is staged in it")
    return Repository(where, None, False)


def _looks_bare(where: str) -> bool:
    if "GIT_DIR" in os.environ or os.path.lexists(os.path.join(where, ".git")):
        return False
    return all(os.path.exists(os.path.join(where, n)) for n in ("HEAD", "objects", "refs"))
