"""A repository that plants a second copy of an object where git would not read it, hoping the
in-process readers (sources.packread) read the planted copy and miss the key git shows: each
case is read as git reads it, or the whole store through git (found by an attacker review).
And delta chains built to exhaust memory stay bounded."""

from __future__ import annotations

import hashlib
import os
import random
import shutil
import struct
import subprocess
import sys
import time
import tracemalloc
import zlib
from itertools import accumulate
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sgai_guard.engine.audit import AuditSource
from sgai_guard.engine.prepare import prepare
from sgai_guard.engine.run import run
from sgai_guard.sources import listing, packindex, packread
from sgai_guard.sources.packread import MAX_OBJECT, ObjectReader
from sgai_guard.sources.repo import open_repository
from tests import keys, packs
from tests.cli_helpers import run_cli, run_json
from tests.gitrepo import Repo
from tests.packs import BLOB, OFS_DELTA, REF_DELTA, TREE, Entry, copy, delta, object_id, varint

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
        _order(*((planted, real) if newer == "real" else (real, planted)))
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
    header's count makes git refuse the pack: git reads the real copy, and so does the audit,
    whichever pack git looks in first (the newest)."""
    for case in ("fanout", "count"):
        for newer in ("real", "planted"):
            repo, oid = _keyed(tmp_path / f"{case}-{newer}", rng)
            objects = repo.path / ".git" / "objects"
            [real] = (objects / "pack").glob("*.pack")
            entry = Entry(bytes.fromhex(oid), BLOB, HARMLESS)
            pack, idx = packs.write(objects, [entry], "pack-0")
            if case == "fanout":
                _patched(idx, 8, bytes(255 * 4))  # every bucket empty but the last
            else:
                _patched(pack, 8, (2).to_bytes(4, "big"))
            _order(*((pack, real) if newer == "real" else (real, pack)))
            assert _store_of(repo.path) is None
            assert _as_git(repo.path) == ["secret.env"]


def _order(old: Path, new: Path) -> None:
    os.utime(old, (1_000_000_000, 1_000_000_000))
    os.utime(new, (2_000_000_000, 2_000_000_000))


def test_a_pack_git_refuses_to_list_is_listed_in_id_order(
    tmp_path: Path, rng: random.Random
) -> None:
    """git's pack-order listing stops at a pack it refuses: the audit lists again in id order
    (git skips the refused pack when looking ids up), finds the key in the real pack, says
    why it read in id order, and names the object only the refused pack holds as unreadable."""
    repo, oid = _keyed(tmp_path / "repo", rng)
    objects = repo.path / ".git" / "objects"
    [real] = (objects / "pack").glob("*.pack")
    only = object_id("blob", b"only here\n")
    entries = [Entry(bytes.fromhex(oid), BLOB, HARMLESS), Entry(only, BLOB, b"only here\n")]
    pack, _ = packs.write(objects, entries, "pack-0")
    _patched(pack, 8, (3).to_bytes(4, "big"))
    _order(real, pack)
    result = run(AuditSource(repo.path, readers=2), prepare(repo.path), full_scan=True)
    assert [f.path for f in result.findings] == ["secret.env"]
    assert any("id order" in notice for notice in result.notices)
    assert [s.blob_id for s in result.skipped if s.error] == [only.hex()]


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


def _loose_key(path: Path, rng: random.Random) -> tuple[Repo, str]:
    """A repository whose key blob is a loose object (no gc)."""
    repo = Repo(path)
    repo.write("secret.env", f"TAVILY_API_KEY={keys.tavily_current(rng)}\n")
    repo.commit("add")
    return repo, repo.git("rev-parse", "HEAD:secret.env").strip()


def test_indexes_git_ignores_are_not_read_either(tmp_path: Path, rng: random.Random) -> None:
    """Found by a second attacker review: an index git refuses for its size, one named
    `.idx` (git pairs it with `.pack`, not `.idx.pack`), and one whose fan-out points past
    its names (this one crashed the audit): each plants a harmless copy of the key's blob."""
    for case in ("size", "name", "fanout"):
        repo, oid = _loose_key(tmp_path / case, rng)
        pack_dir = repo.path / ".git" / "objects" / "pack"
        pack, idx = packs.write(pack_dir.parent, [Entry(bytes.fromhex(oid), BLOB, HARMLESS)])
        raw = idx.read_bytes()
        if case == "size":  # one more 8-byte offset than git allows
            idx.write_bytes(raw[:-40] + bytes(8) + raw[-40:])
        elif case == "name":
            idx.rename(pack_dir / ".idx")
            pack.rename(pack_dir / ".idx.pack")
        else:
            fanout = (5).to_bytes(4, "big") * 255 + (1).to_bytes(4, "big")
            idx.write_bytes(raw[:8] + fanout + raw[8 + 1024 :])
        assert _store_of(repo.path) is None, case
        assert _as_git(repo.path) == ["secret.env"], case


