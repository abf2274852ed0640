"""The triage's reader of commits and trees (sources.objectread) and its use by the tips
(sources.tips): what it says is what git says, in SHA-1 and SHA-256 repositories, and
hostile objects give empty fields or a notice, never an error, and never a reader out of
step with git. Several cases come from an attacker review of the reader."""

from __future__ import annotations

import itertools
import json
import os
import random
import zlib
from pathlib import Path
from typing import Any

import pytest

from sgai_guard.engine.audit import AuditSource
from sgai_guard.engine.prepare import prepare
from sgai_guard.engine.run import run
from sgai_guard.sources import objectread, tips
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
                assert read.tree is not None
                assert (read.tree, read.ref.author, read.ref.date) == _git_says(repo, oid)
                listed = repo.git("ls-tree", "--format=%(objectname)\t%(path)", "-z", read.tree)
                wanted = dict(reversed(e.split("\t", 1)) for e in listed.split("\0") if e)
                assert {k: e.oid for k, e in objects.tree(read.tree).items()} == wanted
                assert all(e.tree for e in objects.tree(read.tree).values())  # folders
            assert objects.tree(made[0]) == {}  # a commit asked for as a tree
            assert objects.commit(read.tree).tree is None  # and a tree as a commit
            assert objects.commit(made[-1]) == objects.commit(made[-1])  # still in step
            assert objects.failures == 0


def _loose(repo: Repo, kind: str, body: bytes) -> str:
    return repo.git("hash-object", "-t", kind, "-w", "--literally", "--stdin", stdin=body).strip()


def _planted(repo: Repo, tree: str, ident: bytes, extra: bytes = b"") -> str:
    return _loose(repo, "commit", b"tree " + tree.encode() + b"\n" + ident + extra + b"\n\nm\n")


def test_author_lines_are_read_as_git_reads_them(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "repo")
    repo.write("a.txt", "a\n")
    repo.commit("real")
    tree = repo.git("rev-parse", "HEAD^{tree}").strip()
    idents = [
        b"author Dee <d@x>  1700000000  +0000",  # two spaces
        b"author Short <s@x> 1700000000 +05",  # a short zone: five minutes, to git
        b"author Cr <c@x> 1700000000 +0000\r",
        b"author G <a>b@x> 1700000000 +0100",  # ">" in the email: it ends at the first
        b"author Eve <boss@corp.example> <eve@x> 1700000000 -0700",  # two emails
        b"author First <f@x> 1500000000 +0000\nauthor Second <s@x> 1900000000 +0000",
        b"author Glued <g@x>1700000000+0200",
        b"author   Spaced   Name  <n@x> 1700000000 +0000",
    ]
    planted = [_planted(repo, tree, ident) for ident in idents]
    with objectread.opened(str(repo.path)) as objects:
        for oid in planted:
            read = objects.commit(oid)
            assert (read.tree, read.ref.author, read.ref.date) == _git_says(repo, oid), oid


def test_hostile_commits_and_trees_give_empty_fields(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "repo")
    repo.write("a.txt", "a\n")
    real = repo.commit("real")
    tree = repo.git("rev-parse", "HEAD^{tree}").strip()
    idents = [
        b"author no email 1700000000 +0000",
        b"author A <a@b> 99999999999999999 +0000",  # past any calendar
        b"author A <a@b> 1700000000 +9999",  # no such zone
        b"author A <a@b> 1700000000",
    ]
    planted = [_planted(repo, tree, ident) for ident in idents]
    upper = _loose(repo, "commit", f"tree {tree.upper()}\n{idents[3].decode()}\n\nm\n".encode())
    notree = _loose(repo, "commit", b"author A <a@b> 1700000000 +0000\n\nno tree\n")
    broken = _loose(repo, "tree", b"100644 name-without-an-id\0\x01\x02")
    with objectread.opened(str(repo.path)) as objects:
        said = [(r.author, r.date) for r in (objects.commit(oid).ref for oid in planted)]
        assert said == [("", ""), ("A <a@b>", ""), ("A <a@b>", ""), ("A <a@b>", "")]
        assert objects.commit(upper).tree == tree  # git takes upper-case hex too
        assert objects.commit(notree).tree is None
        assert objects.tree(broken) == {}
        assert objects.commit("HEAD").tree is None  # only ids are sent to git
        assert objects.commit(real + "\nHEAD").tree is None
        assert objects.commit("0" * 40).ref.author == ""  # missing
        assert objects.commit(real).tree == tree  # and the reader is still in step
        assert objects.failures == 0


