"""A repository that plants a second copy of an object where git would not read it, hoping the
in-process readers (sources.packread) read the planted copy and miss the key git shows: each
case is read as git reads it, or the whole store through git (found by an attacker review).
And delta chains built to exhaust memory stay bounded."""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import time
import tracemalloc
import zlib
from pathlib import Path

from sgai_guard.engine.audit import AuditSource
from sgai_guard.engine.prepare import prepare
from sgai_guard.engine.run import run
from sgai_guard.sources import packread
from sgai_guard.sources.packread import MAX_OBJECT, ObjectReader
from tests import keys, packs
from tests.gitrepo import Repo
from tests.packs import BLOB, REF_DELTA, Entry, object_id, varint

HARMLESS = b"nothing to see\n"


def _keyed(path: Path, rng: random.Random) -> tuple[Repo, str]:
    """A repository whose one commit holds a key, packed; and the key's blob id."""
    repo = Repo(path)
    repo.write("secret.env", f"TAVILY_API_KEY={keys.tavily_current(rng)}\n")
    repo.write("README.md", "hello\n")
    repo.commit("add")
    repo.git("gc", "-q")
    return repo, repo.git("rev-parse", "HEAD:secret.env").strip()


def _found(path: Path, *, in_process: bool = True) -> list[str]:
    source = AuditSource(path, readers=2, in_process=in_process)
    return sorted(f.path for f in run(source, prepare(path), full_scan=True).findings)


def _as_git(path: Path) -> list[str]:
    """What the audit finds, checked to be what it finds reading everything through git."""
    found = _found(path)
    assert found == _found(path, in_process=False)
    return found


def _shadow_loose(objects: Path, oid: str) -> None:
    """A loose file at ``oid``'s path holding other content (its hash is not ``oid``)."""
    (objects / oid[:2]).mkdir(exist_ok=True)
    (objects / oid[:2] / oid[2:]).write_bytes(
        zlib.compress(b"blob %d\0" % len(HARMLESS) + HARMLESS)
    )


def _store_of(path: Path) -> packread.Store | None:
    store = packread.open_store(str(path / ".git" / "objects"))
    if store is not None:
        store.close()
    return store


def test_a_second_copy_in_another_pack_is_read_as_git_reads_it(
    tmp_path: Path, rng: random.Random
) -> None:
    for newer in ("real", "planted"):
        repo, oid = _keyed(tmp_path / newer, rng)
        objects = repo.path / ".git" / "objects"
        [real] = (objects / "pack").glob("*.pack")
        planted, _ = packs.write(objects, [Entry(bytes.fromhex(oid), BLOB, HARMLESS)], "pack-0")
        old, new = (planted, real) if newer == "real" else (real, planted)
        os.utime(old, (1_000_000_000, 1_000_000_000))
        os.utime(new, (2_000_000_000, 2_000_000_000))
        store = _store_of(repo.path)
        assert store is not None and bytes.fromhex(oid) in store.ambiguous
        found = _as_git(repo.path)
        if newer == "real":  # git reads the newest pack first: it shows the key
            assert found == ["secret.env"]


def _patched(path: Path, at: int, data: bytes) -> None:
    raw = bytearray(path.read_bytes())
    raw[at : at + len(data)] = data
    path.write_bytes(bytes(raw))


def test_an_index_git_would_search_differently_sends_the_store_to_git(
    tmp_path: Path, rng: random.Random
) -> None:
    """A planted pack holding the key's id, whose fan-out hides it from git's search, or whose
    header's count makes git refuse the pack: git reads the real copy, and so does the audit."""
    for case in ("fanout", "count"):
        repo, oid = _keyed(tmp_path / case, rng)
        objects = repo.path / ".git" / "objects"
        pack, idx = packs.write(objects, [Entry(bytes.fromhex(oid), BLOB, HARMLESS)], "pack-0")
        if case == "fanout":
            _patched(idx, 8, bytes(255 * 4))  # every bucket empty but the last
        else:
            _patched(pack, 8, (2).to_bytes(4, "big"))
        assert _store_of(repo.path) is None
        assert _as_git(repo.path) == ["secret.env"]


def test_a_multi_pack_index_sends_the_store_to_git(tmp_path: Path, rng: random.Random) -> None:
    repo, _ = _keyed(tmp_path / "repo", rng)
    repo.git("multi-pack-index", "write")
    assert _store_of(repo.path) is None
    assert _as_git(repo.path) == ["secret.env"]


def test_packs_the_readers_cannot_index_send_the_store_to_git(
    tmp_path: Path, rng: random.Random
) -> None:
    """A version 1 index, a symlinked pack or an alternate store: git reads those packs before
    any loose file; a loose copy planted beside them must not be read instead."""
    v1, oid = _keyed(tmp_path / "v1", rng)
    v1.git("-c", "pack.indexVersion=1", "repack", "-adq")
    linked, linked_oid = _keyed(tmp_path / "linked", rng)
    [pack] = (linked.path / ".git" / "objects" / "pack").glob("*.pack")
    away = tmp_path / "elsewhere.pack"
    shutil.move(pack, away)
    pack.symlink_to(away)
    source, source_oid = _keyed(tmp_path / "source", rng)
    shared = tmp_path / "shared"
    subprocess.run(["git", "clone", "-q", "--shared", str(source.path), str(shared)], check=True)
    cases = ((v1.path, oid), (linked.path, linked_oid), (shared, source_oid))
    for path, blob in cases:
        _shadow_loose(path / ".git" / "objects", blob)
        assert _store_of(path) is None, path
        assert _as_git(path) == ["secret.env"], path


def _bomb(size: int) -> bytes:
    """Delta data of ``size`` bytes that deflates to almost nothing."""
    head = varint(3) + varint(3)
    return head + bytes(size - len(head))


def test_long_or_looping_chains_of_large_deltas_stay_bounded(tmp_path: Path) -> None:
    base, one, two, three = (object_id("blob", bytes([n])) for n in range(4))
    large = MAX_OBJECT - 1024
    looping = [Entry(one, REF_DELTA, _bomb(large), base=one)]
    chain = [
        Entry(base, BLOB, b"abc"),
        Entry(one, REF_DELTA, _bomb(large), base=base),
        Entry(two, REF_DELTA, _bomb(large), base=one),
        Entry(three, REF_DELTA, _bomb(large), base=two),
    ]
    for name, entries, wanted in (("loop", looping, one), ("chain", chain, three)):
        objects = tmp_path / name / "objects"
        packs.write(objects, entries)
        store = packread.open_store(str(objects))
        assert store is not None
        started = time.monotonic()
        tracemalloc.start()
        try:
            assert ObjectReader(store).read(wanted.hex().encode()) is None
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
            store.close()
        assert peak < 4 * MAX_OBJECT, (name, peak)  # held deltas, one inflating, its input
        assert time.monotonic() - started < 30
