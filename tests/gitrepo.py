"""Real git repositories for tests: identity pinned, no signing, no user configuration."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test Author",
    "GIT_AUTHOR_EMAIL": "author@example.invalid",
    "GIT_COMMITTER_NAME": "Test Committer",
    "GIT_COMMITTER_EMAIL": "committer@example.invalid",
    "GIT_AUTHOR_DATE": "2026-01-01T00:00:00Z",
    "GIT_COMMITTER_DATE": "2026-01-01T00:00:00Z",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_TERMINAL_PROMPT": "0",
}


def git_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "PRE_COMMIT"))}
    env.update(GIT_ENV)
    return env


class Repo:
    """A work tree under ``path`` driven through the real git binary."""

    def __init__(self, path: Path, *, bare: bool = False, object_format: str = "sha1") -> None:
        self.path = path
        path.mkdir(parents=True, exist_ok=True)
        fmt = [f"--object-format={object_format}"] if object_format != "sha1" else []
        self.git("init", "-q", "-b", "main", *fmt, *(["--bare"] if bare else []))

    @classmethod
    def existing(cls, path: Path) -> Repo:
        """A handle on a repository or linked work tree that already exists."""
        repo = cls.__new__(cls)
        repo.path = path
        return repo

    def git(self, *args: str, stdin: bytes | None = None, check: bool = True) -> str:
        proc = subprocess.run(
            ["git", *args],
            cwd=self.path,
            env=git_env(),
            input=stdin if stdin is not None else b"",  # never the test runner's stdin
            capture_output=True,
            check=False,
        )
        if check and proc.returncode != 0:
            raise AssertionError(f"git {args} failed: {proc.stderr.decode()}")
        return proc.stdout.decode("utf-8", "replace")

    def attempt(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run git (hooks included) and return the whole result, failure or not."""
        return subprocess.run(
            ["git", *args],
            cwd=self.path,
            env=git_env(),
            input="",
            capture_output=True,
            text=True,
            check=False,
        )

    def write(self, rel: str, content: str | bytes) -> Path:
        path = self.path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            content = content.encode()
        path.write_bytes(content)
        return path

    def add(self, *paths: str) -> None:
        self.git("add", "-f", "--", *paths) if paths else self.git("add", "-A")

    def commit(self, message: str = "change", *paths: str) -> str:
        self.add(*paths)
        self.git("commit", "-q", "--no-gpg-sign", "--allow-empty", "-m", message)
        return self.head()

    def head(self) -> str:
        return self.git("rev-parse", "HEAD").strip()
