"""GitPython's object model for the audit's triage (tips, trees, authors and dates), with the
hardening every git process gets: imported only here, and only by an audit."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

from sgai_guard.sources import gitargs, hardening

if TYPE_CHECKING:
    import git
    from _typeshed import StrPath


@contextlib.contextmanager
def _environment(env: dict[str, str]) -> Iterator[None]:
    """GitPython starts each git process (its cat-file readers too) with a copy of
    os.environ: for as long as it is in use, os.environ is the hardened environment."""
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@contextlib.contextmanager
def opened(path: StrPath) -> Iterator[git.Repo]:
    """A GitPython repository whose git processes are hardened like gitcmd's: the hardened
    environment, the absolute git of PATH, and the safe configuration on every command line.
    Objects are read only by id; GitPython never resolves a ref name (it would read ref files
    itself, where a FIFO could stall it)."""
    executable = gitargs.executable()
    env = {**hardening.git_env(), "GIT_PYTHON_GIT_EXECUTABLE": executable}
    env["GIT_PYTHON_REFRESH"] = "quiet"
    with _environment(env):
        import git  # noqa: PLC0415 (audit only; its import runs `git version` once)

        git.refresh(executable)
        repo = git.Repo(os.fspath(path), search_parent_directories=False)
        options = [*hardening.SAFE_CONFIG, *hardening.safe_directories()]
        repo.git.set_persistent_git_options(c=options, no_replace_objects=True)
        try:
            yield repo
        finally:
            repo.close()
