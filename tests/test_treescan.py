"""Naming from the store's only pack (sources.treescan): the trees that may hold an object the
audit could not read are told from the pack's own entries, without applying a delta, and
only those are read whole. Whatever the pack's deltas (on an offset, on an id), the names are
the ones a read of every tree gives; a pack that is not what the listing says makes it say
nothing, and every tree is read as before."""

from __future__ import annotations

import os
import random
import subprocess
import zlib
from array import array
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sgai_guard.sources import listing, naming, packread, storeplan, treescan
from sgai_guard.sources.repo import open_repository
from sgai_guard.sources.walk import Walk
from tests.cli_helpers import run_json
from tests.gitrepo import Repo


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


def _pack(repo: Repo, *, offsets: bool) -> None:
    """Everything in one pack, written afresh (deltas chosen anew), without the lost blobs
    and without a reverse index: the store the audit reads in-process with the listing's
    hints (listing.Hints)."""
    base = repo.path / ".git" / "objects" / "pack" / "pack"
    args = ["--all", "--revs", "--missing=allow-any", "--no-reuse-delta", "-q", str(base)]
    repo.git(
        "-c",
        "pack.writeReverseIndex=false",
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


def test_the_audit_names_what_a_packed_store_lacks(tmp_path: Path, rng: random.Random) -> None:
    repo, expected = _history(tmp_path / "repo", rng)
    _pack(repo, offsets=True)
    code, report = run_json("audit", ".", cwd=repo.path)
    assert code == 3, report
    named = sorted(error["path"] for error in report["errors"])
    assert named == sorted(f"{', '.join(sorted(p))} ({oid[:12]})" for oid, p in expected.items())


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


def _header(kind: int, size: int) -> bytes:
    out = bytearray([(kind << 4) | (size & 15)])
    size >>= 4
    while size:
        out[-1] |= 0x80
        out.append(size & 0x7F)
        size >>= 7
    return bytes(out)


def _back(distance: int) -> bytes:
    """An OFS_DELTA's distance to its base, as git writes it."""
    out = [distance & 0x7F]
    distance >>= 7
    while distance:
        distance -= 1
        out.append(0x80 | (distance & 0x7F))
        distance >>= 7
    return bytes(reversed(out))


def test_a_half_cut_id_and_the_deltas_made_on_its_tree_are_found(tmp_path: Path) -> None:
    """A pack made by hand: an id cut in two by one byte (an insert instruction, in a delta),
    a delta on that tree (it may copy the id), a whole tree holding the id, a delta on a tree
    that does not, and a loose tree. Each half of each id is looked for."""
    rng = random.Random(7)
    wanted, other = rng.randbytes(20), rng.randbytes(20)
    ids = [rng.randbytes(20) for _ in range(6)]
    pack, at, disk = bytearray(b"PACK\0\0\0\2\0\0\0\5"), [0], [0]  # ids[0]: loose

    def add(kind: int, data: bytes, base: bytes = b"") -> int:
        at.append(len(pack))
        entry = _header(kind, len(data)) + base + zlib.compress(data)
        pack.extend(entry)
        disk.append(len(entry))
        return at[-1]

    plain = add(2, b"100644 a\0" + other)  # ids[1]
    cut = add(7, b"\x10\x20\x05" + wanted[:13] + b"\x7f" + wanted[13:], ids[1])  # ids[2]
    add(6, b"\x20\x20\x91\x00\x10", _back(len(pack) - cut))  # ids[3]: made on ids[2]
    add(2, b"40000 d\0" + wanted)  # ids[4]
    add(6, b"\x10\x10\x91\x00\x10", _back(len(pack) - plain))  # ids[5]: on a tree without it
    path = tmp_path / "pack"
    path.write_bytes(bytes(pack))
    fd = os.open(path, os.O_RDONLY)
    try:
        trees = [oid.hex().encode() + b"\n" for oid in ids]
        packed = treescan.Packed(fd, array("q", at), array("q", disk))
        assert treescan.candidates(packed, trees, [wanted], lambda: False) == [0, 2, 3, 4]
        # ids[2] is made on ids[1], which holds ``other`` whole: it and ids[3] may copy it
        assert treescan.candidates(packed, trees, [other], lambda: False) == [0, 1, 2, 3, 5]
        assert treescan.candidates(packed, trees, [wanted], lambda: True) is None  # abandoned
        shifted = array("q", (where + 1 if where else 0 for where in at))
        wrong = treescan.Packed(fd, shifted, packed.disk)
        assert treescan.candidates(wrong, trees, [wanted], lambda: False) is None
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
