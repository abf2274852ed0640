"""The audit reads the object store in several processes (sources.readers) that screen what
they read: on a generated history, what it finds, suppresses, skips and counts is exactly what
one unscreened reader finds. And a reader that dies is said, never taken for a clean run."""

from __future__ import annotations

import codecs
import gzip
import hashlib
import os
import random
import shutil
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sgai_guard.engine.audit import AuditSource
from sgai_guard.engine.prepare import prepare
from sgai_guard.engine.run import run
from sgai_guard.models import ScanResult
from sgai_guard.sources import hardening, listing, naming, packread
from sgai_guard.sources import readers as reading
from sgai_guard.sources.listing import _bounds, _cut
from sgai_guard.sources.repo import open_repository
from tests import keys
from tests.archives import zip_of
from tests.cli_helpers import run_json
from tests.gitrepo import Repo


def _history(path: Path, rng: random.Random) -> Repo:
    """Keys in every place the audit looks: plain files, a zip, a gzip, UTF-16 text, base64,
    a large file read in pieces (a key across a piece's edge), commit and tag messages;
    placeholders that are suppressed; a file over a size cap; plenty of clean files."""
    repo = Repo(path)
    for n in range(40):
        for m in range(3):
            repo.write(f"src/m{m}/f{n}.py", f"# module {n}.{m}\n" + "x = 1\n" * rng.randint(1, 200))
        if n % 7 == 0:
            repo.write(f"conf/key{n}.env", f"TAVILY_API_KEY={keys.tavily_current(rng)}\n")
        repo.commit(f"change {n}")
    repo.write(
        "dist/bundle.zip", zip_of({"app/.env": f"SGAI_API_KEY={keys.sgai_uuid(rng)}\n".encode()})
    )
    noise = rng.randbytes(9 << 20)  # incompressible: a zip read in pieces, its key deflated
    deflated = f"TAVILY_API_KEY={keys.tavily_current(rng)}\n".encode()
    repo.write("dist/large.zip", zip_of({"a/noise.bin": noise, "z/.env": deflated}))
    repo.write("logs/app.log.gz", gzip.compress(f"key={keys.tavily_legacy(rng)}\n".encode()))
    repo.write(
        "win/notes.txt", codecs.BOM_UTF16_LE + f"k {keys.sgai_hex(rng)}\n".encode("utf-16-le")
    )
    repo.write("docs/example.md", "TAVILY_API_KEY=tvly-" + "x" * 32 + "\n")  # a placeholder
    big = bytearray(rng.randbytes(5 << 20).hex().encode())  # pieces are 8 MiB (fsread.CHUNK)
    key = b"\n" + keys.tavily_current(rng).encode() + b"\n"
    at = (8 << 20) - 10  # near the first piece's edge
    big[at : at + len(key)] = key
    repo.write("data/big.txt", bytes(big))
    repo.commit(f"vendor things\n\nthe old key was {keys.sgai_uuid(rng)}")
    repo.git("tag", "-a", "v1", "-m", f"release, key {keys.tavily_current(rng)}")
    return repo


def _audit(path: Path, readers: int, **options: int) -> ScanResult:
    source = AuditSource(path, readers=readers, **options)
    return run(source, prepare(path), full_scan=True)


def _seen(result: ScanResult) -> tuple[object, ...]:
    findings = sorted(
        (f.fingerprint, f.path, f.line, f.column, f.rule.id, f.status, f.exposure)
        for f in result.findings
    )
    suppressed = sorted(
        (s.finding.fingerprint, s.finding.path, s.reason) for s in result.suppressed
    )
    stats = result.stats._replace(seconds=0.0)
    return findings, suppressed, result.skipped, stats, result.incomplete, result.notices


def test_several_readers_find_exactly_what_one_finds(tmp_path: Path, rng: random.Random) -> None:
    repo = _history(tmp_path / "repo", rng)
    missing = repo.git("rev-parse", "HEAD~3:src/m1/f3.py").strip()
    (repo.path / ".git" / "objects" / missing[:2] / missing[2:]).unlink()
    one, three = _audit(repo.path, 1), _audit(repo.path, 3)
    assert _seen(one) == _seen(three)
    assert len(one.findings) >= 13  # plain, zips, gzip, UTF-16, large, messages...
    wanted = {"dist/bundle.zip!app/.env", "dist/large.zip!z/.env", "data/big.txt"}
    assert {f.path for f in one.findings} >= wanted
    assert one.suppressed, "the placeholder is suppressed, not lost"
    assert one.stats.files > 120
    assert [s.path for s in one.skipped] == [f"src/m1/f3.py ({missing[:12]})"]
    capped_one = _audit(repo.path, 1, max_blob_size=1 << 20)
    capped_three = _audit(repo.path, 3, max_blob_size=1 << 20)
    assert _seen(capped_one) == _seen(capped_three)
    assert any(s.path.startswith("data/big.txt (") for s in capped_one.skipped)


