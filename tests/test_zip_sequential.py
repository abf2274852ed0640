"""Zip entries as Java's ZipInputStream reads them: one local header after another, from the
first byte (sgai_guard.detection.ziplocal.sequential)."""

from __future__ import annotations

import io
import random
import shutil
import struct
import subprocess
import zipfile
import zlib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sgai_guard.detection import ziplocal
from sgai_guard.detection.archives import zip_members
from sgai_guard.detection.containers import Budget, Limits
from tests import keys
from tests.cli_helpers import run_json


def _deflated(content: bytes) -> bytes:
    squeeze = zlib.compressobj(9, zlib.DEFLATED, -15)
    return squeeze.compress(content) + squeeze.flush()


def _local(
    name: bytes, method: int, sizes: tuple[int, int, int], extra: bytes = b"", flags: int = 0
) -> bytes:
    """A local header: ``sizes`` is (crc, compressed, uncompressed)."""
    crc, compressed, size = sizes
    head = struct.pack(
        "<IHHHHHIIIHH", 0x04034B50, 20, flags, method, 0, 0, crc, compressed, size,
        len(name), len(extra),
    )  # fmt: skip
    return head + name + extra


def _central(name: bytes, crc: int, size: int, length: int | None = None) -> bytes:
    """A stored entry's central record, its local header at offset 0: ``size`` bytes
    stored, ``length`` (``size`` unless given) its length."""
    length = size if length is None else length
    return struct.pack(
        "<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 0, 0, 0, crc, size, length,
        len(name), 0, 0, 0, 0, 0, 0,
    ) + name  # fmt: skip


def _end(size: int, offset: int) -> bytes:
    return struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 1, 1, size, offset, 0)


def _zip64_hidden(key: str) -> bytes:
    """readme.txt, stored, gives its sizes (6 bytes) only in its local zip64 field; its central
    record, without one, says it runs over the deflated entry Java reads right after it."""
    readme, hidden = b"hello\n", f"TAVILY_API_KEY={key}\n".encode()
    packed = _deflated(hidden)
    entry = _local(b"app.env", 8, (zlib.crc32(hidden), len(packed), len(hidden))) + packed
    wide = struct.pack("<HHQQ", 1, 16, len(readme), len(readme))
    whole = readme + entry  # what the central record calls readme.txt
    body = _local(b"readme.txt", 0, (zlib.crc32(readme), 0xFFFFFFFF, 0xFFFFFFFF), wide) + whole
    central = _central(b"readme.txt", zlib.crc32(whole), len(whole))
    return body + central + _end(len(central), len(body))


def test_an_entry_behind_a_stored_entry_s_local_zip64_sizes_is_read(
    tmp_path: Path, rng: random.Random
) -> None:
    """Found this session: zipfile reads readme.txt by its central record's size, which
    covers the next entry, so no local header there was tried; Java reads the 6 bytes its
    local zip64 field gives and then app.env's key (exit 0 before)."""
    data = _zip64_hidden(keys.tavily_current(rng))
    assert zipfile.ZipFile(io.BytesIO(data)).namelist() == ["readme.txt"]
    (tmp_path / "app.jar").write_bytes(data)
    code, report = run_json("scan", ".", cwd=tmp_path)
    assert code == 1, report
    assert [f["path"] for f in report["findings"]] == ["app.jar!app.env"]


def test_local_entries_without_a_central_directory_are_read(
    tmp_path: Path, rng: random.Random
) -> None:
    """A zip cut before its central directory (a download stopped, or written so): zipfile
    opens nothing, Java reads each entry. The scan finds the key and says the zip is corrupt
    (exit 3, which takes precedence over 1)."""
    content = f"SGAI_API_KEY={keys.sgai_uuid(rng)}\n".encode()
    packed = _deflated(content)
    first = _local(b"a.txt", 0, (zlib.crc32(b"hi\n"), 3, 3)) + b"hi\n"
    data = first + _local(b"b.env", 8, (zlib.crc32(content), len(packed), len(content))) + packed
    (tmp_path / "cut.zip").write_bytes(data)
    code, report = run_json("scan", ".", cwd=tmp_path)
    assert [f["path"] for f in report["findings"]] == ["cut.zip!b.env"], report
    assert code == 3 and report["errors"], report


def _hidden(key: str) -> bytes:
    content = f"k={key}\n".encode()
    packed = _deflated(content)
    return _local(b"h.txt", 8, (zlib.crc32(content), len(packed), len(content))) + packed


def test_an_entry_after_a_descriptor_java_17_reads_short_is_read(
    tmp_path: Path, rng: random.Random
) -> None:
    """Found by a review of the walk: after a deflated entry whose local header gives zip64
    sizes, Java 25 reads a descriptor of 8-byte sizes, Java 17 (below 4 GiB) one of 4-byte
    sizes; the walk read Java 25's only, and missed the entry Java 17 reads next. All of it
    sits in a listed stored entry's data (Java reads its local size, 0)."""
    hello = b"hello world\n"
    packed = _deflated(hello)
    wide = struct.pack("<HHQQ", 1, 16, len(hello), len(packed))
    first = _local(b"x.txt", 8, (0, 0xFFFFFFFF, 0xFFFFFFFF), wide, flags=0x8) + packed
    first += struct.pack("<IIII", 0x08074B50, zlib.crc32(hello), len(packed), len(hello))
    inner = first + _hidden(keys.tavily_current(rng)) + bytes(16)
    body = _local(b"y", 0, (0, len(inner), 0)) + inner
    central = _central(b"y", 0, len(inner), 0)
    (tmp_path / "a.jar").write_bytes(body + central + _end(len(central), len(body)))
    code, report = run_json("scan", ".", cwd=tmp_path)
    assert code == 1, report
    assert [f["path"] for f in report["findings"]] == ["a.jar!h.txt"]


