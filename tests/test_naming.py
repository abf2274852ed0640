"""Naming what an audit could not read (sources.naming, sources.walk, sources.walkend): the
trees' text is searched as one stream for the wanted ids, and the walk's file is searched
where it lies. Whatever the chunking, the listing's accuracy or the search engine, the names
are the ones a plain entry-by-entry read of every tree gives."""

from __future__ import annotations

import random
import re
import subprocess
import threading
from array import array
from pathlib import Path

import pytest

from sgai_guard.detection.prefilter import DISABLE_ENV
from sgai_guard.engine.audit import AuditSource
from sgai_guard.models import Skipped
from sgai_guard.sources import naming
from sgai_guard.sources.listing import plan
from sgai_guard.sources.repo import open_repository
from sgai_guard.sources.walk import Walk
from tests.cli_helpers import run_json
from tests.gitrepo import Repo, git_env


def _damaged(path: Path, rng: random.Random) -> tuple[Repo, dict[str, set[str]]]:
    """A history of many trees, three blobs deleted from the store: one kept at one path,
    one moved across folders, one copied to twenty folders. Returns what each is named."""
    repo = Repo(path)
    for n in range(30):
        for m in range(4):
            repo.write(f"pkg{m}/sub{n % 5}/mod{n}.py", f"x = {rng.random()}\n")
        repo.commit(f"change {n}")
    repo.write("a/lost.txt", "lost one\n")
    repo.write("b/moved.txt", "lost two\n")
    repo.write("b/other.txt", "b\n")  # folders of their own: a tree shared by two folders
    for n in range(20):  # is named at the first one the walk met (sources.walk)
        repo.write(f"copies/c{n}/same.txt", "lost three\n")
        repo.write(f"copies/c{n}/own.txt", f"{n}\n")
    repo.commit("the lost ones")
    repo.write("c/d/moved.txt", "lost two\n")
    repo.git("rm", "-q", "b/moved.txt")
    repo.write("e/damaged.txt", "listed, then cannot be read (see the end-to-end test)\n")
    repo.commit("moved")
    expected = {
        _blob(repo, "HEAD:a/lost.txt"): {"a/lost.txt"},
        _blob(repo, "HEAD:c/d/moved.txt"): {"b/moved.txt", "c/d/moved.txt"},
        _blob(repo, "HEAD:copies/c0/same.txt"): {f"copies/c{n}/same.txt" for n in range(20)},
    }
    for oid in expected:
        (repo.path / ".git" / "objects" / oid[:2] / oid[2:]).unlink()
    return repo, expected


def _blob(repo: Repo, rev: str) -> str:
    return repo.git("rev-parse", rev).strip()


def _names(path: Path, oids: set[str], records: array[int] | None = None) -> dict[str, set[str]]:
    repo = open_repository(path)
    listed = plan(repo, None, 1)
    walk = Walk(repo, [])
    try:
        walked = walk.finish()
        assert set(walked.missing) == oids
        trees = listed.trees
        return naming.paths_of(repo.path, walk, trees, records or listed.tree_records, oids)
    finally:
        walk.close()


