"""The triage's reader of commits and trees (sources.objectread): what it says is what git
says, in SHA-1 and SHA-256 repositories, and hostile objects give empty fields, never an
error, and never a reader out of step with git."""

from __future__ import annotations

import json
import random
import zlib
from pathlib import Path
from typing import Any

from sgai_guard.sources import objectread
from tests import keys
from tests.cli_helpers import run_cli
from tests.gitrepo import Repo
from tests.html_sample import commit

ZONES = ("+0000", "-0800", "+0530", "+1400", "-1200", "+0045")


def _git_says(repo: Repo, oid: str) -> tuple[str, str, str]:
    out = repo.git("log", "-1", "--format=%T%x1f%an <%ae>%x1f%aI", oid)
    tree, who, when = out.strip().split("\x1f")
    return tree, who, when


def test_commits_and_trees_read_as_git_shows_them(tmp_path: Path, rng: random.Random) -> None:
    for fmt in ("sha1", "sha256"):
        repo = Repo(tmp_path / fmt, object_format=fmt)
        made = []
        for n, zone in enumerate(ZONES):
            repo.write(f"d{n}/caf\u00e9 {n}.txt", f"{n}\n")
            stamp = rng.randrange(0, 4_000_000_000)
            author = f"N\u00e4me {n} <a{n}@example.invalid>"
            made.append(commit(repo, f"c{n}", f"{stamp} {zone}", author))
        with objectread.opened(str(repo.path)) as objects:
            for oid in made:
                read = objects.commit(oid)
                assert (read.tree, read.ref.author, read.ref.date) == _git_says(repo, oid)
                listed = repo.git("ls-tree", "--format=%(objectname)\t%(path)", "-z", read.tree)
                wanted = dict(reversed(e.split("\t", 1)) for e in listed.split("\0") if e)
                assert objects.tree(read.tree) == wanted
            assert objects.tree(made[0]) == {}  # a commit asked for as a tree
            assert objects.commit(read.tree).tree is None  # and a tree as a commit
            assert objects.commit(made[-1]) == objects.commit(made[-1])  # still in step


def _loose(repo: Repo, kind: str, body: bytes) -> str:
    return repo.git("hash-object", "-t", kind, "-w", "--literally", "--stdin", stdin=body).strip()


def test_hostile_commits_and_trees_give_empty_fields(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "repo")
    repo.write("a.txt", "a\n")
    real = repo.commit("real")
    tree = repo.git("rev-parse", "HEAD^{tree}").strip()
    authors = [
        b"author no email 1700000000 +0000",
        b"author A <a@b> 99999999999999999 +0000",  # past any calendar
        b"author A <a@b> 1700000000 +9999",  # no such zone
        b"author A <a@b> 1700000000",
        b"author A <a@b> 1700000000 +0000\nauthor B <b@c> 1 +0000",
    ]
    planted = [
        _loose(repo, "commit", b"tree " + tree.encode() + b"\n" + a + b"\n\nm\n") for a in authors
    ]
    notree = _loose(repo, "commit", b"author A <a@b> 1700000000 +0000\n\nno tree\n")
    broken = _loose(repo, "tree", b"100644 name-without-an-id\0\x01\x02")
    with objectread.opened(str(repo.path)) as objects:
        said = [objects.commit(oid).ref for oid in planted]
        expected = [("", ""), ("A <a@b>", ""), ("A <a@b>", ""), ("", "")]
        assert [(r.author, r.date) for r in said[:4]] == expected
        assert said[4].author == "A <a@b>"  # the first author line, as git takes it
        assert objects.commit(notree).tree is None
        assert objects.tree(broken) == {}
        assert objects.commit("HEAD").tree is None  # only ids are sent to git
        assert objects.commit(real + "\nHEAD").tree is None
        assert objects.commit("0" * 40).ref.author == ""  # missing
        assert objects.commit(real).tree == tree  # and the reader is still in step


def test_objects_larger_than_the_triage_needs_are_read_past(
    tmp_path: Path, monkeypatch: Any
) -> None:
    repo = Repo(tmp_path / "repo")
    repo.write("a.txt", "a\n")
    real = repo.commit("real")
    big = _loose(repo, "commit", b"tree " + b"0" * 40 + b"\n\n" + b"x" * 5000)
    monkeypatch.setattr(objectread, "MAX_COMMIT", 4096)
    with objectread.opened(str(repo.path)) as objects:
        assert objects.commit(big).tree is None
        assert objects.commit(real).tree is not None
        monkeypatch.setattr(objectread, "_SKIP_AT_MOST", 1024)  # not read past: git restarted
        assert objects.commit(big).tree is None
        assert objects.commit(real).tree is not None


def test_an_object_git_cannot_inflate_stops_the_reader_not_the_audit(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "repo")
    repo.write("a.txt", "a\n")
    real = repo.commit("real")
    path = repo.path / ".git" / "objects" / real[:2] / real[2:]
    path.chmod(0o644)
    path.write_bytes(zlib.compress(b"commit 500\0tree ")[:-4])  # cut short
    with objectread.opened(str(repo.path)) as objects:
        assert objects.commit(real).tree is None
        assert objects.commit(real).ref.author == ""


def _exposure(repo: Repo) -> dict[str, Any]:
    proc = run_cli("audit", ".", "--format", "json", cwd=repo.path)
    assert proc.returncode == 1, proc.stderr
    [finding] = json.loads(proc.stdout)["findings"]
    exposure: dict[str, Any] = finding["exposure"]
    return exposure


def test_a_sha256_history_is_triaged_as_a_sha1_one(tmp_path: Path, rng: random.Random) -> None:
    """Found in session 7's notes: the triage's GitPython could not read SHA-256 objects, so
    an audit of such a repository holding a key stopped with an internal error."""
    key = keys.tavily_current(rng)
    said = {}
    for fmt in ("sha1", "sha256"):
        repo = Repo(tmp_path / fmt, object_format=fmt)
        repo.write("k.env", f"TAVILY_API_KEY={key}\n")
        added = commit(repo, "add", "2025-01-01T10:00:00+0530", "A <a@example.invalid>")
        repo.git("tag", "-a", "-m", "v1", "v1")
        repo.git("rm", "-q", "k.env")
        commit(repo, "drop", "2025-02-01T10:00:00-0800")
        exposure = _exposure(repo)
        assert exposure["introduced"]["commit"] == added
        assert exposure["last_seen"]["commit"] == added
        said[fmt] = json.dumps(exposure).replace(added, "ADDED")
    assert said["sha1"] == said["sha256"]