def test_a_walk_that_spends_the_budget_exactly_says_what_it_left(
    tmp_path: Path, rng: random.Random
) -> None:
    """Found by a review of the walk: a budget spent to exactly 0 stopped it without a
    word, before the hidden entry Java reads next (exit 0)."""
    filler = bytes(1000)
    hidden = _hidden(keys.sgai_uuid(rng))
    stored = filler + hidden + bytes(16)
    body = _local(b"y", 0, (zlib.crc32(filler), len(stored), len(filler))) + stored
    central = _central(b"y", zlib.crc32(stored), len(stored), len(filler))
    (tmp_path / "a.zip").write_bytes(body + central + _end(len(central), len(body)))
    # each read from a local header costs 1,024 and its bytes: the listed one (its records
    # disagree on the CRC) of all the central size, then the walk's of the local size
    spent = 1024 + len(stored) + 1024 + len(filler)
    code, report = run_json("scan", ".", "--archive-max-bytes", str(spent), cwd=tmp_path)
    assert code == 3 and report["findings"] == [], report
    assert any("a.zip" in e["path"] for e in report["errors"]), report


def _written(members: list[tuple[str, bytes, int]], *, pipe: bool, wide: bool) -> bytes:
    """An archive as zipfile writes it, to a file or to a pipe (sizes in descriptors, zip64
    ones with ``wide``)."""
    out = _Pipe() if pipe else io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, content, method in members:
            info = zipfile.ZipInfo(name)
            info.compress_type = method
            with archive.open(info, "w", force_zip64=wide) as stream:
                stream.write(content)
    return out.getvalue()


class _Pipe(io.BytesIO):
    def seekable(self) -> bool:
        return False

    def seek(self, *_: object) -> int:
        raise OSError("a pipe")


_MEMBERS = st.lists(
    st.tuples(
        st.text("abcxyz/._", min_size=1, max_size=12).filter(lambda n: not n.endswith("/")),
        st.binary(max_size=3000) | st.just(b"PK\x03\x04" * 40),
        st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED]),
    ),
    max_size=8,
    unique_by=lambda member: member[0],
)


@given(members=_MEMBERS, pipe=st.booleans(), wide=st.booleans())
@settings(max_examples=150, deadline=None)
def test_the_sequential_read_of_a_tool_s_zip_gives_exactly_its_entries(
    members: list[tuple[str, bytes, int]], pipe: bool, wide: bool
) -> None:
    """Alone, the walk reads every entry zipfile wrote, whole, in order (descriptors with and
    without zip64 sizes skipped right); after the listed reading, it adds none."""
    if pipe and any(method == zipfile.ZIP_STORED for _, _, method in members):
        members = [(n, c, zipfile.ZIP_DEFLATED) for n, c, _ in members]  # zipfile's rule
    data = _written(members, pipe=pipe, wide=wide)
    budget = Budget(Limits())
    walked = list(ziplocal.sequential(ziplocal.Spans(data, 1 << 26), budget, [0]))
    assert [(m.name, m.data, m.problem) for m in walked] == [(n, c, None) for n, c, _ in members]
    listed = list(zip_members(data, Budget(Limits())))
    assert [(m.name, m.data) for m in listed] == [(n, c) for n, c, _ in members]


@pytest.mark.parametrize("tool", ["zip", "jar"])
def test_the_sequential_read_adds_nothing_to_real_tools_archives(
    tmp_path: Path, rng: random.Random, tool: str
) -> None:
    """`zip` (to a file and from a pipe) and `jar` (sizes in descriptors): the walk finds
    each entry read already, so every member is read once."""
    if shutil.which(tool) is None:
        pytest.skip(f"{tool} is not installed")
    src = tmp_path / "src"
    (src / "pkg").mkdir(parents=True)
    (src / "pkg" / "a.env").write_text(f"K={keys.tavily_current(rng)}\n")
    (src / "b.bin").write_bytes(rng.randbytes(40_000))
    (src / "c.txt").write_text("hello\n" * 500)
    made = tmp_path / "out.zip"
    if tool == "zip":
        subprocess.run(["zip", "-qr", str(made), "."], cwd=src, check=True)
    else:
        subprocess.run(["jar", "cf", str(made), "-C", str(src), "."], check=True)
    data = made.read_bytes()
    names = [n for n in zipfile.ZipFile(made).namelist() if not n.endswith("/")]
    read = [m.name for m in zip_members(data, Budget(Limits())) if m.data]
    assert sorted(read) == sorted(names)
    walked = ziplocal.sequential(ziplocal.Spans(data, 1 << 26), Budget(Limits()), [0])
    assert sorted(m.name for m in walked if m.data) == sorted(names)