def test_a_delta_git_refuses_does_not_hide_the_copy_git_falls_back_to(
    tmp_path: Path, rng: random.Random
) -> None:
    """A packed copy of the key's blob whose delta ends with an op past its result: dulwich
    applies it; git refuses it, and its `cat-file --batch` then breaks off at that object
    (git's size came from the packed copy). Ids held both packed and loose are left to git,
    so the audit says what it says through git: that object was not read, never a clean
    pass."""
    repo, oid = _loose_key(tmp_path / "repo", rng)
    base = HARMLESS * 2
    edit = delta(len(base), len(HARMLESS), copy(0, len(HARMLESS))) + b"\x7f"
    entries = [Entry(b"\x01" * 20, BLOB, base), Entry(bytes.fromhex(oid), OFS_DELTA, edit, base=0)]
    packs.write(repo.path / ".git" / "objects", entries)
    store = _store_of(repo.path)
    assert store is not None and bytes.fromhex(oid) in store.ambiguous
    results = []
    for in_process in (True, False):
        source = AuditSource(repo.path, readers=2, in_process=in_process)
        result = run(source, prepare(repo.path), full_scan=True)
        assert any(s.error and s.blob_id == oid for s in result.skipped), result.skipped
        unread = {s.blob_id for s in result.skipped if s.error and s.blob_id}
        assert result.incomplete
        results.append(([f.path for f in result.findings], unread))
    # through git, the hand-made base (its id is not its content's hash) is said too
    assert results[0][0] == results[1][0] and results[0][1] <= results[1][1]


def test_grafts_and_commit_graphs_cannot_hide_the_commit_adding_a_key(
    tmp_path: Path, rng: random.Random
) -> None:
    """Both rewrite what git takes a commit's parents or tree to be; the audit reads the
    commits themselves, so the key stays reachable (a finding, not a notice)."""
    grafted, _ = _loose_key(tmp_path / "grafts", rng)
    grafted.git("rm", "-q", "secret.env")
    head = grafted.commit("remove it")
    (grafted.path / ".git" / "info").mkdir(exist_ok=True)
    (grafted.path / ".git" / "info" / "grafts").write_text(head + "\n")  # a root: no parent
    assert grafted.git("rev-list", "--count", "HEAD").strip() == "1"
    graphed, _ = _loose_key(tmp_path / "graph", rng)
    graphed.write("secret.env", "nothing\n")
    graphed.commit("clean")
    clean = graphed.git("rev-parse", "HEAD^{tree}").strip()
    graphed.git("commit-graph", "write", "--reachable")
    _lie_about_tree(graphed.path / ".git" / "objects" / "info" / "commit-graph", "HEAD~1", clean)
    for repo in (grafted, graphed):
        source = AuditSource(repo.path, readers=2)
        result = run(source, prepare(repo.path), full_scan=True)
        assert [f.path for f in result.findings] == ["secret.env"], repo.path
        assert all(f.exposure is None or f.exposure.reachable for f in result.findings)


def _lie_about_tree(graph: Path, commit: str, tree: str) -> None:
    """Rewrite ``commit``'s root tree in a commit-graph file (its CDAT chunk)."""
    raw = bytearray(graph.read_bytes())
    chunks = {
        bytes(raw[8 + 12 * n : 12 + 12 * n]): int.from_bytes(raw[12 + 12 * n : 20 + 12 * n], "big")
        for n in range(raw[6])
    }
    repo = graph.parents[3]
    wanted = bytes.fromhex(Repo.existing(repo).git("rev-parse", commit).strip())
    ids = chunks[b"OIDL"]
    count = (chunks[b"CDAT"] - ids) // 20
    position = [bytes(raw[ids + 20 * n : ids + 20 * n + 20]) for n in range(count)].index(wanted)
    at = chunks[b"CDAT"] + 36 * position
    raw[at : at + 20] = bytes.fromhex(tree)
    graph.write_bytes(bytes(raw))


