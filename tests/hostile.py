"""Repositories built to attack the scanner: shallow CI clones and signed commits."""

from __future__ import annotations

import random
import subprocess
from pathlib import Path

from tests import keys
from tests.gitrepo import Repo, git_env


def origin_with_feature(
    root: Path, rng: random.Random, main_commits: int = 4
) -> tuple[Repo, str, str, str]:
    """origin: main with history; feature adds a key. Returns (origin, base, head, key)."""
    origin = Repo(root / "origin")
    for n in range(main_commits):
        origin.write(f"main{n}.txt", f"main {n}\n")
        origin.commit(f"main {n}")
    base = origin.head()
    origin.git("checkout", "-q", "-b", "feature")
    key = keys.tavily_current(rng)
    origin.write("app/settings.py", f"TAVILY = '{key}'\n")
    origin.commit("feature adds a key")
    origin.write("app/other.py", "x = 1\n")
    head = origin.commit("feature goes on")
    origin.git("checkout", "-q", "main")
    return origin, base, head, key


def shallow_clone(origin: Repo, target: Path, branch: str = "feature") -> Repo:
    """A depth-1 clone of one branch, as CI checkouts are: the base is not in it."""
    subprocess.run(
        [
            *("git", "clone", "-q", "--depth", "1", "--single-branch", "--branch", branch),
            *(origin.path.as_uri(), str(target)),
        ],
        check=True,
        env=git_env(),
        capture_output=True,
    )
    return Repo.existing(target)


def add_signed_commit(repo: Repo, message: str = "signed") -> str:
    """A commit carrying a (fake) gpg signature on top of HEAD, made without gpg: `git log
    --show-signature` then runs gpg.program to verify it."""
    tree = repo.git("rev-parse", "HEAD^{tree}").strip()
    parent = repo.head()
    body = (
        f"tree {tree}\nparent {parent}\n"
        "author A <a@example.invalid> 1767225600 +0000\n"
        "committer A <a@example.invalid> 1767225600 +0000\n"
        "gpgsig -----BEGIN PGP SIGNATURE-----\n \n Zm9v\n -----END PGP SIGNATURE-----\n"
        f"\n{message}\n"
    )
    oid = repo.git("hash-object", "-t", "commit", "-w", "--stdin", stdin=body.encode()).strip()
    repo.git("update-ref", "HEAD", oid)
    return oid
