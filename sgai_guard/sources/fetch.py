"""The one network operation: fetching into a shallow CI clone, from an explicit URL over an
allowed transport, with nothing of the repository's own configuration redirecting it."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from typing import TYPE_CHECKING

from sgai_guard.errors import GitError
from sgai_guard.sources import gitargs, gitcmd
from sgai_guard.sources.hardening import git_env

if TYPE_CHECKING:
    from _typeshed import StrPath

# Transports a fetch may use. file only when the user typed the URL: a repository's own
# configuration must not point a fetch at another local repository.
NETWORK_TRANSPORTS = ("https", "ssh", "git")


def fetch_url(
    cwd: StrPath, url: str, options: Sequence[str], refspecs: Sequence[str], *, allow_file: bool
) -> bool:
    """The one network operation (deepening a CI clone): an explicit URL, never a named
    remote (whose uploadpack, vcs and proxy settings would apply), over allowed transports."""
    transports = (*NETWORK_TRANSPORTS, *(("file",) if allow_file else ()))
    overrides = _fetch_overrides(cwd, url)
    argv = gitargs.git_argv(
        [
            "fetch",
            "--no-tags",
            "--quiet",
            "--no-recurse-submodules",
            "--no-write-fetch-head",
            "--upload-pack=git-upload-pack",
            *options,
            "--end-of-options",
            url,
            *refspecs,
        ],
        ("core.sshCommand=ssh -o BatchMode=yes", *overrides),
    )
    env = {**git_env(), "GIT_ALLOW_PROTOCOL": ":".join(transports)}
    proc = gitcmd.spawn(argv, cwd, env, False)
    try:
        proc.communicate(timeout=gitargs.timeout())
    except subprocess.TimeoutExpired:
        gitcmd.stop(proc)
        return False
    return proc.returncode == 0


def _fetch_overrides(cwd: StrPath, url: str) -> tuple[str, ...]:
    """-c settings that take back what the repository's own config would do to this fetch:
    every proxy it names (``http.<url>.proxy`` beats a plain ``http.proxy`` override) is
    emptied. A remote section named like the URL (``remote."<URL>".url``) would silently send
    the fetch elsewhere: that is refused."""
    proc = gitcmd.run(
        ["config", "-z", "--get-regexp", r"^(http\..*proxy|remote\..*\.[a-z]*url)$"], cwd
    )
    overrides = []
    for record in proc.stdout.split(b"\0"):
        key = record.split(b"\n", 1)[0].decode("utf-8", "surrogateescape")
        if key.startswith("http.") and key.lower().endswith(".proxy"):
            overrides.append(f"{key}=")
        elif key.startswith("remote.") and key[len("remote.") : key.rfind(".")] in (url, url + "/"):
            raise GitError(
                "the repository configures a remote named like the URL to fetch "
                "(remote.<URL>.url): refusing to let it redirect the fetch"
            )
    return tuple(overrides)