def test_a_reverse_index_that_lies_does_not_hide_objects(
    tmp_path: Path, rng: random.Random
) -> None:
    """git lists objects in pack order through a pack's `.rev` file; a planted one naming one
    object everywhere made every audit read only that object."""
    repo, _ = _keyed(tmp_path / "repo", rng)
    repo.git("-c", "pack.writeReverseIndex=true", "repack", "-adq")
    [rev] = (repo.path / ".git" / "objects" / "pack").glob("*.rev")
    objects = str(repo.path / ".git" / "objects")
    assert packindex.revs_agree(objects, [])
    loaded = packindex.load(objects)
    assert loaded is not None
    assert packindex.revs_agree(objects, loaded)
    raw = rev.read_bytes()
    count = (len(raw) - 12 - 40) // 4
    rev.write_bytes(raw[:12] + (3).to_bytes(4, "big") * count + raw[-40:])
    assert not packindex.revs_agree(objects, [])
    assert not packindex.revs_agree(objects, loaded)
    packindex.close(loaded)
    source = AuditSource(repo.path, readers=2)
    result = run(source, prepare(repo.path), full_scan=True)
    assert [f.path for f in result.findings] == ["secret.env"]
    assert any(".rev" in notice for notice in result.notices)


@given(
    st.lists(st.integers(12, 60), min_size=1, max_size=12),
    st.lists(st.integers(0, 14), max_size=14),
)
def test_a_reverse_index_agrees_only_when_it_is_the_packs_order(
    offsets: list[int], positions: list[int]
) -> None:
    """A `.rev` file's positions agree when they are the only order sorting the offsets:
    each in range, none twice; never where two ids share an offset (a hostile index)."""
    from array import array

    truth = sorted(range(len(offsets)), key=offsets.__getitem__)
    distinct = len(set(offsets)) == len(offsets)
    for order in (positions, truth):
        expected = distinct and order == truth
        assert packindex._sorts(array("I", order), array("Q", offsets)) == expected, order


def test_git_is_told_to_make_pack_order_itself() -> None:
    """git 2.41 and later honour `pack.readReverseIndex=false` (a planted `.rev` then
    orders nothing; this machine's git may be older and ignore it, so only the argument
    every git the audit starts is given is pinned here)."""
    from sgai_guard.sources import gitargs

    argv = gitargs.git_argv(["cat-file", "--batch-all-objects", "--batch-check"])
    assert "pack.readReverseIndex=false" in argv
    assert argv[argv.index("pack.readReverseIndex=false") - 1] == "-c"