def test_reading_packs_in_process_finds_exactly_what_reading_through_git_finds(
    tmp_path: Path, rng: random.Random
) -> None:
    """Issue 17, goal 1: the readers inflate packed objects themselves (sources.packread);
    what the audit finds, suppresses, skips and counts is what it found through git."""
    repo = _history(tmp_path / "repo", rng)
    repo.git("repack", "-adf", "--depth=50", "--window=50")  # deltas, and chains of them
    for n in range(3):  # loose objects, one of them lost
        repo.write(f"conf/late{n}.env", f"SGAI_API_KEY={keys.sgai_uuid(rng)}\n")
        repo.commit(f"late {n}")
    lost = repo.git("rev-parse", "HEAD:conf/late1.env").strip()
    (repo.path / ".git" / "objects" / lost[:2] / lost[2:]).unlink()
    git_read = AuditSource(repo.path, readers=2, in_process=False)
    expected = _seen(run(git_read, prepare(repo.path), full_scan=True))
    for readers in (1, 2, 3):
        source = AuditSource(repo.path, readers=readers)
        assert _seen(run(source, prepare(repo.path), full_scan=True)) == expected, readers
    assert len(expected[0]) >= 15  # type: ignore[arg-type]


def _twice_packed(repo: Path) -> None:
    """Every object in two packs (an honest copy): the readers leave each to git, asked one
    object at a time (sources.runread), since git picks among copies by rules of its own."""
    subprocess.run(["git", "repack", "-adq"], cwd=repo, check=True, capture_output=True)
    pack_dir = repo / ".git" / "objects" / "pack"
    for found in list(pack_dir.glob("pack-*.*")):
        shutil.copy(found, pack_dir / found.name.replace("pack-", "pack-copy-"))


def test_a_reader_that_dies_makes_the_audit_incomplete(tmp_path: Path, rng: random.Random) -> None:
    """Fault injection: the real git runs, but the process reading its output is killed."""
    repo = _history(tmp_path / "repo", rng)
    alone = _audit(repo.path, 2)
    shared = tmp_path / "shared.git"
    clone = ["git", "clone", "-q", "--bare", "--shared", str(repo.path), str(shared)]
    subprocess.run(clone, check=True)
    found = [[f[:6] for f in _seen(each)[0]] for each in (alone, _audit(shared, 2))]  # type: ignore[index]
    assert found[0] == found[1], "an alternate store's objects, read by git"
    assert len(alone.findings) >= 13
    _twice_packed(repo.path)
    assert [f[:6] for f in _seen(_audit(repo.path, 2))[0]] == found[0]  # type: ignore[index]
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    wrapper = bin_dir / "git"
    wrapper.write_text(
        "#!/bin/sh\n"
        'case " $* " in *" cat-file --batch ") kill -9 $PPID; exit 1;; esac\n'
        'exec "$REAL_GIT" "$@"\n'
    )
    wrapper.chmod(0o755)
    env = {"PATH": f"{bin_dir}:{os.environ['PATH']}", "REAL_GIT": shutil.which("git") or "git"}
    code, report = run_json("audit", ".", cwd=repo.path, env=env)
    if (os.cpu_count() or 1) < 2 or not hasattr(os, "fork"):  # read in-process: git fails
        assert code == 3
        return
    assert code == 3, report
    assert any("reader process stopped" in e["message"] for e in report["errors"]), report
    assert not report["complete"]


def test_hostile_names_of_unreadable_objects_are_escaped(tmp_path: Path) -> None:
    """A missing object is named by its tree entry; a hostile name is shown escaped."""
    repo = Repo(tmp_path / "repo")
    name = "a\u202eexe.txt\x1b[31m"
    repo.write(name, "lost content\n")
    repo.commit("one")
    lost = repo.git("rev-parse", f"HEAD:{name}").strip()
    (repo.path / ".git" / "objects" / lost[:2] / lost[2:]).unlink()
    code, report = run_json("audit", ".", cwd=repo.path)
    assert code == 3
    [error] = report["errors"]
    assert lost[:12] in error["path"]
    code, text = _text_report(repo.path)
    assert "\u202e" not in text and "\x1b" not in text
    assert lost[:12] in text


def _text_report(path: Path) -> tuple[int, str]:
    proc = subprocess.run(
        [sys.executable, "-m", "sgai_guard", "audit", str(path), "--progress", "never"],
        capture_output=True,
        text=True,
        check=False,
    )
    return proc.returncode, proc.stdout + proc.stderr


@given(st.lists(st.integers(min_value=0, max_value=10**6), max_size=60), st.integers(1, 8))
def test_runs_cover_the_listing_in_order(weights: list[int], parts: int) -> None:
    ids = [f"{n:040x}".encode() for n in range(len(weights))]
    runs = _cut(ids, weights, parts)
    assert b"".join(runs) == b"".join(oid + b"\n" for oid in ids)
    assert len(runs) <= parts
    assert all(runs)
    if parts > 1 and len(set(weights)) == 1 and len(ids) >= 2 * parts:  # equal weights
        sizes = [run.count(b"\n") for run in runs]
        assert len(runs) == parts and max(sizes) - min(sizes) <= 1, sizes


