"""Objects inflated in-process from the packs (sources.packread, sources.packindex): every
object of a real history reads exactly as git reads it, and a hostile pack (sizes that lie,
zlib bombs, delta chains that loop, an index that is not its pack's, a fifo where a file
should be) is never guessed at: the object is left to git, and nothing hangs or blows up."""

from __future__ import annotations

import errno
import os
import random
import subprocess
import time
import zlib
from array import array
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sgai_guard.engine.audit import AuditSource
from sgai_guard.models import Blob
from sgai_guard.sources import packfile, packindex, packread
from sgai_guard.sources.packfile import ShortError
from sgai_guard.sources.packread import MAX_OBJECT, ObjectReader, Store
from tests import keys, packs
from tests.cli_helpers import run_json
from tests.gitrepo import Repo, git_env
from tests.packs import BLOB, OFS_DELTA, REF_DELTA, Entry, copy, delta, insert, object_id


@pytest.fixture(autouse=True, params=["isal", "zlib"])
def inflater(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every test runs with ISA-L's inflater (the dependency, where it has a wheel) and with
    the standard library's zlib that stands in for it elsewhere: both read the same."""
    if request.param == "zlib":
        monkeypatch.setattr(packfile, "_inflate", zlib)
    else:
        assert packfile._inflate.__name__ == "isal.isal_zlib"
    return str(request.param)


def _store(objects: Path) -> Store:
    store = packread.open_store(str(objects))
    assert store is not None, "dulwich's compiled apply_delta is a dependency"
    return store


def _git_objects(repo: Path) -> dict[str, tuple[str, bytes]]:
    """Every object of the store, as git reads it."""
    listed = subprocess.run(
        ["git", "cat-file", "--batch-all-objects", "--batch", "--unordered"],
        cwd=repo, env=git_env(), capture_output=True, check=True,
    ).stdout  # fmt: skip
    found, at = {}, 0
    while at < len(listed):
        end = listed.index(b"\n", at)
        oid, kind, size = listed[at:end].decode().split()
        found[oid] = (kind, listed[end + 1 : end + 1 + int(size)])
        at = end + 2 + int(size)
    return found


def _history(path: Path, rng: random.Random, commits: int = 30) -> Repo:
    """Files edited a little at each commit (deltas), some renamed, some binary."""
    repo = Repo(path)
    files = {f"f{n}.txt": [f"line {m} {rng.random()}\n" for m in range(80)] for n in range(6)}
    for n in range(commits):
        for name, lines in files.items():
            if rng.random() < 0.6:
                lines[rng.randrange(len(lines))] = f"edit {n} {rng.random()}\n"
                lines.insert(rng.randrange(len(lines)), f"new {n}\n")
            repo.write(name, "".join(lines))
        repo.write(f"bin/{n % 3}.bin", rng.randbytes(rng.randint(0, 5000)))
        repo.commit(f"change {n}\n\nbody {rng.random()}")
    return repo


def _reads_as_git(repo: Repo) -> int:
    """How many objects were read in-process; each read exactly as git reads it, from packs
    read with pread (the audit's own process) and from packs mapped (a forked reader)."""
    store = _store(repo.path / ".git" / "objects")
    counts = []
    try:
        for mapped in (False, True):
            reader, read = ObjectReader(store, mapped=mapped), 0
            for oid, wanted in _git_objects(repo.path).items():
                got = reader.read(oid.encode())
                if got is not None:
                    assert got == wanted, (oid, mapped)
                    read += 1
            counts.append(read)
    finally:
        store.close()
    assert counts[0] == counts[1]
    return counts[0]


def test_every_object_of_a_real_history_reads_as_git_reads_it(
    tmp_path: Path, rng: random.Random
) -> None:
    repo = _history(tmp_path / "repo", rng)
    repo.git("repack", "-adf", "--depth=50", "--window=50")
    for n in range(4):  # a second pack, then loose objects
        repo.write(f"f{n}.txt", f"after {n}\n")
        repo.commit(f"after {n}")
        if n == 1:
            repo.git("repack", "-d")
    total = len(_git_objects(repo.path))
    assert _reads_as_git(repo) == total


def _releases(monkeypatch: pytest.MonkeyPatch) -> list[None]:
    """One element for each time a reader lets go of a pack's mapped pages."""
    released: list[None] = []
    real = packfile.PackFile.release
    monkeypatch.setattr(packfile.PackFile, "release", lambda self: released.append(real(self)))
    return released


def test_letting_go_of_the_mapped_pages_after_every_entry_reads_the_same(
    tmp_path: Path, rng: random.Random, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The readers map each pack and let go of its pages every RELEASE_EVERY bytes they could
    have touched (their resident memory stays bounded): a base read again reads the same."""
    repo = _history(tmp_path / "repo", rng)
    repo.git("repack", "-adf", "--depth=50", "--window=50")
    released = _releases(monkeypatch)
    monkeypatch.setattr(packfile, "RELEASE_EVERY", 0)
    assert _reads_as_git(repo) == len(_git_objects(repo.path))
    assert len(released) > 100  # once per entry inflated


@settings(
    max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(seed=st.integers(0, 2**32 - 1), depth=st.integers(1, 60), window=st.integers(2, 60))
def test_any_repacked_history_reads_as_git_reads_it(
    tmp_path_factory: pytest.TempPathFactory, seed: int, depth: int, window: int
) -> None:
    repo = _history(tmp_path_factory.mktemp("repo"), random.Random(seed), commits=8)
    repo.git("repack", "-adf", f"--depth={depth}", f"--window={window}")
    assert _reads_as_git(repo) == len(_git_objects(repo.path))


def _loaded(objects: Path) -> list[int] | None:
    """How many objects each index of ``objects`` holds; None: read through git."""
    found = packindex.load(str(objects))
    if found is None:
        return None
    packindex.close(found)
    return [index.count for index in found]


def _crafted(tmp_path: Path, entries: list[Entry], *, mapped: bool = False) -> ObjectReader:
    objects = tmp_path / "objects"
    packs.write(objects, entries)
    store = _store(objects)
    assert len(store.packs) == 1
    return ObjectReader(store, mapped=mapped)


def test_deltas_of_both_kinds_are_applied(tmp_path: Path) -> None:
    base = b"hello world, " * 20
    target = base[:100] + b"CHANGED" + base[100:]
    edit = delta(len(base), len(target), copy(0, 100), insert(b"CHANGED"), copy(100, 160))
    names = [object_id("blob", base), object_id("blob", target), b"\x42" * 20]
    reader = _crafted(
        tmp_path,
        [
            Entry(names[0], BLOB, base),
            Entry(names[1], OFS_DELTA, edit, base=0),
            Entry(names[2], REF_DELTA, edit, base=names[0]),
        ],
    )
    for name in names[1:]:
        assert reader.read(name.hex().encode()) == ("blob", target)
    assert reader.read(names[0].hex().encode()) == ("blob", base)


@pytest.mark.parametrize("fine", [False, True], ids=["first-byte", "two-byte"])
def test_a_base_by_id_is_found_in_its_bucket_even_where_names_spell_it_across_two(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fine: bool
) -> None:
    """PackIndex.find searches a bucket's names as bytes; a hostile index can spell an id
    across the end of one name and the start of the next, before the name itself: that id
    is still found where bisection finds it (and a missing one is not found at all); by
    first byte, and by two-byte prefix as in a large index."""
    if fine:
        monkeypatch.setattr(packindex, "_FINE_FROM", 0)
    base_name = bytes([0x42, 0x50]) + bytes(8) + bytes([0x42, 0x43]) + bytes(8)
    first = b"\x42" * 10 + base_name[:10]  # sorts just before ``second``: together they
    second = base_name[10:] + b"\x00" * 10  # hold base_name at an offset of 10 bytes
    base = b"hello world, " * 20
    target = base[:100] + b"CHANGED" + base[100:]
    edit = delta(len(base), len(target), copy(0, 100), insert(b"CHANGED"), copy(100, 160))
    target_name = b"\x42\x51" + bytes(18)
    entries = [
        Entry(base_name, BLOB, base),
        Entry(first, BLOB, b"first"),
        Entry(second, BLOB, b"second"),
        Entry(target_name, REF_DELTA, edit, base=base_name),
    ]
    reader = _crafted(tmp_path, entries)
    assert reader.read(target_name.hex().encode()) == ("blob", target)
    (index,) = _store(tmp_path / "objects").packs
    assert index.names.find(base_name) == 10  # across the first two names
    ranked = sorted(e.name for e in entries)
    for name in ranked:
        assert index.find(name) == ranked.index(name)
    for absent in (b"\x42" * 20, b"\x00" * 20, b"\xff" * 20, base_name[:19] + b"\x01"):
        assert index.find(absent) is None
    packindex.close([index])


@settings(max_examples=60, deadline=None)
@given(
    st.sets(st.binary(min_size=20, max_size=20), min_size=1, max_size=300),
    st.lists(st.binary(min_size=20, max_size=20), max_size=20),
    st.booleans(),
)
def test_find_by_two_byte_prefix_agrees_with_a_plain_lookup(
    names: set[bytes], others: list[bytes], narrow: bool
) -> None:
    """A large index is searched by two-byte prefix: every name is found where it is, and
    nothing else is found, whatever the names share (``narrow``: all in a few prefixes)."""
    if narrow:
        names = {b"\x42" + bytes([name[1] % 3]) + name[2:] for name in names}
    ranked = sorted(names)
    fanout = tuple(sum(1 for name in ranked if name[0] <= byte) for byte in range(256))
    offsets = array("Q", range(12, 12 + len(ranked)))
    index = packindex.PackIndex("x.pack", -1, b"".join(ranked), offsets, 1023, 1 << 20, fanout)
    original = packindex._FINE_FROM
    try:
        packindex._FINE_FROM = 0
        for position, name in enumerate(ranked):
            assert index.find(name) == position
        for other in others:
            assert index.find(other) == (ranked.index(other) if other in names else None)
        assert index.find(ranked[0][:19]) is None
    finally:
        packindex._FINE_FROM = original


def _unread(tmp_path: Path, entries: list[Entry], wanted: bytes) -> None:
    """Left to git, by a reader of the pack through pread and by one that maps it."""
    for mapped in (False, True):
        started = time.monotonic()
        reader = _crafted(tmp_path / str(mapped), entries, mapped=mapped)
        assert reader.read(wanted.hex().encode()) is None
        assert time.monotonic() - started < 30  # bounded work, never a hang


def _short(tmp_path: Path, entries: list[Entry], wanted: bytes) -> None:
    """Said short (unreadable), never asked of git: git would stream it short, and a reader
    waiting on the rest of it hangs (by a reader through pread and one that maps the pack)."""
    for mapped in (False, True):
        started = time.monotonic()
        reader = _crafted(tmp_path / f"short-{mapped}", entries, mapped=mapped)
        with pytest.raises(ShortError):
            reader.read(wanted.hex().encode())
        assert time.monotonic() - started < 30


def test_a_window_size_zlib_refuses_is_left_to_git_whatever_the_inflater(
    tmp_path: Path,
) -> None:
    """ISA-L ignores the window size in a zlib header; git's zlib refuses one over 32 KiB
    and calls the object corrupt, so the readers leave it to git too."""
    name, content = b"\x0a" * 20, b"some content " * 100
    raw = bytearray(zlib.compress(content))
    raw[0] = 0x88  # deflate, CINFO 8: a 64 KiB window
    flags = raw[1] & 0xE0
    raw[1] = flags | (31 - ((raw[0] << 8) | flags) % 31) % 31  # the header's own check holds
    with pytest.raises(zlib.error, match="window size"):
        zlib.decompress(bytes(raw))
    _unread(tmp_path, [Entry(name, BLOB, content, raw=bytes(raw))], name)


def test_a_pack_that_cannot_be_mapped_is_read_with_pread(
    tmp_path: Path, rng: random.Random, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pack too large for the address space (a sparse file of terabytes, say) is read
    the way the audit's own process reads every pack."""
    repo = _history(tmp_path / "repo", rng, commits=6)
    repo.git("repack", "-adf")

    def refuse(*_: object, **__: object) -> None:
        raise OSError(errno.ENOMEM, "Cannot allocate memory")

    monkeypatch.setattr(packfile.mmap, "mmap", refuse)
    assert _reads_as_git(repo) == len(_git_objects(repo.path))


def test_entries_that_do_not_add_up_still_count_towards_letting_go_of_the_pages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An entry inflated whole whose checksum is wrong touched its pages all the same: a
    pack of such entries must not keep them all resident."""
    entries = []
    for n in range(8):
        raw = bytearray(zlib.compress(bytes([n]) * 1000 + b"x" * 1000))
        raw[-1] ^= 1  # the adler32 trailer
        entries.append(Entry(bytes([0x30 + n]) * 20, BLOB, b"", size=2000, raw=bytes(raw)))
    reader = _crafted(tmp_path, entries, mapped=True)
    released = _releases(monkeypatch)
    monkeypatch.setattr(packfile, "RELEASE_EVERY", 1000)
    for entry in entries:
        assert reader.read(entry.name.hex().encode()) is None
    assert len(released) >= len(entries) - 1


def test_sizes_that_lie_are_left_to_git(tmp_path: Path) -> None:
    name = b"\x01" * 20
    _unread(tmp_path / "a", [Entry(name, BLOB, b"x" * 1000, size=10)], name)
    _short(tmp_path / "b", [Entry(name, BLOB, b"x" * 10, size=1000)], name)


def test_a_zlib_bomb_is_not_inflated_past_its_declared_size(tmp_path: Path) -> None:
    name = b"\x02" * 20
    bomb = zlib.compress(bytes(256 << 20), 9)  # 256 MiB of zeros in about 256 KiB
    _unread(tmp_path, [Entry(name, BLOB, b"", size=len(bomb) * 2, raw=bomb)], name)


def test_an_object_over_the_cap_is_left_to_git_once_it_is_all_there(tmp_path: Path) -> None:
    """Over the cap, git streams it: its stream is inflated and counted first, never kept.
    One that holds what its header claims goes to git; one that holds less is said short."""
    name = b"\x03" * 20
    _unread(tmp_path / "whole", [Entry(name, BLOB, bytes(MAX_OBJECT + 1))], name)
    _short(tmp_path / "short", [Entry(name, BLOB, b"small", size=MAX_OBJECT + 1)], name)


def test_corrupt_deflate_data_is_left_to_git(tmp_path: Path) -> None:
    name = b"\x04" * 20
    raw = bytearray(zlib.compress(b"some content " * 100))
    raw[len(raw) // 2] ^= 0xFF
    _unread(tmp_path, [Entry(name, BLOB, b"some content " * 100, raw=bytes(raw))], name)


def test_deltas_that_do_not_fit_are_left_to_git(tmp_path: Path) -> None:
    base_name, bad = b"\x05" * 20, b"\x06" * 20
    base = b"abcdef" * 10
    wrong_source = delta(len(base) + 1, 3, copy(0, 3))
    huge_target = delta(len(base), MAX_OBJECT + 1, copy(0, 3))
    past_the_base = delta(len(base), 100, copy(10, 100))
    for n, bad_delta in enumerate((wrong_source, huge_target, past_the_base, b"\x80")):
        entries = [Entry(base_name, BLOB, base), Entry(bad, OFS_DELTA, bad_delta, base=0)]
        _unread(tmp_path / str(n), entries, bad)


def test_delta_chains_that_loop_or_leave_the_pack_are_left_to_git(tmp_path: Path) -> None:
    one, two, outside = b"\x07" * 20, b"\x08" * 20, b"\x09" * 20
    step = delta(3, 3, copy(0, 3))
    looping = [Entry(one, REF_DELTA, step, base=two), Entry(two, REF_DELTA, step, base=one)]
    _unread(tmp_path / "loop", looping, one)
    _unread(tmp_path / "self", [Entry(one, OFS_DELTA, step, base=0)], one)
    _unread(tmp_path / "out", [Entry(one, REF_DELTA, step, base=outside)], one)


def test_unknown_types_are_left_to_git(tmp_path: Path) -> None:
    name = b"\x0a" * 20
    _unread(tmp_path / "five", [Entry(name, 5, b"data")], name)
    _unread(tmp_path / "zero", [Entry(name, 0, b"data")], name)


def test_an_index_that_is_not_its_packs_is_not_used(tmp_path: Path) -> None:
    objects = tmp_path / "objects"
    name = b"\x0b" * 20
    pack, idx = packs.write(objects, [Entry(name, BLOB, b"content")])
    good = idx.read_bytes()
    idx.write_bytes(good[:-40] + b"\0" * 20 + good[-20:])  # another pack's checksum
    assert _loaded(objects) is None
    idx.write_bytes(good[:8] + b"\xff" + good[9:])  # a fan-out that is not sorted
    assert _loaded(objects) is None
    idx.write_bytes(good[:-44] + b"\xff\xff\x00\x00" + good[-40:])  # an offset past the end
    assert _loaded(objects) is None
    idx.write_bytes(good)
    assert _loaded(objects) == [1]
    pack.rename(pack.with_suffix(".real"))
    pack.symlink_to(pack.with_suffix(".real"))
    assert _loaded(objects) is None


def test_fifos_where_files_should_be_do_not_block(tmp_path: Path) -> None:
    fifo_index = tmp_path / "a" / "objects"
    (fifo_index / "pack").mkdir(parents=True)
    os.mkfifo(fifo_index / "pack" / "pack-fifo.idx")
    (fifo_index / "pack" / "pack-fifo.pack").write_bytes(b"PACK")
    assert _loaded(fifo_index) is None
    fifo_pack = tmp_path / "b" / "objects"
    packs.write(fifo_pack, [Entry(b"\x0c" * 20, BLOB, b"content")], name="pack-real")
    assert _loaded(fifo_pack) == [1]
    (fifo_pack / "pack" / "pack-real.pack").unlink()
    os.mkfifo(fifo_pack / "pack" / "pack-real.pack")
    assert _loaded(fifo_pack) is None
    loose = tmp_path / "c" / "objects"
    oid = "ab" + "0" * 38
    (loose / "ab").mkdir(parents=True)
    os.mkfifo(loose / "ab" / oid[2:])
    assert ObjectReader(_store(loose)).read(oid.encode()) is None


def test_a_store_too_large_or_of_too_many_packs_is_read_through_git(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    objects = tmp_path / "objects"
    entries = [Entry(bytes([n]) * 20, BLOB, b"content %d" % n) for n in range(1, 6)]
    packs.write(objects, entries[:3], name="pack-a")
    packs.write(objects, entries[3:], name="pack-b")
    assert _loaded(objects) == [3, 2]
    monkeypatch.setattr(packindex, "MAX_OBJECTS", 4)
    assert _loaded(objects) is None
    monkeypatch.setattr(packindex, "MAX_OBJECTS", 5)
    assert _loaded(objects) == [3, 2]
    monkeypatch.setattr(packindex, "MAX_PACKS", 1)
    assert _loaded(objects) is None


def test_hostile_loose_objects_are_left_to_git(tmp_path: Path) -> None:
    objects = tmp_path / "objects"
    reader = ObjectReader(_store(objects))
    cases = {
        "ab" + "1" * 38: zlib.compress(b"blob 10\0" + b"x" * 100),  # longer than it says
        "ab" + "3" * 38: zlib.compress(b"nonsense 3\0abc"),
        "ab" + "5" * 38: b"not deflated at all",
        "ab" + "7" * 38: zlib.compress(b"blob %d\0" % (MAX_OBJECT + 1) + bytes(MAX_OBJECT + 1)),
    }
    short = {  # git would stream these short: said, never asked of git
        "ab" + "2" * 38: zlib.compress(b"blob 1000\0" + b"x"),
        "ab" + "4" * 38: zlib.compress(b"blob %d\0" % (MAX_OBJECT + 1)),
    }
    (objects / "ab").mkdir(parents=True)
    for oid, raw in (cases | short).items():
        (objects / "ab" / oid[2:]).write_bytes(raw)
        if oid in short:
            with pytest.raises(ShortError):
                reader.read(oid.encode())
        else:
            assert reader.read(oid.encode()) is None, oid
    good = "ab" + "6" * 38
    (objects / "ab" / good[2:]).write_bytes(zlib.compress(b"blob 3\0abc"))
    assert reader.read(good.encode()) == ("blob", b"abc")


def test_a_sha256_repository_is_read_through_git(tmp_path: Path, rng: random.Random) -> None:
    """packread reads SHA-1 stores only; a SHA-256 one is read as before, through git (its
    triage: tests/test_triage_tips.py)."""
    repo = Repo(tmp_path / "repo", object_format="sha256")
    key = keys.tavily_current(rng)
    repo.write("app.env", f"TAVILY_API_KEY={key}\n")
    repo.commit("add")
    repo.git("repack", "-adf")
    source = AuditSource(repo.path, readers=2)
    read = [item.data for item in source.items() if isinstance(item, Blob)]
    assert source.scan._store is None
    assert any(key.encode() in data for data in read)
    source.scan.close()


def test_ids_an_index_puts_at_one_offset_are_cached_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A hostile index may name one entry under many ids (git reads the same bytes for
    each); the cache counted it once per id, until the phantom bytes left no room and every
    delta's base was inflated again."""
    import hashlib

    small, base = os.urandom(100 << 10), os.urandom(512 << 10)
    names = sorted(bytes([n % 256, n // 256]) * 10 for n in range(300))
    base_name, delta_name = b"\xfe" * 20, b"\xff" * 20
    edit = delta(len(base), len(base), copy(0, len(base)))
    body = b"PACK" + (2).to_bytes(4, "big") + (len(names) + 2).to_bytes(4, "big")
    offsets = []
    for kind, content in ((BLOB, small), (BLOB, base)):
        offsets.append(len(body))
        body += _entry_head(kind, len(content)) + zlib.compress(content)
    offsets.append(len(body))
    back = offsets[2] - offsets[1]
    body += _entry_head(OFS_DELTA, len(edit)) + _ofs(back) + zlib.compress(edit)
    checksum = hashlib.sha1(body).digest()  # noqa: S324 - the pack format's checksum
    objects = tmp_path / "objects"
    (objects / "pack").mkdir(parents=True)
    (objects / "pack" / "pack-one.pack").write_bytes(body + checksum)
    all_names = [*names, base_name, delta_name]
    index = packs.index(all_names, [offsets[0]] * len(names) + offsets[1:], checksum)
    (objects / "pack" / "pack-one.idx").write_bytes(index)
    reader = ObjectReader(_store(objects))
    for name in names:
        assert reader.read(name.hex().encode()) == ("blob", small)
    assert reader.read(base_name.hex().encode()) == ("blob", base)
    inflated = []
    entry = packfile.Entries.entry
    monkeypatch.setattr(
        packfile.Entries, "entry", lambda self, *a: inflated.append(a[1]) or entry(self, *a)
    )
    assert reader.read(delta_name.hex().encode()) == ("blob", base)
    assert inflated == [offsets[2]]  # the delta alone: its base came from the cache


def _entry_head(kind: int, size: int) -> bytes:
    more = 0x80 if size >> 4 else 0
    return bytes([more | (kind << 4) | (size & 15)]) + _size_rest(size >> 4)


def _ofs(back: int) -> bytes:
    """An OFS_DELTA's distance back to its base, in git's offset encoding."""
    out = [back & 0x7F]
    back >>= 7
    while back:
        back -= 1
        out.append(0x80 | (back & 0x7F))
        back >>= 7
    return bytes(reversed(out))


def _size_rest(size: int) -> bytes:
    """The continuation bytes of a pack entry's size (the first byte carries 4 bits)."""
    out = bytearray()
    while size:
        out.append((size & 0x7F) | (0x80 if size >> 7 else 0))
        size >>= 7
    return bytes(out)


@pytest.mark.parametrize("kind", ["file", "incremental"])
def test_a_multi_pack_index_sends_the_store_to_git_and_the_key_is_found(
    tmp_path: Path, rng: random.Random, kind: str
) -> None:
    """git looks objects up through a multi-pack-index (one file, or git 2.47's layers in
    `multi-pack-index.d/`): such a store is read through git, which still finds the key."""
    repo = _history(tmp_path / "repo", rng, commits=3)
    key = keys.tavily_current(rng)
    repo.write("conf.env", f"K={key}\n")
    repo.commit("leak")
    repo.git("repack", "-ad")
    objects = repo.path / ".git" / "objects"
    assert _loaded(objects) is not None
    if kind == "file":
        repo.git("multi-pack-index", "write")
    else:
        (objects / "pack" / "multi-pack-index.d").mkdir()
    assert _loaded(objects) is None
    code, report = run_json("audit", ".", cwd=repo.path)
    assert code == 1, report
    assert [f["path"] for f in report["findings"]] == ["conf.env"]
