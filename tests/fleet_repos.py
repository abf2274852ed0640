"""Repositories for the fleet tests and benchmark: built with real git, keys generated at
run time, histories of many commits made in one `git fast-import`."""

from __future__ import annotations

import random
import subprocess
from pathlib import Path

from tests.gitrepo import Repo, git_env
from tests.keys import sgai_uuid, tavily_current


def with_history(
    path: Path, commits: int, rng: random.Random, keys: list[str], size: int = 2048
) -> Repo:
    """A repository of ``commits`` commits, each changing a text file of ``size`` bytes;
    ``keys`` go into commits spread over the history."""
    repo = Repo(path)
    stream: list[bytes] = []
    spots = {rng.randrange(commits): key for key in keys}
    for n in range(commits):
        body = rng.randbytes(size // 2).hex()
        if n in spots:
            body += f"\nAPI = '{spots[n]}'\n"
        data = body.encode()
        stream.append(
            b"commit refs/heads/main\ncommitter T <t@example.invalid> 1767225600 +0000\n"
            b"data 3\nc%d\n"
            % (n % 10)
            + b"M 100644 inline src/file%d.txt\ndata %d\n%s\n" % (n % 50, len(data), data)
        )
    subprocess.run(
        ["git", "fast-import", "--quiet"],
        cwd=path,
        input=b"".join(stream),
        env=git_env(),
        check=True,
        capture_output=True,
    )
    repo.git("reset", "-q", "--hard", "main")
    return repo


def small(path: Path, keys: list[str], *, bare: bool = False) -> Path:
    """A repository of two commits holding ``keys``; ``bare``: pushed into a bare one."""
    work = path.with_name(path.name + ".work") if bare else path
    repo = Repo(work)
    repo.write("README.md", "# demo\n")
    repo.commit("root")
    for n, key in enumerate(keys):
        repo.write(f"conf/settings{n}.py", f"KEY = '{key}'\n")
    repo.commit("settings")
    if bare:
        subprocess.run(
            ["git", "clone", "-q", "--bare", str(work), str(path)], env=git_env(), check=True
        )
    return path


def key(rng: random.Random, n: int) -> str:
    return tavily_current(rng) if n % 2 else sgai_uuid(rng)
