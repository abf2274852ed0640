"""Naming from the store's only pack (sources.treescan): the trees that may hold an object the
audit could not read are told from the pack's own entries, without applying a delta, and
only those are read whole. Whatever the pack's deltas (on an offset, on an id), the names are
the ones a read of every tree gives; a pack that is not what the listing says makes it say
nothing, and every tree is read as before."""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import threading
import types
import zlib
from array import array
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sgai_guard.engine.audit import AuditSource
from sgai_guard.entry import main
from sgai_guard.models import Skipped
from sgai_guard.sources import (
    gitargs,
    listing,
    naming,
    packread,
    storeplan,
    treescan,
    walkend,
)
from sgai_guard.sources.audit import AuditScan
from sgai_guard.sources.repo import open_repository
from sgai_guard.sources.walk import Walk
from tests import keys
from tests.cli_helpers import run_json
from tests.gitrepo import Repo, git_env
from tests.packs import distance, entry_header, insert, varint


def _history(path: Path, rng: random.Random) -> tuple[Repo, dict[str, set[str]]]:
    """A history whose lost blobs sit in trees that change often: a file kept in a busy
    folder (dozens of versions of it hold the blob, most of them deltas on another), then
    the folder renamed; a file copied to ten folders; a file at the root. The blobs are left
    out of the pack. Returns what each is named."""
    repo = Repo(path)
    repo.write("busy/lost.txt", "kept while the folder changes\n")
    repo.write("top.txt", "at the root\n")
    for n in range(40):
        repo.write(f"busy/f{n % 7}.py", f"x = {rng.random()}\n")
        repo.write(f"other/g{n % 5}.py", f"y = {rng.random()}\n")
        if n == 25:
            repo.git("mv", "busy", "renamed")
            repo.write("busy/f0.py", "back\n")  # a new folder by the old name
        if n == 30:
            for m in range(10):
                repo.write(f"copies/c{m}/same.txt", "in ten folders\n")
                repo.write(f"copies/c{m}/own.txt", f"{m}\n")  # ten trees, not one
        repo.commit(f"change {n}")
    expected = {
        _blob(repo, "HEAD:renamed/lost.txt"): {"busy/lost.txt", "renamed/lost.txt"},
        _blob(repo, "HEAD:copies/c0/same.txt"): {f"copies/c{m}/same.txt" for m in range(10)},
        _blob(repo, "HEAD:top.txt"): {"top.txt"},
    }
    for oid in expected:
        (repo.path / ".git" / "objects" / oid[:2] / oid[2:]).unlink()
    return repo, expected


def _blob(repo: Repo, rev: str) -> str:
    return repo.git("rev-parse", rev).strip()


def _pack(repo: Repo, *, offsets: bool, rev: bool = False) -> None:
    """Everything in one pack, written afresh (deltas chosen anew), without the lost blobs,
    with a reverse index or without: the store the audit reads in-process with the
    listing's hints (listing.Hints)."""
    base = repo.path / ".git" / "objects" / "pack" / "pack"
    args = ["--all", "--revs", "--missing=allow-any", "--no-reuse-delta", "-q", str(base)]
    repo.git(
        "-c",
        f"pack.writeReverseIndex={str(rev).lower()}",
        "pack-objects",
        *(["--delta-base-offset"] if offsets else []),
        *args,
        stdin=b"",
    )
    repo.git("prune-packed")


def _planned(repo: Repo) -> tuple[listing.Plan, packread.Store]:
    opened = open_repository(repo.path)
    store = packread.open_store(str(repo.path / ".git" / "objects"))
    assert store is not None
    plan = listing.plan(opened, None, 2, listing.IN_PROCESS, hints=storeplan._hints(store))
    return plan, store


def _names(repo: Repo, oids: set[str], packed: bool) -> dict[str, set[str]]:
    plan, store = _planned(repo)
    walk = Walk(open_repository(repo.path), [])
    try:
        assert set(walk.finish().missing) == oids
        assert plan.tree_places is not None
        where = treescan.Packed(store.packs[0].fd, *plan.tree_places) if packed else None
        return naming.paths_of(
            str(repo.path), walk, plan.trees, plan.tree_records, oids, packed=where
        )
    finally:
        walk.close()
        store.close()