def test_a_reverse_index_in_upper_case_is_checked_too(
    tmp_path: Path, rng: random.Random, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a case-insensitive file system (macOS's, by default) git's open of "<pack>.rev"
    finds "<pack>.REV": a lying one hid every key, exit 0, where only names ending in
    ".rev" were checked (found by a review). Such a name is checked here whatever the file
    system; and the name git opens is checked wherever the file system finds it."""
    repo, _ = _keyed(tmp_path / "repo", rng)
    repo.git("-c", "pack.writeReverseIndex=true", "repack", "-adq")
    [rev] = (repo.path / ".git" / "objects" / "pack").glob("*.rev")
    objects = str(repo.path / ".git" / "objects")
    raw = rev.read_bytes()
    count = (len(raw) - 12 - 40) // 4
    rev.chmod(0o644)
    rev.unlink()
    upper = rev.with_name(rev.stem + ".REV")
    upper.write_bytes(raw[:12] + (3).to_bytes(4, "big") * count + raw[-40:])
    assert not packindex.revs_agree(objects, [])
    upper.write_bytes(raw)
    assert packindex.revs_agree(objects, [])
    # a file system that finds "<pack>.rev" by a name the listing does not show so
    folded = rev.with_name("folded-name")
    upper.rename(folded)
    folded.write_bytes(raw[:12] + (3).to_bytes(4, "big") * count + raw[-40:])
    real_regular, real_present = packindex._regular, packindex._present

    def present(path: Path) -> bool:
        return path == rev or real_present(path)

    def regular(path: Path, budget: int) -> bytes:
        return real_regular(folded if path == rev else path, budget)

    monkeypatch.setattr(packindex, "_present", present)
    monkeypatch.setattr(packindex, "_regular", regular)
    assert not packindex.revs_agree(objects, [])


def test_a_name_is_absent_only_when_surely_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``_present`` decides whether a `.rev`, an alternates file or a multi-pack-index is
    there: a link to nothing is there, and an error other than "no such file" (a folder
    that cannot be read) counts as there, so the store is checked or refused, never read
    as if it had none (found by a review: pathlib's answers were relied on)."""
    (tmp_path / "file").write_bytes(b"")
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    assert packindex._present(tmp_path / "file")
    assert packindex._present(tmp_path / "dangling")
    assert not packindex._present(tmp_path / "nowhere")
    assert not packindex._present(tmp_path / "file" / "below")  # not a folder

    def denied(path: object) -> None:
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(packindex.os, "lstat", denied)
    assert packindex._present(tmp_path / "nowhere")


@pytest.mark.parametrize("linked", ["", "file", "entry", "info", "objects", "pack", "rev"])
def test_a_reverse_index_that_lies_in_an_alternate_store_does_not_hide_objects(
    tmp_path: Path, rng: random.Random, linked: str
) -> None:
    """git trusts the `.rev` files of every store it reads: one planted in an alternate
    store (where `clone --shared` or `--reference` puts the objects) left the key's blob
    out of the listing, and the audit passed with exit 0 (found by session 16's review);
    so did one behind an alternates file that is a symbolic link, which git follows from
    its own working directory: such a file is refused (the next two reviews)."""
    shared, _ = _keyed(tmp_path / "shared", rng)
    shared.git("-c", "pack.writeReverseIndex=true", "repack", "-adq")
    [rev] = (shared.path / ".git" / "objects" / "pack").glob("*.rev")
    raw = rev.read_bytes()
    count = (len(raw) - 12 - 40) // 4
    rev.write_bytes(raw[:12] + (3).to_bytes(4, "big") * count + raw[-40:])
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "--shared", str(shared.path), str(clone)], check=True)
    dot = clone / ".git"
    alternates = dot / "objects" / "info" / "alternates"
    # through /proc/self/cwd: git, run from the repository, finds other files than the audit
    if linked == "file":  # the alternates file itself
        alternates.rename(dot / "alt-here")
        alternates.symlink_to("/proc/self/cwd/.git/alt-here")
    elif linked == "entry":  # an entry of a plain alternates file
        (shared.path / ".git" / "objects").rename(dot / "hidden")
        alternates.write_text("/proc/self/cwd/.git/hidden\n")
    elif linked == "info":  # objects/info, a linked folder
        (dot / "objects" / "info").rename(dot / "info-here")
        (dot / "objects" / "info").symlink_to("/proc/self/cwd/.git/info-here")
    elif linked == "objects":  # .git/objects itself
        (dot / "objects").rename(dot / "objects-here")
        (dot / "objects").symlink_to("/proc/self/cwd/.git/objects-here")
    elif linked == "pack":  # the alternate store's pack folder
        (shared.path / ".git" / "objects" / "pack").rename(dot / "pack-here")
        (shared.path / ".git" / "objects" / "pack").symlink_to("/proc/self/cwd/.git/pack-here")
    elif linked == "rev":  # one pack file, the .rev
        [own] = (shared.path / ".git" / "objects" / "pack").glob("*.rev")
        own.rename(dot / "rev-here")
        own.symlink_to("/proc/self/cwd/.git/rev-here")
    listed = Repo.existing(clone).git(
        "cat-file", "--batch-all-objects", "--batch-check", "--unordered"
    )
    assert len(set(listed.splitlines())) < count  # git itself now lists objects twice or never
    if linked:  # it cannot be checked as git reads it: refused, from anywhere
        refused = run_cli("audit", str(clone), cwd=tmp_path)
        assert refused.returncode == 2, refused.stdout + refused.stderr
        assert "symbolic link" in refused.stderr or "/proc" in refused.stderr, refused.stderr
        return
    for readers in (1, 2):
        result = run(AuditSource(clone, readers=readers), prepare(clone), full_scan=True)
        assert [f.path for f in result.findings] == ["secret.env"], readers
        assert any(".rev" in notice for notice in result.notices)