@given(st.lists(st.integers(min_value=0, max_value=10**6), max_size=300), st.integers(2, 64))
def test_pieces_cover_the_listing_in_order_and_shrink(weights: list[int], parts: int) -> None:
    """Read in-process, the listing is cut into pieces the readers take in turn: together
    they are the listing, in order, none empty, never more than a pipe surely holds."""
    bounds = _bounds(weights, parts, pieces=True)
    assert [start for start, _ in bounds] == [0, *(end for _, end in bounds[:-1])][: len(bounds)]
    assert (bounds[-1][1] if bounds else 0) == len(weights)
    assert all(end > start for start, end in bounds)
    assert len(bounds) <= reading._MAX_RUNS
    if len(set(weights)) == 1 and len(weights) >= 64 * parts:  # equal weights: they shrink
        sizes = [end - start for start, end in bounds]
        assert len(sizes) > parts
        assert sizes[0] <= len(weights) // (2 * parts) + 1, sizes
        assert sizes[:-2] == sorted(sizes[:-2], reverse=True), sizes


def test_the_last_pieces_are_small_so_the_readers_end_together() -> None:
    """With 2 readers the smallest piece is a 128th of the whole: the last piece one reader
    takes leaves the other at most about that much to finish alone (with a 32nd, sympy's
    readers ended 0.06-0.18 s apart, one core idle meanwhile)."""
    weights = [1000] * 100_000
    sizes = [end - start for start, end in _bounds(weights, 2, pieces=True)]
    assert sum(sizes) == len(weights)
    assert sizes[0] == len(weights) // 4  # the first pieces are large: few hand-overs
    assert max(sizes[-4:]) <= len(weights) * 3 // (2 * 128) + 1, sizes


def _read(repo: Path, plan: listing.Plan, workers: int) -> list[tuple[str, str, bytes]]:
    """The blobs the readers send on, read from ``plan``'s runs by ``workers``."""
    store = packread.open_store(str(repo / ".git" / "objects"))
    try:
        items = reading.read(str(repo), plan.runs, None, lambda: None, store, None, workers)
        return [
            (item.blob_id, item.path, item.data)
            for item in items
            if isinstance(item, reading.Blob) and item.blob_id
        ]
    finally:
        store.close()


