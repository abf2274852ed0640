"""Bare mirrors of remote repositories for fleet audits, fetched as hardened as scanning: an
explicit URL over https, ssh, git or (a URL the user gave) file; no hooks, no templates, no
prompt, no program named by the remote or by any configuration, no lazy fetching. Also the
state of a repository: a hash of every ref tip, which names its result file."""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

from sgai_guard.errors import GitError
from sgai_guard.sources import gitargs, gitcmd
from sgai_guard.sources.fetch import NETWORK_TRANSPORTS
from sgai_guard.sources.hardening import git_env

REFSPEC = "+refs/*:refs/*"  # everything the server publishes, as `git clone --mirror` takes
# Settings that keep the remote from steering the fetch: the ssh program is pinned (the
# environment's GIT_SSH_COMMAND is dropped by git_env), bundle URIs it advertises are ignored.
_USERINFO = re.compile(r"(://)[^/@\s]+@")  # credentials in a URL git echoes back
# ssh never asks (an unknown host key or a password would stall the audit until the timeout)
_FETCH_CONFIG = (
    "core.sshCommand=ssh -o BatchMode=yes",
    "transfer.bundleURI=false",
    "fetch.prune=true",
)


def ref_state(path: str) -> str:
    """sha256 of every ref tip (sorted ``<oid> <refname>`` lines), of where HEAD points, and
    of each worktree's HEAD, which the audit walks too (a key committed on a linked
    worktree's detached HEAD moved no ref, and a fleet run reused the old result: a review)."""
    refs = gitcmd.output(["for-each-ref", "--format=%(objectname) %(refname)"], path)
    head = gitcmd.run(["symbolic-ref", "-q", "HEAD"], path).stdout
    head += gitcmd.run(["rev-parse", "--verify", "-q", "HEAD"], path).stdout
    listed = gitcmd.run(["worktree", "list", "--porcelain"], path).stdout.splitlines()
    # their HEADs only: a path would make the state of one repository differ between two
    # folders holding it (a mirror in another cache)
    worktrees = sorted(line for line in listed if line.startswith(b"HEAD "))
    lines = sorted(refs.splitlines())
    return hashlib.sha256(b"\n".join([*lines, b"HEAD " + head, *worktrees])).hexdigest()


def mirror(url: str, folder: str, shown: str, *, allow_file: bool) -> None:
    """Refresh the mirror in ``folder`` with a pruning fetch, or clone it afresh (into a
    temporary folder first, so a crash never leaves a half clone that looks whole). A mirror
    that cannot be refreshed (locks left by a killed fetch) is cloned afresh. ``shown``: the
    URL as messages may name it (no credentials)."""
    where = Path(folder)
    if (where / "HEAD").is_file():
        try:
            _fetch(folder, url, shown, allow_file)
            return
        except GitError:
            pass  # cloned afresh below; a real failure fails again there
    where.parent.mkdir(parents=True, exist_ok=True)
    fresh = tempfile.mkdtemp(prefix=".clone-", dir=where.parent)
    try:
        gitcmd.output(["init", "-q", "--bare", "--template=", fresh], where.parent)
        _fetch(fresh, url, shown, allow_file)
        _set_head(fresh, url, allow_file)
        _swap(Path(fresh), where)
    finally:
        shutil.rmtree(fresh, ignore_errors=True)


def _swap(fresh: Path, folder: Path) -> None:
    """Put the new clone in place; an old one (maybe still written by a stray fetch) goes."""
    if folder.is_symlink() or folder.exists():
        old = tempfile.mkdtemp(prefix=".old-", dir=folder.parent)
        folder.replace(Path(old, "mirror"))
        shutil.rmtree(old, ignore_errors=True)
    fresh.replace(folder)


def _git(cwd: str, args: Sequence[str], allow_file: bool) -> subprocess.CompletedProcess[bytes]:
    """A git command that talks to the remote: explicit URL, allowed transports only."""
    transports = (*NETWORK_TRANSPORTS, *(("file",) if allow_file else ()))
    argv = gitargs.git_argv(args, _FETCH_CONFIG)
    env = {**git_env(), "GIT_ALLOW_PROTOCOL": ":".join(transports)}
    proc = gitcmd.spawn(argv, cwd, env, False)
    try:
        out, err = proc.communicate(timeout=gitargs.timeout())
    except subprocess.TimeoutExpired:
        gitcmd.stop(proc)
        raise GitError(f"git {args[0]} did not finish within {gitargs.timeout():g} s") from None
    return subprocess.CompletedProcess(argv, proc.returncode, out, err)


def _fetch(folder: str, url: str, shown: str, allow_file: bool) -> None:
    args = [
        "fetch",
        "--quiet",
        "--prune",
        "--no-tags",  # tags come with the refspec; none are followed from elsewhere
        "--no-recurse-submodules",
        "--no-write-fetch-head",
        "--upload-pack=git-upload-pack",
        "--end-of-options",
        url,
        REFSPEC,
    ]
    proc = _git(folder, args, allow_file)
    if proc.returncode != 0:
        lines = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        detail = (lines[-1] if lines else f"exit {proc.returncode}").replace(url, shown)
        detail = _USERINFO.sub(r"\1", detail)
        raise GitError(f"cannot fetch {shown}: {detail}")


def _set_head(folder: str, url: str, allow_file: bool) -> None:
    """Point the mirror's HEAD where the remote's points, so "at HEAD" means what it says."""
    args = ["ls-remote", "--symref", "--upload-pack=git-upload-pack", "--end-of-options"]
    proc = _git(folder, [*args, url, "HEAD"], allow_file)
    for line in proc.stdout.decode("utf-8", "replace").split("\n"):
        ref, _, what = line.partition("\t")
        if what == "HEAD" and ref.startswith("ref: refs/"):
            # git refuses a name outside refs/ or malformed: then HEAD stays as it is
            gitcmd.run(["symbolic-ref", "HEAD", ref.removeprefix("ref: ")], folder)
            return