@pytest.mark.parametrize("offsets", [True, False], ids=["ofs-deltas", "ref-deltas"])
def test_names_from_the_pack_are_those_every_tree_gives(
    tmp_path: Path, rng: random.Random, monkeypatch: pytest.MonkeyPatch, offsets: bool
) -> None:
    repo, expected = _history(tmp_path / "repo", rng)
    _pack(repo, offsets=offsets)
    assert _names(repo, set(expected), packed=False) == expected  # every tree read

    def every_tree(*_: object) -> None:
        raise AssertionError("the pack named nothing: every tree was read")

    monkeypatch.setattr(naming, "_holding_trees", every_tree)
    assert _names(repo, set(expected), packed=True) == expected
    plan, store = _planned(repo)
    try:
        assert plan.tree_places is not None
        packed = treescan.Packed(store.packs[0].fd, *plan.tree_places)
        ids = {bytes.fromhex(oid): oid for oid in expected}
        near = treescan.candidates(packed, plan.trees, list(ids), lambda: False)
        assert near is not None
        every = dict(naming._entries(str(repo.path), plan.trees, ids, 20, lambda: False))
        assert {plan.trees[n].strip() for n in near} >= set(every)  # every tree holding one
        others = set(repo.git("log", "--all", "--format=%H:other", "--", "other").split())
        unrelated = {repo.git("rev-parse", rev).strip().encode() for rev in others}
        assert len(unrelated) > 20
        assert not unrelated & {plan.trees[n].strip() for n in near}  # none holding none
    finally:
        store.close()


@pytest.mark.parametrize("rev", [False, True], ids=["no-rev", "rev"])
def test_the_audit_names_what_a_packed_store_lacks(
    tmp_path: Path, rng: random.Random, monkeypatch: pytest.MonkeyPatch, rev: bool
) -> None:
    """End to end, in this process: the audit tells naming where the trees are in its pack,
    and naming never reads every tree; a pack with a reverse index (git 2.41 and later
    write one) too."""
    repo, expected = _history(tmp_path / "repo", rng)
    _pack(repo, offsets=True, rev=rev)
    assert bool(list((repo.path / ".git" / "objects" / "pack").glob("*.rev"))) == rev
    code, report = run_json("audit", ".", cwd=repo.path)  # its own process, as users run it
    assert code == 3, report
    named = sorted(error["path"] for error in report["errors"])
    assert named == sorted(f"{', '.join(sorted(p))} ({oid[:12]})" for oid, p in expected.items())

    def every_tree(*_: object) -> None:
        raise AssertionError("the pack named nothing: every tree was read")

    monkeypatch.setattr(naming, "_holding_trees", every_tree)
    out = tmp_path / "report.json"
    args = ["audit", str(repo.path), "--format", "json", "-o", str(out), "--progress", "never"]
    assert main(args) == 3
    assert json.loads(out.read_text())["errors"] == report["errors"]