def test_large_objects_are_read_past_or_left_to_a_new_git(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A commit is read only as far as its headers; an answer not wanted is read past when
    small, else git is started again (a tag naming a 2 GiB blob)."""
    repo = Repo(tmp_path / "repo")
    repo.write("a.txt", "a\n")
    real = repo.commit("real")
    tree = repo.git("rev-parse", "HEAD^{tree}").strip()
    ident = b"author Big <b@x> 1700000000 +0000"
    big = _planted(repo, tree, ident, b"\nx-pad " + b"p" * 300_000)
    blob = _loose(repo, "blob", b"b" * 5000)
    with objectread.opened(str(repo.path)) as objects:
        assert objects.commit(big) == objects.commit(big)
        assert objects.commit(big).tree == tree  # the headers come first
        assert objects.commit(big).ref.author == "Big <b@x>"
        assert objects.commit(blob).tree is None
        monkeypatch.setattr(objectread, "_SKIP_AT_MOST", 1024)  # not read past: a new git
        assert objects.commit(blob).tree is None
        assert objects.commit(big).tree == tree
        assert objects.commit(real).tree == tree
        assert objects.failures == 0


def _corrupt_loose(repo: Repo, kind: str, body: bytes) -> str:
    """A loose object git lists but stops on when asked for its content: its zlib stream
    holds the object and trailing bytes."""
    oid = _loose(repo, kind, body)
    path = repo.path / ".git" / "objects" / oid[:2] / oid[2:]
    path.chmod(0o644)
    path.write_bytes(zlib.compress(f"{kind} {len(body)}\0".encode() + body + b"junk"))
    return oid


def test_an_object_git_stops_on_costs_that_object_only(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "repo")
    repo.write("a.txt", "a\n")
    real = repo.commit("real")
    tree = repo.git("rev-parse", "HEAD^{tree}").strip()
    poison = _corrupt_loose(repo, "tree", b"100644 x\0" + bytes(20))
    with objectread.opened(str(repo.path)) as objects:
        assert objects.tree(poison) == {}
        assert objects.commit(real).tree == tree  # asked of a new git
        assert objects.failures == 1
        for _ in range(objectread.MAX_RESTARTS + 2):
            objects.tree(poison)
        assert objects.commit(real).tree is None  # a bounded number of new gits
        assert objects.failures == objectread.MAX_RESTARTS + 4


def _exposure(repo: Repo) -> tuple[dict[str, Any], list[str]]:
    proc = run_cli("audit", ".", "--format", "json", cwd=repo.path)
    assert proc.returncode == 1, proc.stderr
    report = json.loads(proc.stdout)
    [finding] = report["findings"]
    exposure: dict[str, Any] = finding["exposure"]
    return exposure, report["notices"]


def test_a_gitlink_to_an_object_git_stops_on_hides_no_tip(
    tmp_path: Path, rng: random.Random
) -> None:
    """Found by the review: a gitlink where a folder was, naming a tree git stops on; the
    tips asked git for it as a tree, and the reader then read nothing more, so the key at
    HEAD's tip was said to be last held by the commit that added it."""
    repo = Repo(tmp_path / "repo")
    repo.write("b/cfg.py", f"K='{keys.tavily_current(rng)}'\n")
    repo.write("a/x.txt", "x\n")
    added = commit(repo, "add", "2023-01-01T00:00:00+0000")
    poison = _corrupt_loose(repo, "tree", b"100644 cfg.py\0" + bytes(20))
    repo.git("rm", "-rq", "a")
    repo.git("update-index", "--add", "--cacheinfo", f"160000,{poison},a")
    tip = commit(repo, "a gitlink", "2027-01-01T00:00:00+0000")
    exposure, notices = _exposure(repo)
    assert exposure["introduced"]["commit"] == added
    assert exposure["last_seen"]["commit"] == tip
    assert not any("could not read" in n for n in notices)  # a gitlink is not followed


def test_an_author_line_without_a_zone_gives_no_date(tmp_path: Path, rng: random.Random) -> None:
    """Found by the review: git log leaves `%aI` as it is for such a line, and the audit
    said the key was introduced on "%aI"."""
    repo = Repo(tmp_path / "repo")
    repo.write("cfg.py", f"K='{keys.tavily_current(rng)}'\n")
    repo.add()
    tree = repo.git("write-tree").strip()
    oid = _planted(repo, tree, b"author A <a@x> 1700000000\ncommitter A <a@x> 1700000000")
    repo.git("update-ref", "refs/heads/main", oid)
    exposure, _ = _exposure(repo)
    assert exposure["introduced"]["commit"] == oid
    assert exposure["introduced"]["date"] == exposure["last_seen"]["date"] == ""


def test_what_the_triage_could_not_read_is_said(
    tmp_path: Path, rng: random.Random, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No git to ask (none can be started): the key is still reported, and the audit says
    who added it and which tip holds it may be missing."""
    repo = Repo(tmp_path / "repo")
    repo.write("cfg.py", f"K='{keys.tavily_current(rng)}'\n")
    commit(repo, "add", "2023-01-01T00:00:00+0000")
    monkeypatch.setattr(objectread, "MAX_RESTARTS", -1)
    result = run(AuditSource(repo.path), prepare(repo.path), full_scan=True)
    assert [f.path for f in result.findings] == ["cfg.py"]
    assert any("git could not read" in n and "commit(s) or tree(s)" in n for n in result.notices)


def test_tips_are_ordered_by_instant_and_folders_must_be_trees(
    tmp_path: Path, rng: random.Random
) -> None:
    """Two branch tips hold the key: the later instant wins though its ISO text sorts
    first (time zones), and a name listed twice in a tree is the first, as git reads it."""
    repo = Repo(tmp_path / "repo")
    key = keys.tavily_current(rng)
    repo.write("cfg.py", f"K='{key}'\n")
    commit(repo, "add", "2025-01-01T10:00:00+0000")
    repo.git("checkout", "-q", "-b", "early")
    repo.write("n.txt", "1\n")
    commit(repo, "09:00 UTC", "2025-06-01T12:00:00+0300")  # sorts after 10:00 as text
    repo.git("checkout", "-q", "-b", "late", "main")
    repo.write("n.txt", "2\n")
    late = commit(repo, "10:00 UTC", "2025-06-01T02:00:00-0800")
    repo.git("checkout", "-q", "main")
    repo.git("rm", "-q", "cfg.py")
    commit(repo, "drop", "2025-07-01T10:00:00+0000")
    exposure, _ = _exposure(repo)
    assert exposure["last_seen"]["commit"] == late
    blob = repo.git("rev-parse", f"{late}:cfg.py").strip()
    harmless = _loose(repo, "blob", b"nothing\n")
    entries = f"100644 blob {blob}\tcfg.py\n100644 blob {harmless}\tcfg.py\n"
    tree = repo.git("mktree", "--missing", stdin=entries.encode()).strip()
    with objectread.opened(str(repo.path)) as objects:
        assert (
            objects.tree(tree)["cfg.py"].oid
            == blob
            == repo.git("rev-parse", f"{tree}:cfg.py").strip()
        )


def test_the_tips_cache_of_trees_is_bounded(
    tmp_path: Path, rng: random.Random, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by the review: every tip's root tree was kept whole (55 MB a tip of 300,000
    entries); they are now dropped, least recently used first, past a bound."""
    monkeypatch.setattr(tips, "MAX_CACHED_ENTRIES", 30)
    repo = Repo(tmp_path / "repo")
    repo.write("k/cfg.py", f"K='{keys.tavily_current(rng)}'\n")
    for n in range(25):
        repo.write(f"f{n}.txt", f"{n}\n")
    commit(repo, "add", "2025-01-01T10:00:00+0000")
    heads = {}
    for n in range(6):
        repo.write(f"f{n}.txt", f"changed {n}\n")
        heads[f"refs/heads/b{n}"] = commit(repo, f"b{n}", f"2025-0{n + 2}-01T10:00:00+0000")
    oid = repo.git("rev-parse", "HEAD:k/cfg.py").strip()
    with objectread.opened(str(repo.path)) as objects:
        held = tips.Tips(objects, heads)
        assert held.latest_holding(heads, oid, ["k/cfg.py"]) == {
            "refs/heads/b5": held.commit(heads["refs/heads/b5"])
        }
        for tip in heads.values():
            assert held._at(tip, "k/cfg.py") == oid
        assert held._cached <= 30 + 30  # the bound, plus the one tree just read
        assert len(held._trees) < 2 * len(heads)


def test_a_fifo_in_an_alternate_store_is_refused(tmp_path: Path, rng: random.Random) -> None:
    """Found by the review: a FIFO among an alternate store's loose objects (one nested
    two alternates deep too) hung the audit in git's listing."""
    for depth in (1, 2):
        repo = Repo(tmp_path / f"repo{depth}")
        repo.write("k.env", f"K={keys.tavily_current(rng)}\n")
        repo.commit("a key")
        stores = [tmp_path / f"alt{depth}-{n}" for n in range(depth)]
        for store in stores:
            (store / "info").mkdir(parents=True)
        chain = [repo.path / ".git" / "objects", *stores]
        for here, there in itertools.pairwise(chain):
            (here / "info").mkdir(exist_ok=True)
            (here / "info" / "alternates").write_text(f"{there}\n")
        (stores[-1] / "ab").mkdir()
        os.mkfifo(stores[-1] / "ab" / ("c" * 38))
        proc = run_cli("audit", str(repo.path), "--format", "json", cwd=tmp_path, timeout=120)
        assert proc.returncode == 2, proc.stderr
        assert "not a regular file" in proc.stderr


@pytest.mark.parametrize("planted", ["fifo", "nested alternates"])
def test_the_progress_line_waits_for_the_checks(
    tmp_path: Path, rng: random.Random, planted: str
) -> None:
    """Found in session 13: with a progress line (the default on a terminal) the audit sized
    its work, listing the object store through git, before checking the stores, so a FIFO
    among the loose objects hung it for good instead of being refused. The review of that
    fix found a FIFO as an alternate store's own alternates file, which git reads too, and
    which nothing checked: with or without a progress line it hangs git's listing."""
    repo = Repo(tmp_path / "repo")
    repo.write("k.env", f"K={keys.tavily_current(rng)}\n")
    repo.commit("a key")
    objects = repo.path / ".git" / "objects"
    if planted == "fifo":
        (objects / "ab").mkdir()
        os.mkfifo(objects / "ab" / ("c" * 38))
    else:
        other = tmp_path / "other" / "objects"
        (other / "info").mkdir(parents=True)
        os.mkfifo(other / "info" / "alternates")
        (objects / "info" / "alternates").write_text(f"{other}\n")
    for progress in ("always", "never"):
        proc = run_cli("audit", ".", "--progress", progress, cwd=repo.path, timeout=120)
        assert proc.returncode == 2, proc.stdout + proc.stderr
        assert "not a regular file" in proc.stderr or "not a plain file" in proc.stderr


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
        exposure, _ = _exposure(repo)
        assert exposure["introduced"]["commit"] == added
        assert exposure["last_seen"]["commit"] == added
        said[fmt] = json.dumps(exposure).replace(added, "ADDED")
    assert said["sha1"] == said["sha256"]