def test_names_are_found_whatever_the_chunk_size(
    tmp_path: Path, rng: random.Random, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo, expected = _damaged(tmp_path / "repo", rng)
    assert _names(repo.path, set(expected)) == expected
    for size in (7, 19, 20, 21, 4096):  # ids cut across every possible edge
        monkeypatch.setattr(naming, "_CHUNK", size)
        assert _names(repo.path, set(expected)) == expected, size


def test_a_listing_that_does_not_match_gits_output_still_names(
    tmp_path: Path, rng: random.Random
) -> None:
    """Sizes that foretell the wrong offsets (a tree that vanished after the listing) fall
    back to reading every tree entry by entry: nothing goes unnamed."""
    repo, expected = _damaged(tmp_path / "repo", rng)
    listed = plan(open_repository(repo.path), None, 1)
    wrong = array("q", (length + 1 for length in listed.tree_records))
    assert _names(repo.path, set(expected), wrong) == expected


def test_the_listings_sizes_foretell_gits_answers(tmp_path: Path, rng: random.Random) -> None:
    """Naming finds each tree in git's output from the listing's sizes alone: they add up to
    exactly what `cat-file --batch` writes, tree by tree, from either listing (the default
    one, filed a block at a time, and the one a size cap asks for, filed line by line)."""
    repo, _ = _damaged(tmp_path / "repo", rng)
    for cap in (None, 1 << 20):
        listed = plan(open_repository(repo.path), cap, 2)
        assert len(listed.tree_records) == len(listed.trees) > 16
        assert sum(listed.tree_records) == len(_answers(repo, b"".join(listed.trees)))
        assert listed.tree_records[-1] == len(_answers(repo, listed.trees[-1]))


def _answers(repo: Repo, ids: bytes) -> bytes:
    """What `git cat-file --batch` writes for ``ids``, byte for byte."""
    proc = subprocess.run(
        ["git", "cat-file", "--batch"],
        cwd=repo.path,
        env=git_env(),
        input=ids,
        capture_output=True,
        check=True,
    )
    return proc.stdout


@pytest.mark.parametrize("hyperscan", [True, False])
def test_the_walk_counts_commits_and_places_trees_with_or_without_hyperscan(
    tmp_path: Path, rng: random.Random, monkeypatch: pytest.MonkeyPatch, hyperscan: bool
) -> None:
    if not hyperscan:
        monkeypatch.setenv(DISABLE_ENV, "1")
    repo, expected = _damaged(tmp_path / "repo", rng)
    opened = open_repository(repo.path)
    walk = Walk(opened, [])
    try:
        walked = walk.finish()
        assert walked.commits == int(repo.git("rev-list", "--count", "--all"))
        assert set(walked.missing) == set(expected)
        trees = {line.split()[0].encode() for line in _tree_lines(repo)}
        assert len(trees) > 16  # past the few looked up one by one without Hyperscan
        assert walk.paths(trees) == walk._parsed_paths(trees)
        assert walk.paths(set()) == {}
    finally:
        walk.close()


def _tree_lines(repo: Repo) -> list[str]:
    listing = repo.git("cat-file", "--batch-all-objects", "--batch-check")
    return [line for line in listing.splitlines() if " tree " in line]


def test_the_audit_names_missing_objects_and_unreadable_ones(
    tmp_path: Path, rng: random.Random
) -> None:
    """End to end: missing blobs (named beside the readers) and a blob the readers find
    damaged (named after them) are all named, and the audit is incomplete."""
    repo, expected = _damaged(tmp_path / "repo", rng)
    damaged = _blob(repo, "HEAD:e/damaged.txt")
    loose = repo.path / ".git" / "objects" / damaged[:2] / damaged[2:]
    loose.chmod(0o644)
    data = loose.read_bytes()
    loose.write_bytes(data[:8] + bytes(b ^ 0xFF for b in data[8:]))  # the header still reads
    code, report = run_json("audit", ".", cwd=repo.path)
    assert code == 3, report
    named = {error["path"] for error in report["errors"]}
    for oid, paths in expected.items():
        assert f"{', '.join(sorted(paths))} ({oid[:12]})" in named
    assert f"e/damaged.txt ({damaged[:12]})" in named, named


def _source(path: Path, rng: random.Random, commits: int) -> Repo:
    repo = Repo(path)
    for n in range(commits):
        for m in range(40):
            repo.write(f"dir{m % 4}/f{m}.txt", f"{m} {n} {rng.random()}\n")
        repo.commit(f"change {n}")
    repo.git("config", "uploadpack.allowFilter", "true")
    return repo


@pytest.mark.parametrize("kind", ["tree:0", "blob:none"])
def test_partial_clones_are_counted_and_every_missing_object_named(
    tmp_path: Path, rng: random.Random, kind: str
) -> None:
    """A treeless clone's walk holds nothing but commits and "?" lines; a blobless clone lacks
    more objects than the streamed search takes (found by an attacker review: the treeless
    clone was audited as complete, with twice its commits)."""
    source = _source(tmp_path / "src", rng, 5)
    clone = tmp_path / "clone.git"
    url = (tmp_path / "src").as_uri()
    Repo.existing(tmp_path).git(
        "clone", "-q", "--bare", f"--filter={kind}", "--no-local", url, str(clone)
    )
    code, report = run_json("audit", str(clone), cwd=tmp_path)
    assert code == 3, report
    assert report["scanned"]["commits"] == int(source.git("rev-list", "--count", "--all"))
    if kind == "tree:0":  # the walk stops at the root trees it lacks
        lacking = set(source.git("log", "--format=%T").split())
    else:  # every blob, each named by its path
        listing = source.git("cat-file", "--batch-all-objects", "--batch-check")
        lacking = {line.split()[0] for line in listing.splitlines() if " blob " in line}
        assert all(e["path"].startswith("dir") for e in report["errors"]), report
    assert len(report["errors"]) == len(lacking), report
    named = {re.findall(r"[0-9a-f]{12}", e["path"])[-1] for e in report["errors"]}
    assert named == {oid[:12] for oid in lacking}


def test_a_ref_to_a_tree_names_the_blob_it_lacks(tmp_path: Path) -> None:
    """No commit at all: the walk starts with a tree, whose line has no newline before it."""
    repo = Repo(tmp_path / "repo")
    repo.write("d/lost.txt", "lost\n")
    repo.write("d/kept.txt", "kept\n")
    repo.add()
    tree = repo.git("write-tree").strip()
    repo.git("update-ref", "refs/trees/only", tree)
    lost = repo.git("rev-parse", f"{tree}:d/lost.txt").strip()
    (repo.path / ".git" / "objects" / lost[:2] / lost[2:]).unlink()
    code, report = run_json("audit", ".", cwd=repo.path)
    assert code == 3, report
    assert [e["path"] for e in report["errors"]] == [f"d/lost.txt ({lost[:12]})"]
    assert report["scanned"]["commits"] == 0
    walk = Walk(open_repository(repo.path), [])
    try:
        walk.finish()
        assert walk.paths({tree.encode()}) == {tree.encode(): ""}
    finally:
        walk.close()


def test_an_abandoned_audit_leaves_no_thread_behind(tmp_path: Path, rng: random.Random) -> None:
    repo, expected = _damaged(tmp_path / "repo", rng)
    source = AuditSource(repo.path)
    items = source.items()
    for item in items:
        if isinstance(item, Skipped) and item.blob_id in expected:
            break  # the engine stops here (an error, Ctrl-C): refine and close never run
    items.close()
    assert "sgai-guard walk end" not in [t.name for t in threading.enumerate()]