def test_a_complete_store_works_out_no_tree_records(
    tmp_path: Path, rng: random.Random, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nothing is missing: the lengths of the trees' answers (read only to name what is) are
    never worked out (0.12-0.28 CPU-s on sympy), and the audit finds what it finds."""
    repo = Repo(tmp_path / "repo")
    repo.write("app/.env", f"TAVILY_API_KEY={keys.tavily_current(rng)}\n")
    repo.commit("a key")
    _pack(repo, offsets=True)

    worked_out: list[int] = []
    real = listing.Plan.tree_records

    def records(plan: listing.Plan) -> array[int]:
        worked_out.append(len(plan.trees))  # on the walk end's thread: an error there is kept
        return real.__get__(plan)

    monkeypatch.setattr(listing.Plan, "tree_records", property(records))
    out = tmp_path / "report.json"
    args = ["audit", str(repo.path), "--format", "json", "-o", str(out), "--progress", "never"]
    assert main(args) == 1
    report = json.loads(out.read_text())
    assert [f["path"] for f in report["findings"]] == ["app/.env"] and not report["errors"]
    assert worked_out == []


def _raw(repo: Repo, *args: str, stdin: bytes = b"") -> bytes:
    """git's output as bytes (a pack)."""
    proc = subprocess.run(
        ["git", *args], cwd=repo.path, env=git_env(), input=stdin, capture_output=True, check=True
    )
    return proc.stdout


def _late_bases(repo: Repo) -> int:
    """How many entries of the repository's only pack are deltas on a base placed after
    them (`git verify-pack -v`: id, type, size, packed size, offset[, depth, base id])."""
    (idx,) = (repo.path / ".git" / "objects" / "pack").glob("*.idx")
    rows = [line.split() for line in repo.git("verify-pack", "-v", str(idx)).splitlines()]
    offsets = {row[0]: int(row[4]) for row in rows if len(row) >= 5 and row[4].isdigit()}
    return sum(1 for row in rows if len(row) == 7 and offsets[row[6]] > offsets[row[0]])


def test_a_thin_pack_completed_by_index_pack_names_every_path(
    tmp_path: Path, rng: random.Random, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The old history arrived loose, the new one as a thin pack that index-pack completed
    by adding the bases its deltas need after them (found by a review: one of two paths of
    a missing blob was left out of its label). The pack then tells nothing."""
    source = Repo(tmp_path / "src")
    files = {"lost.txt": "lost in both folders\n"} | {
        f"f{n}.txt": f"file {n} {rng.random()}\n" for n in range(20)
    }
    for folder in ("lib", "aaa"):  # one tree, the walk names it aaa: lib is named by the new
        for name, text in files.items():
            source.write(f"{folder}/{name}", text)
    old = source.commit("old")
    source.write("lib/f3.txt", "changed\n")
    new = source.commit("new")
    repo = Repo(tmp_path / "repo")
    repo.git(
        "unpack-objects",
        "-q",
        stdin=_raw(source, "pack-objects", "--revs", "--stdout", "-q", stdin=f"{old}\n".encode()),
    )
    thin = _raw(
        source,
        "-c",
        "pack.useSparse=false",
        "pack-objects",
        "--revs",
        "--thin",
        "--stdout",
        "-q",
        stdin=f"{new}\n^{old}\n".encode(),
    )
    repo.git(
        "-c", "pack.writeReverseIndex=false", "index-pack", "--fix-thin", "--stdin", stdin=thin
    )
    repo.git("update-ref", "refs/heads/main", new)
    repo.git("prune-packed")
    lost = _blob(repo, f"{old}:lib/lost.txt")
    (repo.path / ".git" / "objects" / lost[:2] / lost[2:]).unlink()
    assert _late_bases(repo) > 0
    expected = {lost: {"aaa/lost.txt", "lib/lost.txt"}}
    assert _names(repo, {lost}, packed=False) == expected
    assert _names(repo, {lost}, packed=True) == expected


def test_an_id_git_adds_with_its_ends_copied_is_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """git's delta encoder copies an id's first and last bytes from the base where they are
    the same there (found by a review: the delta then held neither half of the id, and one
    of its two paths was left out of its label). Made on purpose: a new version of a file
    whose id starts and ends with the old one's bytes."""
    repo = Repo(tmp_path / "repo")
    old = b"old version of lost\n"
    old_id = _blob_id(old)
    new = next(
        data
        for n in range(1 << 22)
        if (made := _blob_id(data := b"lost %d\n" % n))[0] == old_id[0] and made[-1] == old_id[-1]
    )
    for n in range(20):
        repo.write(f"a/f{n:02d}.txt", f"file {n}\n")
    repo.write("a/lost.txt", old)
    repo.write("a/zz.txt", "after lost, the same in both\n" * 3)
    repo.commit("first")
    repo.write("a/lost.txt", new)
    (repo.path / "a" / "f00.txt").unlink()  # the new folder is smaller: made on the old one
    repo.write("copy/lost.txt", new)
    repo.write("copy/own.txt", "own\n")
    repo.add()
    repo.commit("second")
    lost = _blob_id(new).hex()
    (repo.path / ".git" / "objects" / lost[:2] / lost[2:]).unlink()
    _pack(repo, offsets=True)
    entry, at = _pack_entry(repo, repo.git("rev-parse", "HEAD:a").strip())
    base, added = treescan._entry(entry, 0, len(entry), at)  # what the folder's delta adds
    assert isinstance(base, int), "the new folder is a delta on the old one"
    raw = bytes.fromhex(lost)
    assert raw[:10] not in added and raw[10:] not in added and raw[1:19] in added
    expected = {lost: {"a/lost.txt", "copy/lost.txt"}}
    assert _names(repo, {lost}, packed=False) == expected

    def every_tree(*_: object) -> None:
        raise AssertionError("the pack named nothing: every tree was read")

    monkeypatch.setattr(naming, "_holding_trees", every_tree)
    assert _names(repo, {lost}, packed=True) == expected


def _pack_entry(repo: Repo, oid: str) -> tuple[bytes, int]:
    """The bytes of ``oid``'s entry in the repository's only pack, and where it is."""
    (idx,) = (repo.path / ".git" / "objects" / "pack").glob("*.idx")
    rows = [line.split() for line in repo.git("verify-pack", "-v", str(idx)).splitlines()]
    (row,) = [row for row in rows if row and row[0] == oid]
    at, disk = int(row[4]), int(row[3])
    return idx.with_suffix(".pack").read_bytes()[at : at + disk], at


def _blob_id(data: bytes) -> bytes:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).digest()  # noqa: S324 - git's ids


def test_the_listing_tells_where_each_tree_is_in_the_pack(
    tmp_path: Path, rng: random.Random
) -> None:
    repo, _ = _history(tmp_path / "repo", rng)
    _pack(repo, offsets=True)
    kept = _blob(repo, "HEAD:other/g0.py")
    repo.git("mktree", stdin=f"100644 blob {kept}\tloose.txt\n".encode())  # before the pack
    plan, store = _planned(repo)
    store.close()
    assert plan.tree_places is not None
    at, disk = plan.tree_places
    (idx,) = (repo.path / ".git" / "objects" / "pack").glob("*.idx")
    shown = subprocess.run(
        ["git", "show-index"], input=idx.read_bytes(), capture_output=True, check=True
    ).stdout.decode()
    offsets = {line.split()[1]: int(line.split()[0]) for line in shown.splitlines()}
    listed = repo.git(
        "cat-file", "--batch-all-objects", "--batch-check=%(objectname) %(objectsize:disk)"
    )
    sizes = dict(line.split() for line in listed.splitlines())
    trees = [line.strip().decode() for line in plan.trees]
    assert [offsets.get(oid, 0) for oid in trees] == list(at)
    assert [int(sizes[oid]) if oid in offsets else 0 for oid in trees] == list(disk)
    assert 0 in at and len(set(at)) > 100


def _copy(offset: int, size: int) -> bytes:
    """A delta's instruction copying ``size`` bytes of its base from ``offset`` (both < 256)."""
    return bytes([0x91, offset, size])


def _delta(source: int, instructions: tuple[bytes, ...]) -> bytes:
    """A delta on a base of ``source`` bytes: its header, then its instructions."""
    made = sum(ins[0] if ins[0] < 0x80 else ins[2] for ins in instructions if ins)
    return varint(source) + varint(made) + b"".join(instructions)


class _HandPack:
    """A pack of trees made by hand, entry by entry, and where each entry is: a tree listed
    with no place (0) is a loose one."""

    def __init__(self) -> None:
        self.data, self.at, self.disk, self.sizes = bytearray(b"PACK\0\0\0\2\0\0\0\0"), [], [], []

    def loose(self) -> None:
        self.at.append(0)
        self.disk.append(0)
        self.sizes.append(0)

    def whole(self, tree: bytes) -> int:
        return self._add(2, tree, b"")

    def on_offset(self, base: int, *instructions: bytes) -> int:
        source = self.sizes[self.at.index(base)]
        return self._add(6, _delta(source, instructions), distance(len(self.data) - base))

    def on_id(self, base_id: bytes, source: int, *instructions: bytes) -> int:
        return self._add(7, _delta(source, instructions), base_id)

    def _add(self, kind: int, data: bytes, base: bytes) -> int:
        entry = entry_header(kind, len(data)) + base + zlib.compress(data)
        self.at.append(len(self.data))
        self.disk.append(len(entry))
        self.sizes.append(len(data))
        self.data.extend(entry)
        return self.at[-1]

    def candidates(self, path: Path, ids: list[bytes], wanted: list[bytes]) -> list[int] | None:
        path.write_bytes(bytes(self.data))
        fd = os.open(path, os.O_RDONLY)
        trees = [oid.hex().encode() + b"\n" for oid in ids]
        packed = treescan.Packed(fd, array("q", self.at), array("q", self.disk))
        default = treescan._MOST_IN_BLOCK
        try:
            found = treescan.candidates(packed, trees, wanted, lambda: False)
            for most in (1, 2):  # blocks of one and two entries: the same candidates
                treescan._MOST_IN_BLOCK = most
                assert treescan.candidates(packed, trees, wanted, lambda: False) == found
            return found
        finally:
            treescan._MOST_IN_BLOCK = default
            os.close(fd)


def test_the_trees_whose_entries_hold_an_id_and_the_deltas_on_them_are_found(
    tmp_path: Path,
) -> None:
    """A whole tree holding the id, a delta adding it, a delta on each (which may copy it),
    a delta on a tree that does not hold it, and a loose tree (always read)."""
    rng = random.Random(7)
    wanted, other = rng.randbytes(20), rng.randbytes(20)
    ids = [rng.randbytes(20) for _ in range(7)]
    pack = _HandPack()
    pack.loose()  # ids[0]
    plain = pack.whole(b"100644 a\0" + other)  # ids[1]
    adds = pack.on_id(ids[1], 29, insert(b"100644 b\0" + wanted))  # ids[2]
    pack.on_offset(adds, _copy(0, 20))  # ids[3]: made on ids[2]
    pack.whole(b"40000 d\0" + wanted)  # ids[4]
    pack.on_id(ids[4], 28, _copy(0, 20))  # ids[5]
    pack.on_offset(plain, _copy(0, 20))  # ids[6]: on a tree without it
    assert pack.candidates(tmp_path / "p", ids, [wanted]) == [0, 2, 3, 4, 5]
    # ids[2] and ids[6] are made on ids[1], which holds ``other`` whole: they may copy it
    assert pack.candidates(tmp_path / "p", ids, [other]) == [0, 1, 2, 3, 6]


@pytest.mark.parametrize("first", range(5))
@pytest.mark.parametrize("last", range(5))
def test_an_id_git_adds_in_pieces_is_found_wherever_it_is_cut(
    tmp_path: Path, first: int, last: int
) -> None:
    """git's delta encoder copies up to a few bytes at either end of an id from the base
    (where they match it there), and adds the rest in runs of at most 127 bytes: an
    instruction byte may cut what it adds anywhere (found by a review: a pack git wrote
    held neither half of an id)."""
    rng = random.Random(first * 3 + last)
    wanted, ids = rng.randbytes(20), [rng.randbytes(20) for _ in range(2)]
    for cut in range(first, 21 - last):
        pack = _HandPack()
        base = pack.whole(b"100644 x\0" + rng.randbytes(20))
        head = _copy(9, first) if first else b""
        tail = _copy(9 + 20 - last, last) if last else b""
        added = [piece for piece in (wanted[first:cut], wanted[cut : 20 - last]) if piece]
        pack.on_offset(base, insert(b"100644 y\0"), head, *map(insert, added), tail)
        assert pack.candidates(tmp_path / "p", ids, [wanted]) == [1], cut


def test_a_delta_before_its_base_makes_the_pack_say_nothing(tmp_path: Path) -> None:
    """index-pack completes a thin pack by adding the bases after the deltas made on them:
    one pass in pack order would leave those deltas out (found by a review: a path was
    missing from a label); every tree is then read."""
    rng = random.Random(3)
    wanted, ids = rng.randbytes(20), [rng.randbytes(20) for _ in range(3)]
    pack = _HandPack()
    pack.whole(b"100644 a\0" + rng.randbytes(20))  # ids[0]
    pack.on_id(ids[2], 29, _copy(0, 20))  # ids[1]: on ids[2], after it
    pack.whole(b"100644 b\0" + wanted)  # ids[2]
    assert pack.candidates(tmp_path / "p", ids, [wanted]) is None
    assert pack.candidates(tmp_path / "p", ids, [rng.randbytes(20)]) == []


def test_an_entry_that_is_not_what_it_says_makes_the_pack_say_nothing(tmp_path: Path) -> None:
    rng = random.Random(5)
    wanted, ids = rng.randbytes(20), [rng.randbytes(20) for _ in range(2)]
    pack = _HandPack()
    pack.whole(b"100644 a\0" + wanted)
    pack.whole(b"100644 b\0" + rng.randbytes(20))
    assert pack.candidates(tmp_path / "p", ids, [wanted]) == [0]
    for wrong in (
        entry_header(2, 30) + zlib.compress(b"100644 b\0" + bytes(20)),  # one byte short of it
        entry_header(2, 28) + zlib.compress(b"100644 b\0" + bytes(20)),  # one byte more
        entry_header(3, 29) + zlib.compress(b"100644 b\0" + bytes(20)),  # a blob
        entry_header(2, 29) + zlib.compress(b"100644 b\0" + bytes(20))[:-3],  # cut
    ):
        pack.data[pack.at[1] :] = wrong
        pack.disk[1] = len(wrong)
        assert pack.candidates(tmp_path / "p", ids, [wanted]) is None, wrong
    shifted = _HandPack()
    shifted.data, shifted.at, shifted.disk = pack.data, [pack.at[0] + 1, pack.at[1]], pack.disk
    assert shifted.candidates(tmp_path / "p", ids, [wanted]) is None
    abandoned = pack
    abandoned.data[abandoned.at[1] :] = entry_header(2, 29) + zlib.compress(
        b"100644 b\0" + bytes(20)
    )
    abandoned.disk[1] = len(abandoned.data) - abandoned.at[1]
    (tmp_path / "p").write_bytes(bytes(abandoned.data))
    fd = os.open(tmp_path / "p", os.O_RDONLY)
    try:
        packed = treescan.Packed(fd, array("q", abandoned.at), array("q", abandoned.disk))
        trees = [oid.hex().encode() + b"\n" for oid in ids]
        assert treescan.candidates(packed, trees, [wanted], lambda: False) == [0]
        assert treescan.candidates(packed, trees, [wanted], lambda: True) is None
    finally:
        os.close(fd)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    data=st.binary(min_size=12, max_size=600),
    places=st.lists(st.tuples(st.integers(0, 700), st.integers(-2, 700)), max_size=8),
    wanted=st.binary(min_size=20, max_size=20),
)
def test_a_pack_of_any_bytes_names_a_subset_or_nothing(
    tmp_path: Path, data: bytes, places: list[tuple[int, int]], wanted: bytes
) -> None:
    path = tmp_path / "fuzzed.pack"
    path.write_bytes(data)
    fd = os.open(path, os.O_RDONLY)
    try:
        at = array("q", (where for where, _ in places))
        disk = array("q", (length for _, length in places))
        trees = [b"%040x\n" % n for n in range(len(places))]
        near = treescan.candidates(treescan.Packed(fd, at, disk), trees, [wanted], lambda: False)
        assert near is None or (near == sorted(set(near)) and set(near) <= set(range(len(at))))
    finally:
        os.close(fd)