def test_fifos_in_the_object_store_are_refused_before_git_opens_them(
    tmp_path: Path, rng: random.Random
) -> None:
    for where in ("objects/pack/pack-evil.idx", "objects/ab/" + "c" * 38, "refs/heads/evil"):
        repo, _ = _keyed(tmp_path / where.split("/")[1], rng)
        fifo = repo.path / ".git" / where
        fifo.parent.mkdir(exist_ok=True)
        os.mkfifo(fifo)
        proc = subprocess.run(
            [sys.executable, "-m", "sgai_guard", "audit", str(repo.path), "--format", "json"],
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert proc.returncode == 2, proc.stderr
        assert "not a regular file" in proc.stderr


def test_chains_of_large_results_are_left_to_git(tmp_path: Path) -> None:
    """Results over the cache's share are not kept: each object on top of such a chain would
    apply all of it again (found by the second review: 50 s for a 20 KB pack)."""
    size = 8 << 20
    names = [object_id("blob", bytes([n])) for n in range(12)]
    step = delta(size, size, copy(0, size))
    entries = [Entry(names[0], BLOB, bytes(size))]
    entries += [Entry(names[n], OFS_DELTA, step, base=n - 1) for n in range(1, 12)]
    objects = tmp_path / "objects"
    packs.write(objects, entries)
    store = packread.open_store(str(objects))
    assert store is not None
    try:
        reader = ObjectReader(store)
        assert reader.read(names[4].hex().encode()) == ("blob", bytes(size))  # 4 steps: read
        started = time.monotonic()
        assert ObjectReader(store).read(names[11].hex().encode()) is None  # 11: left to git
        assert time.monotonic() - started < 30
    finally:
        store.close()


def test_a_broken_copy_labelled_tree_does_not_hide_a_blob(
    tmp_path: Path, rng: random.Random
) -> None:
    """Found by a third review: git lists an object with the type of its first copy's header,
    without inflating it; a planted copy of the key's blob labelled "tree" (its data broken)
    made the audit file the blob with the trees, never read, and say complete. Ids with
    another copy are read whatever their listed type: git then stops on that object, and the
    audit says so; also when a file git cannot list makes the audit ask object by object."""
    cases = ("packed", "loose", "packed, alternates", "packed, multi-pack-index", "unlistable")
    for real in cases:
        make = _loose_key if real == "loose" else _keyed
        repo, oid = make(tmp_path / real.replace(", ", "-"), rng)
        objects = repo.path / ".git" / "objects"
        if "alternates" in real:  # an empty one: the readers leave the store to git
            (objects / "info").mkdir(exist_ok=True)
            (objects / "info" / "alternates").write_text("")
        broken = Entry(bytes.fromhex(oid), TREE, b"", size=40, raw=b"\x78\x9c" + b"\xff" * 60)
        planted, idx = packs.write(objects, [broken], name="pack-planted")
        for path in (planted, idx):
            os.utime(path, (2_000_000_000, 2_000_000_000))
        if "multi-pack-index" in real:
            repo.git("multi-pack-index", "write", f"--preferred-pack={planted.name}")
        listing = ["--batch-all-objects", "--batch-check", "--unordered"]
        if real == "unlistable":  # an unknown type: git's listing stops (listing.plan_each)
            (objects / "00").mkdir(exist_ok=True)
            (objects / "00" / ("a" * 38)).write_bytes(zlib.compress(b"trea 5\0abcde"))
            listing = ["--batch-check"]  # each id asked for
        listed = repo.git("cat-file", *listing, stdin=f"{oid}\n".encode())
        assert f"{oid} tree 40" in listed, real  # git's listing believes the planted header
        source = AuditSource(repo.path, readers=2)
        result = run(source, prepare(repo.path), full_scan=True)
        assert result.findings or any(s.error and s.blob_id == oid for s in result.skipped), real
        assert result.incomplete or result.findings, real


def test_copies_are_found_in_indexes_of_both_versions_and_alternates(
    tmp_path: Path, rng: random.Random
) -> None:
    v1, oid = _keyed(tmp_path / "v1", rng)
    v1.git("-c", "pack.indexVersion=1", "repack", "-adq")
    objects = v1.path / ".git" / "objects"
    assert packindex.copies(str(objects)) == frozenset()
    _shadow_loose(objects, oid)
    assert packindex.copies(str(objects)) == {bytes.fromhex(oid)}
    source, source_oid = _keyed(tmp_path / "source", rng)
    shared = tmp_path / "shared"
    subprocess.run(["git", "clone", "-q", "--shared", str(source.path), str(shared)], check=True)
    assert packindex.copies(str(shared / ".git" / "objects")) == frozenset()
    _shadow_loose(shared / ".git" / "objects", source_oid)
    assert packindex.copies(str(shared / ".git" / "objects")) == {bytes.fromhex(source_oid)}


def test_trees_with_another_copy_are_read_from_either_listing(
    tmp_path: Path, rng: random.Random
) -> None:
    """A planted packed copy of the key's id whose header says "tree" and whose data does
    not inflate: git's listing gives the id as a tree (from that header). The listing's trees
    with another copy are read all the same, in both listings (the default one, and the sized
    one a size cap asks for); git 2.39 then stops ("changed type"), and the audit says that
    object was not read: never a clean pass."""
    repo, oid = _loose_key(tmp_path / "repo", rng)
    broken = Entry(bytes.fromhex(oid), TREE, b"", size=40, raw=b"\x78\x9c" + b"\xff" * 30)
    packs.write(repo.path / ".git" / "objects", [broken])
    listed = repo.git("cat-file", "--batch-all-objects", "--batch-check", "--unordered")
    assert f"{oid} tree 40" in listed  # git's listing calls it a tree
    for options in ({}, {"max_blob_size": 1 << 20}):
        for in_process in (True, False):
            source = AuditSource(repo.path, readers=2, in_process=in_process, **options)
            result = run(source, prepare(repo.path), full_scan=True)
            found = [f.path for f in result.findings]
            unread = {s.blob_id for s in result.skipped if s.error}
            assert found == ["secret.env"] or (result.incomplete and oid in unread), result


def test_a_loose_object_shorter_than_its_header_neither_hangs_nor_is_asked_of_git(
    tmp_path: Path, rng: random.Random
) -> None:
    """Found by an attacker review: a 46-byte loose object whose header claims 600 MB went
    to git (too large to read here), git streamed its 5 bytes, and the reader waited for the
    rest forever (git waiting on it); one claiming 100 bytes was asked of git too. Both are
    now said unreadable, here, whatever their claimed size."""
    repo, _ = _loose_key(tmp_path / "repo", rng)
    objects = repo.path / ".git" / "objects"
    large = rng.randbytes(18_000_000)  # a loose file too large to read whole (a second review)
    for folder, size, body in (
        ("00", 600_000_000, b"hello"),
        ("01", 100, b"hello"),
        ("02", 600_000_000, large),
    ):
        (objects / folder).mkdir(exist_ok=True)
        raw = zlib.compress(b"blob %d\0" % size + body, 1)
        (objects / folder / ("1" * 38)).write_bytes(raw)
    proc = subprocess.run(
        [sys.executable, "-m", "sgai_guard", "audit", str(repo.path), "--progress", "never"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert proc.stdout.count("its content is shorter than its header says") == 3, proc.stdout
    assert "secret.env:1:" in proc.stdout


def test_a_blob_git_streams_short_cannot_swallow_the_answers_after_it(
    tmp_path: Path, rng: random.Random
) -> None:
    """Found by an attacker review: with core.bigFileThreshold set low, git streams a loose
    blob whose header claims more than it holds, and a reader of `cat-file --batch` took the
    answers after it for its content; sized to end with the run, the audit said complete
    (exit 0) with the key blamed on an object no ref reaches. A run answered short is now
    said (exit 3). SHA-256, so the store is read through git."""
    repo = Repo(tmp_path / "repo", object_format="sha256")
    repo.write("k.txt", f"TAVILY_API_KEY={keys.tavily_current(rng)}\n")
    for n in range(4):
        repo.write(f"z{n}.bin", f"z{n}\n" + "0" * 300_000)
    repo.commit("one")
    repo.git("gc", "-q")
    repo.git("config", "core.bigFileThreshold", "1")
    planted = "00" + "1" * 62
    target = repo.path / ".git" / "objects" / "00" / planted[2:]
    target.parent.mkdir(exist_ok=True)
    size = 1
    for _ in range(30):  # the claimed size that ends exactly where the run does
        target.write_bytes(zlib.compress(b"blob %d\0hello" % size))
        [run_ids] = listing.plan(open_repository(repo.path), None, 1).runs
        rest = subprocess.run(
            ["git", "cat-file", "--batch"],
            cwd=repo.path,
            input=b"".join(line + b"\n" for line in run_ids.split()[1:]),
            capture_output=True,
            check=True,
        ).stdout
        if size == len(rest) + 5:
            break
        size = len(rest) + 5
    assert run_ids.startswith(planted.encode())
    code, report = run_json("audit", ".", cwd=repo.path)
    assert code == 3, report
    assert any("git answered 1 of the" in e["message"] for e in report["errors"]), report


def test_fake_answers_inside_a_blob_cannot_stand_in_for_the_objects_a_short_one_swallowed(
    tmp_path: Path, rng: random.Random
) -> None:
    """Found by the attacker review of the count above: a short loose object A swallowed the
    answers for the key's blob K and the commit, and the blob B after them held fake answers
    ("<id> blob 1\\nx\\n") that made the count come out right: exit 0, the key blamed on A,
    no ref reaching it. A blob read through git must hash to its id now (store read through
    git: an empty alternates file)."""
    repo = Repo(tmp_path / "repo")
    key_blob = repo.git(
        "hash-object", "-w", "--stdin", stdin=f"t = {keys.tavily_current(rng)}\n".encode()
    ).strip()
    planted = "0" * 39 + "1"
    for nonce in range(256):  # B's content chosen so that ids sort A, K, C, B
        stand_ins = "".join(f"{'f' * 39}{n} blob 1\nx\n" for n in range(2))  # for K and C
        fake = f"{stand_ins}{'e' * 38}{nonce:02x} blob 0\n".encode()
        b_oid = repo.git("hash-object", "-w", "--stdin", stdin=b"\n" + fake).strip()
        tree_lines = f"100644 blob {key_blob}\tkey.txt\n100644 blob {b_oid}\tnotes.txt\n"
        tree = repo.git("mktree", stdin=tree_lines.encode()).strip()
        commit = repo.git("commit-tree", "--no-gpg-sign", "-m", "x", tree).strip()
        if sorted([planted, key_blob, b_oid, commit]) == [
            planted,
            *sorted([key_blob, commit]),
            b_oid,
        ]:
            break
    assert sorted([planted, key_blob, b_oid, commit])[-1] == b_oid  # the order was found
    repo.git("update-ref", "refs/heads/main", commit)
    repo.git("symbolic-ref", "HEAD", "refs/heads/main")
    repo.git("prune")  # the other tries: the run must hold A, K, C and B alone
    swallowed = sum(
        len(f"{oid} {kind} {size}\n") + size + 1
        for oid, kind in ((key_blob, "blob"), (commit, "commit"))
        for size in [int(repo.git("cat-file", "-s", oid))]
    )
    claim = len(b"short") + 1 + swallowed + len(f"{b_oid} blob {len(fake) + 1}\n")
    (repo.path / ".git" / "objects" / "00").mkdir(exist_ok=True)
    (repo.path / ".git" / "objects" / "00" / planted[2:]).write_bytes(
        zlib.compress(b"blob %d\0short" % claim)
    )
    (tmp_path / "empty").mkdir()
    (repo.path / ".git" / "objects" / "info" / "alternates").write_text(f"{tmp_path / 'empty'}\n")
    repo.git("config", "core.bigFileThreshold", "1")
    for readers in (1, 2):
        source = AuditSource(repo.path, readers=readers)
        result = run(source, prepare(repo.path), full_scan=True)
        assert result.incomplete and any(s.error for s in result.skipped), readers
        assert result.findings or any(s.blob_id == planted for s in result.skipped), readers


def _stored(data: bytes) -> bytes:
    """zlib at level 0: an entry exactly ``len(data) + 11`` bytes long, whatever it holds."""
    level0 = zlib.compressobj(0)
    return level0.compress(data) + level0.flush()


def _shared_offsets(path: Path, rng: random.Random, group_a: int, group_b: int) -> str | None:
    """One pack whose index gives a decoy blob ``group_a`` ids, then the key's blob, its tree,
    and a harmless blob ``group_b`` made-up ids, then the commit. Returns the commit when git's
    listing adds up to the pack's length (its search gave some group 0 bytes, another too
    many) and the key's blob is placed where the decoy is; else None."""
    key = f"TAVILY_API_KEY={keys.tavily_current(rng)}\n".encode()
    blob = object_id("blob", key)
    tree = b"100644 secret.env\0" + blob
    same = b"d" * (len(tree) - 1) + b"\n"  # entries as long as the tree's
    commit = b"tree %s\nauthor A <a@b> 1 +0000\ncommitter A <a@b> 1 +0000\n\nadd\n" % (
        object_id("tree", tree).hex().encode()
    )
    kinds = [
        ("blob", same),
        ("blob", key),
        ("tree", tree),
        ("blob", same.upper()),
        ("commit", commit),
    ]
    body, starts = bytearray(b"PACK" + struct.pack(">II", 2, 0)), []
    for kind, data in kinds:
        starts.append(len(body))
        body += packs.entry_header({"blob": BLOB, "tree": TREE, "commit": 1}[kind], len(data))
        body += _stored(data)
    made_up = [rng.randbytes(20) for _ in range(group_a + group_b - 1)]
    names = [object_id(kind, data) for kind, data in kinds]
    offsets = [*starts, *[starts[0]] * (group_a - 1), *[starts[3]] * group_b]
    names = [*names[:3], *names[4:], *made_up]  # the harmless blob is named only by made-up ids
    offsets = [starts[0], starts[1], starts[2], starts[4], *offsets[5:]]
    body[8:12] = struct.pack(">I", len(names))
    checksum = hashlib.sha1(body).digest()  # noqa: S324 - the pack format's checksum
    repo = Repo(path)
    directory = repo.path / ".git" / "objects" / "pack"
    (directory / "pack-x.pack").write_bytes(bytes(body) + checksum)
    (directory / "pack-x.idx").write_bytes(packs.index(names, offsets, checksum))
    check = "--batch-check=%(objectsize:disk) %(objectname)"
    listed = repo.git("cat-file", "--batch-all-objects", "--unordered", check).split()
    sizes, ids = list(map(int, listed[0::2])), listed[1::2]
    places = dict(zip(ids, accumulate(sizes, initial=12), strict=False))
    if sum(sizes) != len(body) - 12 or places[blob.hex()] != starts[0]:
        shutil.rmtree(path)
        return None  # the sizes do not add up, or the key's place is not the decoy's
    return object_id("commit", commit).hex()


def test_ids_an_index_puts_at_one_offset_leave_no_key_unread(tmp_path: Path) -> None:
    """Found by an attacker review of the offsets the listing tells (listing.Hints): git
    gives ids sharing an offset 0 bytes or the whole entry, and balanced, every place after
    the first group was one entry early. The key's blob was read as the decoy's, exit 0."""
    for attempt in range(200):
        rng = random.Random(attempt)
        group_a, group_b = rng.randint(2, 4), rng.randint(1, 4)
        commit = _shared_offsets(tmp_path / f"r{attempt}", rng, group_a, group_b)
        if commit is not None:
            break
    else:
        raise AssertionError("no index whose shared offsets git's listing adds up")
    repo = Repo.existing(tmp_path / f"r{attempt}")
    repo.git("update-ref", "refs/heads/main", commit)
    code, report = run_json("audit", str(repo.path), cwd=tmp_path)
    assert code in (1, 3), report
    assert [f["path"] for f in report["findings"]] == ["secret.env"], report
