"""Repositories for the HTML report's tests: a sample with every kind of exposure, and a
hostile one whose names are markup. Keys are generated at run time."""

from __future__ import annotations

import random
from pathlib import Path
from typing import NamedTuple

from tests import keys
from tests.gitrepo import Repo

# Each payload sets a global the browser test watches; escaping (and the page's policy) must
# keep every one of them inert.
HOSTILE_FILES = (
    "x<script>window.__pwned='file'</script>.env",
    '"><img src=x onerror="window.__pwned=\'img\'">.env',
    "javascript:window.__pwned='link'.env",
    "close</svg><svg onload=window.__pwned='svg'>.env",
    "bidi\u202eevil\u2066 and\x1bcontrol.env",
)
HOSTILE_REFS = (
    "refs/heads/b<script>window.__pwned='branch'</script>",
    "refs/heads/x\"><img/src=x/onerror=window.__pwned='ref'>",
    "refs/tags/v1\"><svg/onload=window.__pwned='tag'>",
    "refs/remotes/origin/</svg><script>window.__pwned='remote'</script>",
)
HOSTILE_AUTHOR = "Mallory \"' & javascript:window.__pwned='author' \u202eevil <m@example.invalid>"


class Sample(NamedTuple):
    repo: Repo
    keys: dict[str, str]  # role -> clear key (never written anywhere but the repository)


def commit(repo: Repo, message: str, date: str, author: str | None = None) -> str:
    repo.add()
    extra = ["--author", author] if author else []
    repo.git(
        "commit", "-q", "--no-gpg-sign", "--allow-empty", "--date", date, *extra, "-m", message
    )
    return repo.head()


def sample(root: Path, rng: random.Random, branches: int = 14, pulls: int = 9) -> Sample:
    """Keys of both providers: pushed at HEAD, pushed then deleted, reached only by review
    refs, and local only; one reached by many branches, tags and pull refs."""
    origin = Repo(root / "origin.git", bare=True)
    repo = Repo(root / "work")
    repo.git("remote", "add", "origin", str(origin.path))
    made = {
        "pushed-head": keys.tavily_current(rng),
        "pushed-deleted": keys.sgai_uuid(rng),
        "review": keys.tavily_legacy(rng, "prod"),
        "local": keys.sgai_uuid(rng),
    }
    dana, lee = "Dana Ops <dana@example.invalid>", "Lee Dev <lee@example.invalid>"
    repo.write("README.md", "demo service\n")
    repo.write("config/settings.py", f"TAVILY_API_KEY = '{made['pushed-head']}'\n")
    commit(repo, "settings", "2025-02-03T09:00:00+00:00", dana)
    repo.write("backup/settings.py", f"TAVILY_API_KEY = '{made['pushed-head']}'\n")
    repo.write(".env", f"SGAI_API_KEY={made['pushed-deleted']}\n")
    commit(repo, "env file", "2025-04-11T15:30:00+00:00", lee)
    repo.git("rm", "-q", ".env")
    commit(repo, "drop .env", "2025-07-20T08:00:00+00:00", lee)
    repo.git("push", "-q", "origin", "main")
    repo.git("checkout", "-q", "-b", "feature/search")
    repo.write("notebooks/demo.ipynb", f'{{"source": ["key = \\"{made["review"]}\\""]}}\n')
    review = commit(repo, "notebook", "2025-06-02T12:00:00+00:00", dana)
    for n in range(branches):
        repo.git("branch", f"topic/{n:02d}", review)
    for n in range(3):
        repo.git("tag", f"v1.{n}", review)
    for n in range(1, pulls + 1):
        repo.git("update-ref", f"refs/pull/{n}/head", review)  # as a GitHub mirror has them
    repo.git("checkout", "-q", "main")
    repo.git("branch", "-D", "feature/search")
    repo.write("scripts/start.sh", f"export SGAI_API_KEY={made['local']}\n")
    commit(repo, "start script", "2025-10-05T17:45:00+00:00", lee)
    return Sample(repo, made)


def hostile(root: Path, rng: random.Random) -> Sample:
    """Every name a browser could take for markup: files, refs and an author."""
    repo = Repo(root / "hostile")
    made = {}
    for n, path in enumerate(HOSTILE_FILES):
        made[path] = keys.any_key(rng)
        repo.write(f"d{n}/{path}", f"KEY={made[path]}\n")
    first = commit(repo, "<script>window.__pwned='message'</script>", "2025-05-05T10:00:00+00:00")
    repo.write("owned.env", f"KEY={keys.tavily_current(rng)}\n")
    commit(repo, "more", "2025-05-06T10:00:00+00:00", HOSTILE_AUTHOR)
    for ref in HOSTILE_REFS:
        repo.git("update-ref", ref, first)
    return Sample(repo, made)
