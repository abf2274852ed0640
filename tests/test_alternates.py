"""Every alternate object store git would read is checked before git reads it: found by
session 13's second review, which reached stores the audit's own reading of alternates
files missed (a FIFO there left git, and the audit, waiting for ever)."""

from __future__ import annotations

import itertools
import os
import random
import threading
import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sgai_guard.errors import StalledError
from sgai_guard.sources import alternates, storeplan
from sgai_guard.sources.repo import open_repository
from tests import keys
from tests.cli_helpers import run_cli
from tests.gitrepo import Repo


def test_entries_are_read_as_git_reads_them() -> None:
    data = (
        b"# a comment\n"
        b'"/q/\\303\\251t\\"e\\\\"x/after\n'  # quoted: git steps over one byte after it
        b'"/two\nlines"\n'  # a quoted entry may hold a newline
        b"/plain\x1cstill one\n"
        b"/bytes\xff\n"
        b'"/broken \\q"\n'  # an escape git does not know: the line as it is
    )
    found = alternates.entries(data)
    assert b'/q/\xc3\xa9t"e\\' in found and b"/after" in found
    assert b"/two\nlines" in found
    assert b"/plain\x1cstill one" in found and b"/bytes\xff" in found
    assert b'"/broken \\q"' in found
    assert not any(entry.startswith(b"#") for entry in found)


@given(st.lists(st.binary(max_size=40).filter(lambda b: b"\n" not in b), max_size=8))
def test_every_line_is_an_entry(lines: list[bytes]) -> None:
    found = alternates.entries(b"\n".join(lines))
    cut = {line.split(b"\0")[0] for line in lines if not line.startswith(b"#")}
    assert cut - {b""} <= found
    assert not any(b"\0" in entry for entry in found)


def test_a_nul_in_an_entry_ends_it_as_git_reads_it(tmp_path: Path, rng: random.Random) -> None:
    """Found in session 17: an alternates entry holding a NUL byte made the audit stop on an
    internal error (exit 3). git takes the store before the NUL; so does the audit, which
    checks it (a FIFO there is refused) and reads its objects through git."""
    repo = Repo(tmp_path / "repo")
    repo.write("a.txt", "nothing here\n")
    repo.commit("one")
    source = Repo(tmp_path / "source")
    source.write("k.env", f"K={keys.tavily_current(rng)}\n")
    source.commit("a key")
    tip = source.git("rev-parse", "HEAD").strip()
    other = source.path / ".git" / "objects"
    info = repo.path / ".git" / "objects" / "info"
    info.mkdir(exist_ok=True)
    (info / "alternates").write_bytes(os.fsencode(other) + b"\0/nowhere\n")
    repo.git("update-ref", "refs/heads/borrowed", tip)
    proc = run_cli("audit", str(repo.path), "--format", "json", cwd=tmp_path, timeout=120)
    assert proc.returncode == 1, proc.stderr
    assert "k.env" in proc.stdout
    (other / "ab").mkdir()
    os.mkfifo(other / "ab" / ("c" * 38))
    proc = run_cli("audit", str(repo.path), "--format", "json", cwd=tmp_path, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert "not a regular file" in proc.stderr


def _store(path: Path) -> Path:
    (path / "info").mkdir(parents=True, exist_ok=True)
    return path


@pytest.mark.parametrize(
    "case", ["quoted", "not utf-8", "file separator", "sixth level", "met deep first", "loose"]
)
def test_a_fifo_in_any_store_git_reads_is_refused(
    tmp_path: Path, rng: random.Random, case: str
) -> None:
    repo = Repo(tmp_path / "repo")
    repo.write("k.env", f"K={keys.tavily_current(rng)}\n")
    repo.commit("a key")
    objects = repo.path / ".git" / "objects"
    root = os.fsencode(tmp_path)
    fifo_store: Path
    if case in ("quoted", "loose"):
        fifo_store = _store(tmp_path / "E")
        (objects / "info" / "alternates").write_bytes(b'"' + root + b'/E"\n')
    elif case in ("not utf-8", "file separator"):
        name = b"E\xff" if case == "not utf-8" else b"E\x1cF"
        fifo_store = _store(Path(os.fsdecode(root + b"/" + name)))
        (objects / "info" / "alternates").write_bytes(root + b"/" + name + b"\n")
    elif case == "sixth level":
        chain = [_store(tmp_path / f"L{n}") for n in range(1, 7)]
        (objects / "info" / "alternates").write_text(f"{chain[0]}\n")
        for here, there in itertools.pairwise(chain):
            (here / "info" / "alternates").write_text(f"{there}\n")
        fifo_store = chain[-1]
    else:  # S is met 5 deep last in this file's order, and first by git, 1 deep
        s, t = _store(tmp_path / "S"), _store(tmp_path / "T")
        deep = [_store(tmp_path / f"C{n}") for n in range(1, 5)]
        (objects / "info" / "alternates").write_text(f"{s}\n{deep[0]}\n")
        for here, there in zip(deep, [*deep[1:], s], strict=True):
            (here / "info" / "alternates").write_text(f"{there}\n")
        (s / "info" / "alternates").write_text(f"{t}\n")
        fifo_store = t
    if case == "loose":
        (fifo_store / "ab").mkdir()
        os.mkfifo(fifo_store / "ab" / ("0" * 38))
    else:
        os.mkfifo(fifo_store / "info" / "alternates")
    proc = run_cli("audit", ".", cwd=repo.path, env={"SGAI_GUARD_GIT_TIMEOUT": "5"}, timeout=120)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "not a regular file" in proc.stderr or "not a plain file" in proc.stderr


def test_a_listing_that_never_ends_is_stopped_at_the_git_timeout(
    tmp_path: Path, rng: random.Random, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whatever the checks miss, the listing's thread is not waited on for ever: at the git
    timeout its git is killed and the audit is incomplete (exit 3)."""
    repo = Repo(tmp_path / "repo")
    repo.write("k.env", f"K={keys.tavily_current(rng)}\n")
    repo.commit("a key")
    objects = repo.path / ".git" / "objects"
    other = _store(tmp_path / "other")
    os.mkfifo(other / "info" / "alternates")
    (objects / "info" / "alternates").write_text(f"{other}\n")
    opened = open_repository(repo.path)
    monkeypatch.setenv("SGAI_GUARD_GIT_TIMEOUT", "2")
    ahead = storeplan.Ahead(
        lambda stopper: storeplan.make(opened, str(objects), None, 2, False, stopper)
    )
    begun = time.monotonic()
    with pytest.raises(StalledError, match="did not finish within 2 s"):
        ahead.result()
    assert time.monotonic() - begun < 30
    assert not [t for t in threading.enumerate() if t.name == "sgai-guard listing"]