def test_a_pack_that_is_not_what_the_listing_says_still_names(
    tmp_path: Path, rng: random.Random
) -> None:
    """Places one byte off (a pack rewritten after the listing, say): the pack tells
    nothing, and every tree is read, as before."""
    repo, expected = _history(tmp_path / "repo", rng)
    _pack(repo, offsets=True)
    plan, store = _planned(repo)
    walk = Walk(open_repository(repo.path), [])
    try:
        walk.finish()
        assert plan.tree_places is not None
        at, disk = plan.tree_places
        off = treescan.Packed(store.packs[0].fd, array("q", (a + 1 if a else 0 for a in at)), disk)
        ids = [bytes.fromhex(oid) for oid in expected]
        assert treescan.candidates(off, plan.trees, ids, lambda: False) is None
        named = naming.paths_of(
            str(repo.path), walk, plan.trees, plan.tree_records, set(expected), packed=off
        )
        assert named == expected
    finally:
        walk.close()
        store.close()


def test_an_audit_leaves_no_descriptor_or_thread_behind(
    tmp_path: Path, rng: random.Random, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Naming reads the store's pack on a thread of the audit: both end with the audit, and
    so does every file the audit opened (found by a review: the walk's git kept its file of
    complaints open until the audit was dropped)."""
    repo, expected = _history(tmp_path / "repo", rng)
    _pack(repo, offsets=True)
    before, threads = _open_files(), set(threading.enumerate())
    closing = packread.Store.close

    def close(store: packread.Store) -> None:  # the pack is closed only once forgotten
        assert scan._end is not None and scan._end._packed is None
        closing(store)

    monkeypatch.setattr(packread.Store, "close", close)
    scan = AuditScan(open_repository(repo.path))
    scan.check()
    unread = {item.blob_id for item in scan.blobs() if isinstance(item, Skipped)}
    assert scan._end is not None and scan._end._packed is not None
    assert set(scan.paths_of(unread)) == set(expected)
    scan.close()
    assert scan._end._packed is None  # never read again: its descriptor is closed
    assert _open_files() == before
    assert set(threading.enumerate()) == threads


def _open_files() -> set[str]:
    return {path.name for path in Path("/proc/self/fd").iterdir()}


def test_an_abandoned_audit_kills_its_walk(
    tmp_path: Path, rng: random.Random, monkeypatch: pytest.MonkeyPatch
) -> None:
    """^C (or the engine stopping early) while the walk still runs: its git is killed, not
    waited for (found by a review: one ^C waited for the whole walk, minutes on a large
    history). Here git's walk is made to take 20 s more."""
    repo, _ = _history(tmp_path / "repo", rng)
    _pack(repo, offsets=True)
    slow = tmp_path / "bin"
    slow.mkdir()
    real = shutil.which("git")
    assert real is not None
    wrapper = slow / "git"
    wrapper.write_text(
        f'#!/bin/sh\nfor arg; do [ "$arg" = rev-list ] && sleep 20; done\nexec {real} "$@"\n'
    )
    wrapper.chmod(0o755)
    monkeypatch.setenv("PATH", f"{slow}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setattr(gitargs, "_executable", [])  # git is looked up once a process
    scan = AuditScan(open_repository(repo.path))
    scan.check()
    items = scan.blobs()
    next(items)  # the readers have started, and so has the walk's end
    walk = scan._walk
    assert walk is not None and walk._proc.poll() is None  # still walking
    items.close()  # the engine stops here
    assert walk._proc.returncode == -signal.SIGKILL
    scan.close()


def test_a_walk_end_that_could_not_start_is_not_waited_for(
    tmp_path: Path, rng: random.Random, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A thread that cannot start (the process's limit reached): the audit stops with the
    error, and never waits for a thread that does not exist (found by a review: it waited
    forever)."""
    repo, _ = _history(tmp_path / "repo", rng)

    class Unstartable(threading.Thread):
        def start(self) -> None:
            raise RuntimeError("can't start new thread")

    def timed_out(*_: object) -> None:
        signal.alarm(1)  # again: the audit's cleanup would wait too
        raise AssertionError("the audit waited for a thread that never started")

    only_here = types.SimpleNamespace(Thread=Unstartable, Event=threading.Event)
    monkeypatch.setattr(walkend, "threading", only_here)  # the audit's other threads start
    previous = signal.signal(signal.SIGALRM, timed_out)
    signal.alarm(20)
    try:
        with pytest.raises(RuntimeError, match="can't start new thread"):
            list(AuditSource(repo.path).items())
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
