"""How every git process is started: its command line (hardened, see sources.hardening), the
git executable and the timeout. Nothing here starts a process, so both runners share it:
gitcmd (subprocess, for every mode) and spawn (the commit hook's quick path).
"""

from __future__ import annotations

import os

from sgai_guard.sources import hardening

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

    from _typeshed import StrPath


# What the commit hook asks git, on its quick path (sources.quick) and its full one
# (sources.staged) alike: `git commit -a` or `git commit FILE` points git at a temporary index.
HOOK_ENV = ("GIT_INDEX_FILE",)
# The staged entries against HEAD: added, copied, modified, renamed and type-changed paths
# (scanned), and deleted ones (what they held is not new where it turns up again).
STAGED_DIFF = (
    "diff-index",
    "--cached",
    "-z",
    "--raw",
    "--no-renames",
    "--no-abbrev",
    "--diff-filter=ACDMRT",
)
# The index entries of named files (taken literally: GIT_LITERAL_PATHSPECS, see hardening).
NAMED_FILES = ("ls-files", "-s", "-z")


def git_argv(
    args: Sequence[str], extra_config: Sequence[str] = (), *, safe: bool = True
) -> list[str]:
    """``safe=False`` only for queries about the user's own setup (where its hooks live)."""
    argv = ["git", "--no-pager", "--no-replace-objects"]
    safe_config = hardening.SAFE_CONFIG if safe else ()
    for setting in (*safe_config, *hardening.safe_directories(), *extra_config):
        argv += ["-c", setting]
    return [*argv, *args]


def timeout() -> float:
    """Seconds one git command may take before the scan is declared incomplete (exit 3).
    Generous by default; SGAI_GUARD_GIT_TIMEOUT sets it."""
    try:
        return max(float(os.environ.get("SGAI_GUARD_GIT_TIMEOUT", "600")), 0.1)
    except ValueError:
        return 600.0


def stalled(args: Sequence[str], cwd: StrPath) -> str:
    """What is said when git did not finish in time."""
    return (
        f"git {' '.join(args[:2])} did not finish within {timeout():g} s in "
        f"{os.fspath(cwd)!r} (a FIFO or a stalled file system in the repository?)"
    )


_executable: list[str] = []


def executable() -> str:
    """git, looked up once in the absolute folders of PATH: a relative entry such as "." would
    otherwise find a `git` planted in the scanned repository (the child runs there)."""
    if not _executable:
        for folder in os.environ.get("PATH", os.defpath).split(os.pathsep):
            candidate = os.path.join(folder, "git")
            if os.path.isabs(folder) and os.access(candidate, os.X_OK):
                _executable.append(candidate)
                break
        else:
            from sgai_guard.errors import GitError  # noqa: PLC0415 - enum, only on failure

            raise GitError("git is not installed or not on PATH (absolute folders only)")
    return _executable[0]
