"""Installing sgai-guard as a plain git hook, without the pre-commit framework."""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path

from sgai_guard.errors import UsageError
from sgai_guard.sources import gitcmd
from sgai_guard.sources.repo import Repository

MARKER = "# installed by sgai-guard"


# Git runs a hook at the top of the work tree. `python -m` and `python -c` put that folder
# first on sys.path, so a repository holding a folder `sgai_guard` (or `enum.py`) would run its
# own code in place of the scanner. Only absolute entries stay: the ones the environment
# configured (and no `re` or runpy either: they cost 5 ms a commit).
LAUNCH = (
    "import os, sys; sys.path[:] = [p for p in sys.path if os.path.isabs(p)]; "
    "from sgai_guard.entry import hook; hook()"
)


def hook_script(pre_push: bool) -> str:
    # a pre-push hook is told the remote's name and URL: only that remote's tracking refs
    # vouch for a new branch's commits (sources.pushed)
    args = ' --pre-push -- "$@"' if pre_push else ""
    return (
        "#!/bin/sh\n"
        f"{MARKER}: remove this file to uninstall\n"
        f"exec {shlex.quote(sys.executable)} -c {shlex.quote(LAUNCH)}{args}\n"
    )


def install(repo: Repository, *, pre_push: bool, force: bool) -> Path:
    """Write the hook; an existing hook that is not ours is kept unless ``force``."""
    name = "pre-push" if pre_push else "pre-commit"
    hooks = gitcmd.output(
        ["rev-parse", "--git-path", "hooks"], repo.path, isolate=False, safe=False
    )
    target = Path(repo.path) / os.fsdecode(hooks.strip()) / name
    if target.exists() and MARKER not in target.read_text("utf-8", "replace") and not force:
        raise UsageError(
            f"{target} exists and was not installed by sgai-guard: "
            "chain it yourself, or pass --force to replace it"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(hook_script(pre_push))
    target.chmod(0o755)
    return target