def test_readers_take_pieces_in_turn_and_read_each_once(
    tmp_path: Path, rng: random.Random, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two readers over many pieces: every object that may hold a key comes once, as it
    does with one run per reader, each piece in its order; where the pipe of piece numbers
    cannot hold them all, the pieces are read here, alone (unscreened), and nothing is lost
    either."""
    repo = Repo(tmp_path / "repo")
    for n in range(6):
        for m in range(40):
            text = "".join(f"{rng.random()} = {m}\n" for _ in range(rng.randint(1, 400)))
            repo.write(f"src/f{m}.py", text + (f"k={keys.tavily_current(rng)}\n" if m % 9 else ""))
        repo.commit(f"change {n}")
    repo.git("repack", "-adf", "--depth=50", "--window=50")
    opened = open_repository(repo.path)
    plan = listing.plan(opened, None, 2, listing.IN_PROCESS)
    halves = listing.plan(opened, None, 2, listing.THROUGH_GIT)
    assert len(plan.runs) > 4 and plan.readers == 2 and len(halves.runs) == 2
    together = _read(repo.path, plan, 2)
    assert sorted(together) == sorted(_read(repo.path, halves, 2))
    assert len(together) == len(set(together)) >= 8
    listed = {oid.decode(): n for n, oid in enumerate(b"".join(plan.runs).split())}
    piece = {oid.decode(): n for n, run in enumerate(plan.runs) for oid in run.split()}
    assert len({piece[oid] for oid, _, _ in together}) > 2, "pieces read by both readers"
    for number in range(len(plan.runs)):  # one piece's objects keep their order
        places = [listed[oid] for oid, _, _ in together if piece[oid] == number]
        assert places == sorted(places)
    monkeypatch.setattr(reading, "_MAX_RUNS", 2)
    assert set(together) <= set(_read(repo.path, plan, 2))


def test_large_containers_from_several_readers_are_opened_whole(
    tmp_path: Path, rng: random.Random
) -> None:
    """Pieces of large blobs from different readers must not interleave: the engine puts a
    container read in pieces back together, one at a time (found by an attacker review)."""
    repo = Repo(tmp_path / "repo")
    key = keys.tavily_current(rng)
    text = b"lorem ipsum\n" * 5000 + f'api_key = "{key}"\n'.encode()
    repo.write("a.gz", gzip.compress(text + rng.randbytes(20 << 20), compresslevel=1))
    repo.write("b.gz", gzip.compress(rng.randbytes(20 << 20), compresslevel=1))
    for name in ("x.txt", "y.txt"):
        repo.write(name, b"see tvly- docs\n" + rng.randbytes(8 << 20).hex().encode())
    repo.commit("large things")
    for readers in (1, 2, 4, 4):
        result = _audit(repo.path, readers)
        assert [f.path for f in result.findings] == ["a.gz!a"], readers
        assert not result.skipped and not result.incomplete


def test_unreachable_trees_do_not_name_missing_objects(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "repo")
    repo.write("docs/prod.env", "lost\n")
    repo.commit("one")
    lost = repo.git("rev-parse", "HEAD:docs/prod.env").strip()
    (repo.path / ".git" / "objects" / lost[:2] / lost[2:]).unlink()
    repo.git("mktree", "--missing", stdin=f"100644 blob {lost}\tREADME.md\n".encode())
    result = _audit(repo.path, 2)
    assert [s.path for s in result.skipped] == [f"docs/prod.env ({lost[:12]})"]


def test_a_commit_too_large_to_read_makes_the_audit_incomplete(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "repo")
    repo.write("a.txt", "a\n")
    message = tmp_path / "message"
    message.write_text("padding " + "x" * (1 << 20) + "\n\nthe key would be here\n")
    repo.add()
    repo.git("commit", "-q", "--no-gpg-sign", "-F", str(message))
    code, report = run_json("audit", ".", cwd=repo.path)
    assert code == 3
    assert any("larger than" in e["message"] for e in report["errors"]), report
    head = repo.git("rev-parse", "HEAD").strip()
    repo.git("gc", "-q")  # packed too: read in-process, or through git
    for options in ({}, {"max_blob_size": 1 << 20}):  # either listing
        for in_process, readers in ((True, 1), (True, 2), (False, 2)):
            source = AuditSource(repo.path, readers=readers, in_process=in_process, **options)
            result = run(source, prepare(repo.path), full_scan=True)
            said = [s for s in result.skipped if s.blob_id == head]
            assert len(said) == 1 and "larger than" in said[0].reason, (options, said)
            assert said[0].error and result.incomplete


@pytest.mark.parametrize("cap", [None, 1 << 20])
def test_loose_objects_claiming_huge_sizes_are_said_not_crashed_on(
    tmp_path: Path, rng: random.Random, cap: int | None
) -> None:
    """Found by an attacker review: a loose object's header may claim up to 2^64 - 1 bytes,
    and git lists what it claims; the listing's 64-bit weights overflowed (an internal error,
    no finding at all), and so did naming's read of such a tree. The key is found, the
    commit and tag are said to be too large, and the audit is incomplete."""
    repo = Repo(tmp_path / "repo")
    repo.write("k.txt", f"TAVILY_API_KEY={keys.tavily_current(rng)}\n")
    repo.commit("one")
    objects = repo.path / ".git" / "objects"
    for folder, kind in (("ab", b"commit"), ("ac", b"tag"), ("ad", b"tree")):
        (objects / folder).mkdir(exist_ok=True)
        raw = zlib.compress(kind + b" 9300000000000000000\0hello")
        (objects / folder / ("2" * 38)).write_bytes(raw)
    for in_process in (True, False):
        source = AuditSource(repo.path, readers=2, in_process=in_process, max_blob_size=cap)
        result = run(source, prepare(repo.path), full_scan=True)
        assert [f.path for f in result.findings] == ["k.txt"], in_process
        said = sorted(s.path for s in result.skipped if "larger than" in s.reason)
        assert said == ["commit ab2222222222", "tag ac2222222222"], result.skipped
        assert result.incomplete


@pytest.mark.parametrize("claimed", [10**12, 600 << 20])
def test_a_planted_huge_tree_does_not_keep_missing_objects_from_their_names(
    tmp_path: Path, claimed: int
) -> None:
    """Found by a review (session 17): a loose tree claiming a TiB, listed before the tree
    that holds a missing blob, made git die allocating it while naming, and the blob was named
    by its id alone; one claiming 600 MiB made git pad it with zeros, twice. Both are left out
    of what git is asked for: the missing blob keeps its path."""
    repo, trees, lost = _lost_in_docs(tmp_path / "repo")
    n = 0
    while True:  # listed first: git lists loose objects in the order of their ids
        raw = b"tree %d\0short %d" % (claimed, n)
        oid = hashlib.sha1(raw).hexdigest()  # noqa: S324 - git's object id
        if oid < min(trees):
            break
        n += 1
    (repo.path / ".git" / "objects" / oid[:2]).mkdir(exist_ok=True)
    (repo.path / ".git" / "objects" / oid[:2] / oid[2:]).write_bytes(zlib.compress(raw))
    result = _audit(repo.path, 2)
    assert [s.path for s in result.skipped] == [f"docs/prod.env ({lost[:12]})"]
    assert result.incomplete


@pytest.mark.parametrize("planted", ["loose", "packed", "copy"])
def test_a_tree_git_cannot_read_does_not_keep_the_trees_after_it_unread(
    tmp_path: Path, planted: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by a review (session 17): a tree whose content is not what its listed size says
    (a loose one with bytes after its zlib stream, a packed one whose header claims 300 of
    its 930 bytes) makes git's `cat-file --batch` stop inside it while naming; every tree
    after it went unread, and a missing blob was named by its id alone. git is asked again
    from the tree after it, and for that tree alone (a lying copy of the holder itself, in a
    newer pack: git then reads the other copy). Past a few such trees, the rest go unnamed."""
    repo, trees, lost = _lost_in_docs(tmp_path / "repo")
    plants = {"loose": _trailing_loose_tree, "packed": _lying_packed_tree, "copy": _lying_copy}
    decoy = plants[planted](repo, trees)
    listed = repo.git(
        "cat-file", "--batch-all-objects", "--batch-check=%(objectname)", "--unordered"
    )
    if decoy != trees[0]:  # the very tree before the holder: a restart may skip no more
        between = [oid for oid in listed.split() if oid in trees or oid == decoy]
        assert between.index(trees[0]) == between.index(decoy) + 1, (between, decoy)
    result = _audit(repo.path, 2)
    assert f"docs/prod.env ({lost[:12]})" in [s.path for s in result.skipped]
    assert result.incomplete
    monkeypatch.setattr(naming, "_MOST_RESTARTS", 0)  # the holder, after the decoy: unread
    if planted != "copy":  # there, the tree asked for alone is the holder
        result = _audit(repo.path, 2)
        assert f"object {lost[:12]}" in [s.path for s in result.skipped]


