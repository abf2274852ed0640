"""One cat-file reader for every revision a scan looks back at; names with spaces, newlines
and non-UTF-8 bytes, and what is missing, are answered right."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

from sgai_guard.sources import catfile
from tests import keys
from tests.cli_helpers import run_cli
from tests.gitrepo import Repo


def test_parse_header() -> None:
    oid = "a" * 40
    assert catfile.parse_header(f"{oid} blob 12\n".encode()) == (oid, "blob", 12)
    assert catfile.parse_header(b"HEAD:a b missing\n", b"HEAD:a b") is None
    assert catfile.parse_header(b"HEAD:x ambiguous\n", b"HEAD:x") is None
    assert catfile.parse_header(b"garbage\n") is None


def test_contents_reads_many_revisions_in_one_process(tmp_path: Path) -> None:
    repo = Repo(tmp_path)
    repo.write("a b.txt", "spaces\n")
    name = os.fsdecode(b"caf\xe9.txt")  # not UTF-8
    (tmp_path / name).write_bytes(b"latin-1 name\n")
    repo.commit("files", "a b.txt", name)
    got = catfile.contents(repo.path, ["HEAD:a b.txt", "HEAD:gone.txt", f"HEAD:{name}", "HEAD"])
    assert got == (b"spaces\n", b"latin-1 name\n")  # missing and non-blob left out


@pytest.mark.parametrize("name", ["my settings.env", "two\nlines.env"])
def test_a_key_already_committed_does_not_block_again(
    tmp_path: Path, rng: random.Random, name: str
) -> None:
    repo = Repo(tmp_path)
    key = keys.tavily_current(rng)
    repo.write(name, f"K={key}\n")
    repo.commit("the key, long ago", name)
    repo.write(name, f"# a comment\nK={key}\n")
    repo.add(name)
    proc = run_cli("hook", cwd=repo.path, env={"GIT_INDEX_FILE": str(tmp_path / ".git" / "index")})
    assert proc.returncode == 0, proc.stdout + proc.stderr  # reported, not blocking
    assert "already committed" in proc.stdout