def test_objects_git_cannot_list_hide_no_key(
    tmp_path: Path, rng: random.Random, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by a review (session 17): one planted loose file of an unknown type ("trea"), or
    one whose size overflows, made git's `cat-file --batch-all-objects` stop, in pack order and
    in id order, and the audit read nothing ("Scanned 0 files", the key not reported). The
    objects are now asked for one by one: each planted file is said unreadable, every key is
    found, and the audit is incomplete."""
    repo = Repo(tmp_path / "repo")
    for n in range(3):
        repo.write(f"k{n}.txt", f"TAVILY_API_KEY={keys.tavily_current(rng)}\n")
        repo.commit(f"key {n}")
    repo.git("gc", "-q")
    objects = repo.path / ".git" / "objects"
    planted = {"00" + "a" * 38: b"trea 5\0abcde", "00" + "b" * 38: b"trea 5\0abcde"}
    planted["7f" + "c" * 38] = b"blob 99999999999999999999\0abcde"  # two in a row, and one
    for oid, raw in planted.items():
        (objects / oid[:2]).mkdir(exist_ok=True)
        (objects / oid[:2] / oid[2:]).write_bytes(zlib.compress(raw))
    for in_process, readers in ((True, 2), (True, 1), (False, 2)):
        source = AuditSource(repo.path, readers=readers, in_process=in_process)
        result = run(source, prepare(repo.path), full_scan=True)
        assert sorted(f.path for f in result.findings) == ["k0.txt", "k1.txt", "k2.txt"]
        said = {s.blob_id for s in result.skipped if s.error}
        assert set(planted) <= said, result.skipped
        assert result.incomplete
    code, report = run_json("audit", ".", cwd=repo.path)
    assert code == 3 and len(report["findings"]) == 3
    assert any("each object is asked for in turn" in n for n in report["notices"]), report
    monkeypatch.setattr(listing, "_MOST_RESTARTS", 1)  # past that many, the listing stops
    result = run(AuditSource(repo.path, readers=2), prepare(repo.path), full_scan=True)
    [stopped] = [s for s in result.skipped if s.path == "(object store)"]
    assert "objects not read" in stopped.reason, stopped
    assert result.incomplete


@pytest.mark.parametrize("plant", ["file", "loop", "proc"])
def test_a_loose_objects_folder_git_cannot_open_is_refused(
    tmp_path: Path, rng: random.Random, plant: str
) -> None:
    """Found by a review (session 17): git stops listing loose objects at a fan-out folder
    it cannot open (a file named like one), says so on stderr only and exits 0; every loose
    object after it went unread, and the audit of a loose key passed (exit 0). A link loop
    there was an internal error. Both are refused, as a FIFO in the store is. So is a link
    through /proc/self/cwd to a file in the work tree: from another folder than the
    repository's, the check found nothing there while git met the file (exit 0 again)."""
    repo = Repo(tmp_path / "repo")
    key = keys.tavily_current(rng)
    while True:  # the key's blob in a folder with a free one before it
        repo.write("k.txt", f"TAVILY_API_KEY={key}\n")
        repo.commit("key")
        if repo.git("rev-parse", "HEAD:k.txt")[:2] > "10":
            break
        key = keys.tavily_current(rng)
    objects = repo.path / ".git" / "objects"
    fan = next(objects / f"{n:02x}" for n in range(16) if not (objects / f"{n:02x}").exists())
    if plant == "file":
        fan.write_bytes(b"x")
    elif plant == "loop":
        fan.symlink_to(fan.name)
    else:
        repo.write("zz", "x")
        fan.symlink_to("/proc/self/cwd/zz")
    code, text = _text_report(repo.path)  # run from this folder, not the repository's
    assert code == 2, text
    said = {"file": "cannot be opened as a folder", "loop": "goes through", "proc": "'/proc'"}
    assert said[plant] in text and key not in text


def test_an_error_git_says_while_listing_makes_the_audit_incomplete(
    tmp_path: Path, rng: random.Random, monkeypatch: pytest.MonkeyPatch
) -> None:
    """git says some failures of its listing only on stderr, and exits 0: at a loose objects'
    folder it cannot open, it stops listing loose objects (a key was hidden, exit 0). Such
    folders are refused up front (see above); past that check, the "error:" line itself
    makes the audit incomplete, and whatever git did list is still read."""
    repo = Repo(tmp_path / "repo")
    repo.write("packed.txt", f"TAVILY_API_KEY={keys.tavily_current(rng)}\n")
    repo.commit("packed")
    repo.git("gc", "-q")
    monkeypatch.setattr(hardening, "check_objects", lambda *_, **__: None)
    (repo.path / ".git" / "objects" / "00").write_bytes(b"x")
    for n in range(1000):  # git says each is too small, after: more than its last words
        for suffix in (".idx", ".pack"):
            (repo.path / ".git" / "objects" / "pack" / f"pack-{n:040x}{suffix}").write_bytes(b"x")
    result = run(AuditSource(repo.path, readers=2), prepare(repo.path), full_scan=True)
    assert [f.path for f in result.findings] == ["packed.txt"]
    said = [s.reason for s in result.skipped if s.path == "(object store)"]
    assert said and "unable to open" in said[0], result.skipped
    assert result.incomplete


def test_a_pack_index_out_of_step_with_the_multi_pack_index_hides_no_key(
    tmp_path: Path, rng: random.Random
) -> None:
    """Found by a review (session 17): git 2.39 lists packed objects from each pack's own
    index and looks them up through the multi-pack-index. A pack index rewritten to name the
    key's blob by another object's id (sorted, counted and summed again), beside a
    multi-pack-index that still maps it, left the blob out of the listing while `git show`
    read the key: the audit passed, exit 0. Now git reads without the multi-pack-index: the
    key is found through history or its blob is said missing, never exit 0."""
    repo = Repo(tmp_path / "repo")
    repo.write("a.txt", "hello\n")
    repo.commit("one")
    repo.write("secret.env", f"TAVILY_API_KEY={keys.tavily_current(rng)}\n")
    repo.commit("two")
    repo.git("gc", "-q")
    repo.git("multi-pack-index", "write")
    blob, other = repo.git("rev-parse", "HEAD:secret.env", "HEAD:a.txt").split()
    [index] = (repo.path / ".git" / "objects" / "pack").glob("*.idx")
    _rename_in_index(index, bytes.fromhex(blob), bytes.fromhex(other))
    assert blob not in repo.git("cat-file", "--batch-all-objects", "--batch-check=%(objectname)")
    assert "TAVILY_API_KEY" in repo.git("-c", "core.multiPackIndex=true", "show", "HEAD:secret.env")
    code, report = run_json("audit", ".", cwd=repo.path)
    assert code in (1, 3), report
    assert code == 3 or [f["path"] for f in report["findings"]] == ["secret.env"], report


def test_a_truncated_pack_index_beside_a_multi_pack_index_is_no_internal_error(
    tmp_path: Path,
) -> None:
    """Found by a review (session 17): a version 2 pack index cut inside its fan-out table
    made the check for ids with two copies fail (`struct.error`), an internal error."""
    repo = Repo(tmp_path / "repo")
    repo.write("a.txt", "hello\n")
    repo.commit("one")
    repo.git("gc", "-q")
    repo.git("multi-pack-index", "write")
    [index] = (repo.path / ".git" / "objects" / "pack").glob("*.idx")
    index.chmod(0o644)
    index.write_bytes(index.read_bytes()[:500])
    code, text = _text_report(repo.path)
    assert code == 3 and "internal error" not in text, text


def _rename_in_index(index: Path, old: bytes, new: bytes) -> None:
    """Rewrite a version 2 pack index so that ``old``'s entry is named ``new``."""
    data = index.read_bytes()
    assert data[:8] == b"\377tOc\0\0\0\2"
    count = int.from_bytes(data[8 + 1020 : 8 + 1024], "big")
    ids_at, crcs_at = 8 + 1024, 8 + 1024 + 20 * count
    offsets_at, rest_at = crcs_at + 4 * count, crcs_at + 8 * count
    ids = [data[ids_at + 20 * n : ids_at + 20 * n + 20] for n in range(count)]
    crcs = [data[crcs_at + 4 * n : crcs_at + 4 * n + 4] for n in range(count)]
    offsets = [data[offsets_at + 4 * n : offsets_at + 4 * n + 4] for n in range(count)]
    entries = sorted(zip([new if oid == old else oid for oid in ids], crcs, offsets, strict=True))
    fanout = [sum(1 for oid, _, _ in entries if oid[0] <= n) for n in range(256)]
    body = b"".join(
        [
            data[:8],
            b"".join(n.to_bytes(4, "big") for n in fanout),
            *(oid for oid, _, _ in entries),
            *(crc for _, crc, _ in entries),
            *(offset for _, _, offset in entries),
            data[rest_at:-20],
        ]
    )
    index.chmod(0o644)
    index.write_bytes(body + hashlib.sha1(body).digest())  # noqa: S324 - git's checksum


def _lost_in_docs(path: Path) -> tuple[Repo, list[str], str]:
    """A repository whose `docs/prod.env` blob is missing: it, the ids of the tree holding
    the blob and of the root tree, and the blob's id."""
    repo = Repo(path)
    repo.write("docs/prod.env", "lost\n")
    repo.commit("one")
    trees = repo.git("rev-parse", "HEAD:docs", "HEAD^{tree}").split()
    lost = repo.git("rev-parse", "HEAD:docs/prod.env").strip()
    (repo.path / ".git" / "objects" / lost[:2] / lost[2:]).unlink()
    return repo, trees, lost


def _lying_packed_tree(repo: Repo, trees: list[str]) -> str:
    """A tree of 930 bytes whose pack header says 300, packed before ``trees`` (and their
    commit), which the pack then holds instead of loose copies."""
    entries = "".join(f"100644 blob {'e' * 40}\tf{n:02d}\n" for n in range(30))
    decoy = repo.git("mktree", "--missing", stdin=entries.encode()).strip()
    _pack(repo, [decoy, *trees, repo.git("rev-parse", "HEAD").strip()], decoy, 300)
    return decoy


def _lying_copy(repo: Repo, trees: list[str]) -> str:
    """``trees`` and their commit packed, and a second copy of the first in a newer pack (git
    reads it first), whose header claims 20 of its 36 bytes."""
    _pack(repo, [*trees, repo.git("rev-parse", "HEAD").strip()])
    newer = _pack(repo, trees[:1], trees[0], 20)
    for path in newer.parent.glob(f"{newer.stem}.*"):
        os.utime(path, (path.stat().st_mtime + 100,) * 2)
    return trees[0]


def _pack(repo: Repo, ids: list[str], liar: str = "", claim: int = 0) -> Path:
    """A pack of ``ids``, their loose copies gone; ``liar``'s header then claims ``claim``
    bytes (16 to 2047, as its true size)."""
    objects = repo.path / ".git" / "objects"
    name = repo.git(
        "pack-objects", "-q", str(objects / "pack" / "pack"), stdin="\n".join(ids).encode()
    )
    for oid in ids:
        (objects / oid[:2] / oid[2:]).unlink(missing_ok=True)
    pack = objects / "pack" / f"pack-{name.strip()}.pack"
    if liar:
        index = repo.git("show-index", stdin=pack.with_suffix(".idx").read_bytes())
        offset = next(int(line.split()[0]) for line in index.splitlines() if liar in line)
        data = bytearray(pack.read_bytes())
        assert data[offset] & 0x80 and not data[offset + 1] & 0x80  # a size of two bytes
        data[offset], data[offset + 1] = (data[offset] & 0xF0) | (claim & 15), claim >> 4
        pack.write_bytes(bytes(data))
    return pack


def _trailing_loose_tree(repo: Repo, trees: list[str]) -> str:
    """A loose tree with bytes after its zlib stream, listed right before the holder among
    the trees (git lists loose objects in the order of their ids)."""
    holder, root = trees
    low = root if root < holder else ""
    n = 0
    while not low < (oid := hashlib.sha1(b"tree 5\0abcd%d" % n).hexdigest()) < holder:  # noqa: S324
        n += 1
    folder = repo.path / ".git" / "objects" / oid[:2]
    folder.mkdir(exist_ok=True)
    (folder / oid[2:]).write_bytes(zlib.compress(b"tree 5\0abcd%d" % n) + b"junk")
    return oid


def _hinted(path: Path) -> tuple[int, int] | None:
    """How many ids of the audit's plan the listing placed in the store's only pack, and how
    many of those places are not the index's own (None: the listing placed none)."""
    from sgai_guard.sources.audit import AuditScan
    from sgai_guard.sources.repo import open_repository

    scan = AuditScan(open_repository(path), readers=2)
    scan.check()
    plan = scan.plan()
    try:
        if plan.offsets is None:
            return None
        assert scan._store is not None
        [pack] = scan._store.packs
        placed = wrong = 0
        for run, offsets in zip(plan.runs, plan.offsets, strict=True):
            ids = run.splitlines()
            assert len(ids) == len(offsets)
            for oid, offset in zip(ids, offsets, strict=True):
                position = pack.find(bytes.fromhex(oid.decode()))
                placed += offset != 0
                wrong += offset != (pack.offsets[position] if position is not None else 0)
        return placed, wrong
    finally:
        scan.close()


def test_the_listing_places_each_object_of_the_only_pack(
    tmp_path: Path, rng: random.Random
) -> None:
    """The listing's packed sizes add up to each object's offset (listing.Hints), so the
    readers need no index by offset: every place is the index's own, loose objects (listed
    first) have none; and none is given where the sizes could not add up honestly."""
    repo = _history(tmp_path / "repo", rng)
    repo.git("repack", "-adf", "--depth=50", "--window=50")
    count = int(repo.git("count-objects", "-v").split("in-pack: ")[1].split()[0])
    listed = repo.git("cat-file", "--batch-all-objects", "--batch-check=%(objecttype)")
    trees = listed.split().count("tree")  # all packed: no loose object yet
    for n in range(3):
        repo.write(f"conf/late{n}.env", f"SGAI_API_KEY={keys.sgai_uuid(rng)}\n")
        repo.commit(f"late {n}")
    hinted = _hinted(repo.path)
    assert hinted is not None
    placed, wrong = hinted
    assert wrong == 0 and placed == count - trees, (placed, count, trees)
    # a loose copy of a packed object: git lists one copy, so the sizes no longer add up
    blob = repo.git("rev-parse", "HEAD~5:src/m0/f1.py").strip()
    data = repo.git("cat-file", "blob", blob).encode()
    loose = repo.path / ".git" / "objects" / blob[:2] / blob[2:]
    loose.parent.mkdir(exist_ok=True)
    loose.write_bytes(zlib.compress(b"blob %d\0" % len(data) + data))
    assert _hinted(repo.path) is None
    loose.unlink()
    # a reverse index (git 2.41 and later write one): git takes its order from there, so
    # the places are given only once it is checked to give the pack's own order
    repo.git("-c", "pack.writeReverseIndex=true", "repack", "-adf")
    [rev] = (repo.path / ".git" / "objects" / "pack").glob("*.rev")
    kinds = repo.git("cat-file", "--batch-all-objects", "--batch-check=%(objecttype)").split()
    assert _hinted(repo.path) == (len(kinds) - kinds.count("tree"), 0)
    raw = rev.read_bytes()  # two objects swapped in it: git would list them so
    swapped = raw[:12] + raw[16:20] + raw[12:16] + raw[20:]
    rev.chmod(0o644)
    rev.write_bytes(swapped)
    assert _hinted(repo.path) is None
    rev.unlink()
    # two packs: which comes first is git's choice
    repo.git("-c", "pack.writeReverseIndex=false", "repack", "-adf")
    repo.write("conf/later.env", "x\n")
    repo.commit("later")
    repo.git("repack", "-dq")
    assert len(list((repo.path / ".git" / "objects" / "pack").glob("*.pack"))) == 2
    assert _hinted(repo.path) is None


def test_a_fork_that_fails_stops_the_workers_started_before_it(
    tmp_path: Path, rng: random.Random, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by the review of the pieces: a fork failing after the first worker started
    left that worker running, unwaited for, on a pipe no one read."""
    repo = Repo(tmp_path / "repo")
    for n in range(30):
        repo.write(f"f{n}.txt", f"k={keys.tavily_current(rng)}\n" * 50)
    repo.commit("keys")
    plan = listing.plan(open_repository(repo.path), None, 2, listing.IN_PROCESS)
    started: list[int] = []
    real_fork = os.fork

    def fork() -> int:
        if started:
            raise OSError("no more processes")
        pid = real_fork()
        if pid:
            started.append(pid)
        return pid

    monkeypatch.setattr(reading.os, "fork", fork)
    with pytest.raises(OSError, match="no more processes"):
        _read(repo.path, plan, 2)
    assert len(started) == 1
    with pytest.raises(ChildProcessError):
        os.waitpid(started[0], os.WNOHANG)  # stopped and waited for: no such child left


@pytest.mark.parametrize("readers", [1, 2])
def test_a_planted_huge_commit_read_through_git_hides_nothing_after_it(
    tmp_path: Path, rng: random.Random, readers: int
) -> None:
    """Found by the review of a listing without sizes (session 17, reverted): with the store
    read through git (a multi-pack-index), a loose commit claiming 10^12 bytes made git's
    `cat-file --batch` die allocating it, and every key after it went unread (0 of 3
    findings). The listing's sizes keep it from git: it is said too large, the rest is read."""
    repo = Repo(tmp_path / "repo")
    for n in range(3):
        repo.write(f"k{n}.txt", f"TAVILY_API_KEY={keys.tavily_current(rng)}\n")
        repo.commit(f"key {n}")
    repo.git("gc", "-q")
    repo.git("multi-pack-index", "write")
    raw = b"commit 999999999999\0short"
    oid = hashlib.sha1(raw).hexdigest()  # noqa: S324 - git's object id
    folder = repo.path / ".git" / "objects" / oid[:2]
    folder.mkdir(exist_ok=True)
    (folder / oid[2:]).write_bytes(zlib.compress(raw))
    for in_process in (True, False):
        source = AuditSource(repo.path, readers=readers, in_process=in_process)
        result = run(source, prepare(repo.path), full_scan=True)
        assert sorted(f.path for f in result.findings) == ["k0.txt", "k1.txt", "k2.txt"]
        said = [s for s in result.skipped if s.blob_id == oid]
        assert len(said) == 1 and "larger than" in said[0].reason, result.skipped
        assert result.incomplete
