"""Archives built to be misread: keys in bytes a naive reader skips, archives that break the
parsers, and shapes that cost quadratic time or unbounded memory. From a reviewer's attacks."""

from __future__ import annotations

import gzip
import io
import random
import shutil
import struct
import subprocess
import tarfile
import time
import zipfile
import zlib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests import keys
from tests.archives import tar_of, zip_of
from tests.cli_helpers import peak_kib, run_cli, run_json
from tests.gitrepo import Repo


def _env(key: str) -> bytes:
    return f"TAVILY_API_KEY={key}\n".encode()


def _gnu_tar(members: list[tuple[str, bytes]], kind: bytes = tarfile.REGTYPE) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.GNU_FORMAT) as archive:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size, info.type = len(data), kind
            archive.addfile(info, io.BytesIO(data))
    return out.getvalue()


def _bad_checksum(key: str) -> bytes:
    data = bytearray(_gnu_tar([("a.txt", b"x"), ("b.txt", b"y"), ("secret.env", _env(key))]))
    data[1024 + 148 : 1024 + 156] = b"0000000\0"  # the second header's checksum
    return gzip.compress(bytes(data))


def _pax(key: str) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as archive:
        info = tarfile.TarInfo("a.txt")
        info.size, info.pax_headers = 1, {"comment": _env(key).decode()}
        archive.addfile(info, io.BytesIO(b"x"))
    return gzip.compress(out.getvalue())


MISSED = {
    "executable jar": lambda k: b'#!/bin/sh\nexec java -jar "$0"\n' + zip_of({"app.env": _env(k)}),
    "two zips joined": lambda k: zip_of({"secret.env": _env(k)}) + zip_of({"r.txt": b"hi"}),
    "two tar.gz joined": lambda k: (
        gzip.compress(_gnu_tar([("a.txt", b"x")]))
        + gzip.compress(_gnu_tar([("secret.env", _env(k))]))
    ),
    "bad header checksum": _bad_checksum,
    "unknown member type": lambda k: gzip.compress(_gnu_tar([("s.env", _env(k))], kind=b"Z")),
    "data after the end": lambda k: gzip.compress(_gnu_tar([("a.txt", b"x")]) + _env(k)),
    "PAX header record": _pax,
    "gzip with trailing bytes": lambda k: gzip.compress(_env(k)) + b"GARBAGE!",
    # from a second review: shapes unzip or GNU tar open
    "zip member named as a folder": lambda k: zip_of({"conf/": _env(k)}),
    "zip behind a long script": lambda k: (
        b"#!/bin/sh\n" + b"# pad\n" * 2000 + zip_of({".env": _env(k)})
    ),
    "zip joined to a gzip": lambda k: gzip.compress(b"notes\n") + zip_of({".env": _env(k)}),
    "old v7 tar": lambda k: _v7(_gnu_tar([("s.env.gz", gzip.compress(_env(k)))])),
    "unknown member type, plain tar": lambda k: _gnu_tar(
        [("s.env.gz", gzip.compress(_env(k)))], kind=b"Z"
    ),
    "a bad block between members": lambda k: (
        _gnu_tar([("a.txt", b"x")])[:1024]
        + random.Random(7).randbytes(512)
        + _gnu_tar([("s.env.gz", gzip.compress(_env(k)))])
    ),
}


def _v7(tar: bytes) -> bytes:
    """``tar``'s first header as an old tar writes it: no ustar magic, its checksum again."""
    data = bytearray(tar)
    data[257:265] = bytes(8)
    data[148:156] = b" " * 8
    data[148:156] = b"%06o\0 " % sum(data[:512])
    return bytes(data)


@pytest.mark.parametrize("case", list(MISSED))
def test_key_in_bytes_a_naive_reader_skips(tmp_path: Path, rng: random.Random, case: str) -> None:
    key = keys.tavily_current(rng)
    (tmp_path / "thing.bin").write_bytes(MISSED[case](key))
    code, report = run_json("scan", ".", cwd=tmp_path)
    assert code in (1, 3) and report["findings"], report
    assert all(f["path"].startswith("thing.bin!") for f in report["findings"])


def _broken_zip(case: str) -> bytes:
    method = zipfile.ZIP_LZMA if case == "lzma member" else zipfile.ZIP_DEFLATED
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", method) as archive:
        archive.writestr("a.txt", b"hello world " * 20)
    data = bytearray(out.getvalue())
    central = data.rfind(b"PK\x01\x02")
    if case == "version 9.9":
        data[central + 6] = 99
    elif case == "empty member name":
        data[central + 28 : central + 30] = b"\0\0"
        del data[central + 46 : central + 51]
        end = data.rfind(b"PK\x05\x06")
        size = struct.unpack_from("<I", data, end + 12)[0]
        struct.pack_into("<I", data, end + 12, size - 5)
    else:
        data[39:41] = b"\xff\xff"  # the member's LZMA properties
    return bytes(data)


@pytest.mark.parametrize("case", ["version 9.9", "empty member name", "lzma member"])
def test_broken_archive_never_ends_the_scan(tmp_path: Path, rng: random.Random, case: str) -> None:
    key = keys.tavily_current(rng)
    (tmp_path / "z.env").write_bytes(_env(key))
    (tmp_path / "a.zip").write_bytes(_broken_zip(case))
    proc = run_cli("scan", ".", "--format", "json", cwd=tmp_path)
    assert proc.returncode in (1, 3) and "internal error" not in proc.stderr, proc.stderr
    assert "z.env:1:16" in proc.stdout or '"path": "z.env"' in proc.stdout


def test_many_concatenated_streams_cost_linear_time(tmp_path: Path) -> None:
    one = gzip.compress(b"")
    (tmp_path / "many.gz").write_bytes(one * 200_000)
    started = time.monotonic()
    code, report = run_json("scan", ".", cwd=tmp_path)
    assert time.monotonic() - started < 60  # quadratic: several minutes
    assert code == 3 and "member count limit" in report["errors"][0]["message"]


def test_text_that_starts_like_bzip2_is_text(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("BZhang wrote the first draft\n")
    code, report = run_json("scan", ".", cwd=tmp_path)
    assert code == 0 and report["errors"] == []


def test_compressed_tar_counts_its_bytes_once(tmp_path: Path, rng: random.Random) -> None:
    body = rng.randbytes(300_000)
    data = gzip.compress(tar_of({"a.bin": body, "b.env": _env(keys.tavily_current(rng))}))
    (tmp_path / "t.tar.gz").write_bytes(data)
    code, report = run_json("scan", ".", "--archive-max-bytes", "500k", cwd=tmp_path)
    assert code == 1 and report["errors"] == [], report["errors"]


def test_prior_archives_share_one_budget(tmp_path: Path, rng: random.Random) -> None:
    """Deciding "already committed" opens what HEAD held: once, within the size limit."""
    repo = Repo(tmp_path)
    held = {f"m{i}.gz": gzip.compress(rng.randbytes(200_000)) for i in range(40)}
    repo.write("a.zip", zip_of(held))
    repo.commit("a big archive")
    new = {f"n{i}.env": _env(keys.tavily_current(rng)) for i in range(300)}
    repo.write("a.zip", zip_of(new))
    repo.add("a.zip")
    started = time.monotonic()
    code, report = run_json("scan", "--staged", cwd=tmp_path)
    assert time.monotonic() - started < 60
    assert code == 1 and len(report["findings"]) == 300


def test_joined_zips_cost_neither_copies_nor_square_memory(tmp_path: Path) -> None:
    """Each zip joined before another was opened on a copy of all before it, and every level
    kept its copy (found by a review: 200 zips of 60 KB took 1.2 GB)."""
    rng = random.Random(5)
    parts = []
    for n in range(300):
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as archive:
            archive.writestr(f"m{n}.txt", b"x")
            archive.comment = rng.randbytes(60_000).replace(b"PK", b"pk")
        parts.append(out.getvalue())
    (tmp_path / "many.zip").write_bytes(b"".join(parts))
    proc, peak = peak_kib(["scan", ".", "--format", "json"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert peak < 250 << 10, peak  # 18 MB of zips: about 2.7 GB before


def test_a_central_directory_too_long_is_refused_before_it_is_read(tmp_path: Path) -> None:
    """zipfile holds every record it parses: the member limit is checked first."""
    (tmp_path / "cd.zip").write_bytes(zip_of({f"{n}": b"" for n in range(20_000)}))
    code, report = run_json("scan", ".", cwd=tmp_path)
    assert code == 3 and "member count limit" in report["errors"][0]["message"]


def test_a_large_program_ending_in_a_zip_is_said_not_read(tmp_path: Path) -> None:
    """A file read in pieces is put back together only when it starts as a container: a
    self-extractor over 8 MiB ends as a zip and was passed (found by a review)."""
    rng = random.Random(3)
    stub = b"MZ\x90\x00" + rng.randbytes(9 << 20)
    (tmp_path / "setup.exe").write_bytes(stub + zip_of({".env": _env(keys.tavily_current(rng))}))
    code, report = run_json("scan", ".", cwd=tmp_path)
    assert code == 3, report
    assert "ends as a zip archive does" in report["errors"][0]["message"]


def test_a_tar_holding_a_zip_last_opens_it_once(tmp_path: Path, rng: random.Random) -> None:
    """A zip as a tar's last member ends near the tar's end: only a zip that ends the file
    is opened as one more container (else its key would be found twice)."""
    inner = zip_of({"deep/.env": _env(keys.tavily_current(rng))})
    (tmp_path / "b.tar").write_bytes(tar_of({"inner.zip": inner}))
    code, report = run_json("scan", ".", cwd=tmp_path)
    assert code == 1 and [f["path"] for f in report["findings"]] == ["b.tar!inner.zip!deep/.env"]


def _stored_zip(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


def test_a_fat_jar_of_stored_jars_is_read(tmp_path: Path, rng: random.Random) -> None:
    """Records of the stored jars inside count for those jars, not for the outer one (found by
    a second review: 12,000 inner classes made the outer jar 'over the member limit')."""
    libs = {
        f"BOOT-INF/lib/l{n}.jar": _stored_zip(
            {f"C{i}.class": b"\xca\xfe" * 20 for i in range(4000)}
        )
        for n in range(3)
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("app.properties", _env(keys.tavily_current(rng)), zipfile.ZIP_DEFLATED)
        for name, data in libs.items():
            archive.writestr(name, data)
    (tmp_path / "app.jar").write_bytes(out.getvalue())
    code, report = run_json("scan", ".", cwd=tmp_path)
    assert code == 1 and report["errors"] == [], report["errors"]
    assert [f["path"] for f in report["findings"]] == ["app.jar!app.properties"]


def _commented_zip(key: str, comment: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(".env", _env(key))
        archive.comment = comment
    return out.getvalue()


def test_a_zip_with_a_comment_behind_a_long_script_is_read(
    tmp_path: Path, rng: random.Random
) -> None:
    script = b"#!/bin/sh\n" + b"# installer padding line\n" * 500 + b"exit 0\n"
    (tmp_path / "setup.run").write_bytes(script + _commented_zip(keys.tavily_current(rng), b"v1"))
    code, report = run_json("scan", ".", cwd=tmp_path)
    assert code == 1 and [f["path"] for f in report["findings"]] == ["setup.run!.env"]


def test_a_large_program_ending_in_a_zip_with_a_long_comment_is_said(tmp_path: Path) -> None:
    """The end record sits pieces before the last one when the comment is long text."""
    rng = random.Random(9)
    comment = b"release notes line\n" * 860  # 16 KiB
    zipped = _commented_zip(keys.tavily_current(rng), comment)
    (tmp_path / "setup.bin").write_bytes(b"MZ" + rng.randbytes(17 << 20) + zipped)
    code, report = run_json("scan", ".", cwd=tmp_path)
    assert code == 3 and "ends as a zip archive does" in report["errors"][0]["message"]


def test_a_program_holding_a_zip_end_record_is_no_corrupt_zip(
    tmp_path: Path, rng: random.Random
) -> None:
    """A self-extractor's program often holds those 4 bytes (zip tools do): what is no zip
    before the real one is not said (found by a second review: exit 3 on /usr/bin/zip)."""
    program = b"\x7fELF" + rng.randbytes(5000) + b"PK\x05\x06" + rng.randbytes(5000)
    (tmp_path / "sfx").write_bytes(program + zip_of({".env": _env(keys.tavily_current(rng))}))
    code, report = run_json("scan", ".", cwd=tmp_path)
    assert code == 1 and report["errors"] == [], report["errors"]


def test_a_tar_whose_first_name_starts_like_a_zip_is_a_tar(
    tmp_path: Path, rng: random.Random
) -> None:
    data = _gnu_tar(
        [
            ("PK\x03\x04-notes.txt", b"hi\n"),
            ("prod.env.gz", gzip.compress(_env(keys.tavily_current(rng)))),
        ]
    )
    (tmp_path / "b.tar").write_bytes(data)
    code, report = run_json("scan", ".", cwd=tmp_path)
    assert code == 1 and [f["path"] for f in report["findings"]] == ["b.tar!prod.env.gz!prod.env"]


@pytest.mark.skipif(shutil.which("tar") is None, reason="GNU tar makes sparse members")
def test_a_sparse_member_holds_only_its_stored_bytes(tmp_path: Path, rng: random.Random) -> None:
    """tarfile gives a sparse member the file's size: sliced by it, its data took the members
    after it along, so their keys were reported twice (found by a second review)."""
    work = tmp_path / "work"
    work.mkdir()
    with (work / "disk.img").open("wb") as sparse:
        sparse.seek(1 << 20)
        sparse.write(b"end\n")
    (work / "z.env").write_bytes(_env(keys.tavily_current(rng)))
    out = tmp_path / "scan"
    out.mkdir()
    subprocess.run(
        ["tar", "-S", "--format=gnu", "-cf", str(out / "backup.tar"), "disk.img", "z.env"],
        cwd=work,
        check=True,
    )
    code, report = run_json("scan", ".", cwd=out)
    assert code == 1 and [f["path"] for f in report["findings"]] == ["backup.tar!z.env"]


def _hidden_entry(name: str, content: bytes, method: int) -> bytes:
    """A local header and its data, as a zip writer makes them, with no central record."""
    one = io.BytesIO()
    with zipfile.ZipFile(one, "w", method) as archive:
        archive.writestr(name, content)
    data = one.getvalue()
    return data[: data.rfind(b"PK\x01\x02")]


def _with_hidden(hidden: bytes, *, before: bool) -> bytes:
    """A zip listing only readme.txt, with ``hidden`` before its entries or between them
    and the central directory (offsets moved as a hand-made jar would have them)."""
    visible = io.BytesIO()
    with zipfile.ZipFile(visible, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("readme.txt", "hello\n")
    data = visible.getvalue()
    central, end = data.rfind(b"PK\x01\x02"), data.rfind(b"PK\x05\x06")
    records, tail = bytearray(data[central:end]), bytearray(data[end:])
    shift = len(hidden)
    if before:
        struct.pack_into("<I", records, 42, struct.unpack_from("<I", records, 42)[0] + shift)
    struct.pack_into("<I", tail, 16, central + shift)
    entries = hidden + data[:central] if before else data[:central] + hidden
    return entries + bytes(records) + bytes(tail)


@pytest.mark.parametrize("method", [zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED])
@pytest.mark.parametrize("before", [True, False])
def test_an_entry_the_central_directory_leaves_out_is_read(
    tmp_path: Path, rng: random.Random, method: int, before: bool
) -> None:
    """Found by an attacker review: a jar whose hidden entry has a local header but no
    central record: unzip and zipfile list readme.txt only, Java's ZipInputStream reads the
    hidden one too, and its key went unreported (exit 0)."""
    key = keys.tavily_current(rng)
    hidden = _hidden_entry("secret.env", f"TAVILY_API_KEY={key}\n".encode() + b"pad\n" * 50, method)
    jar = _with_hidden(hidden, before=before)
    assert zipfile.ZipFile(io.BytesIO(jar)).namelist() == ["readme.txt"]
    (tmp_path / "app.jar").write_bytes(jar)
    code, report = run_json("scan", ".", cwd=tmp_path)
    assert code == 1, report
    assert [f["path"] for f in report["findings"]] == ["app.jar!secret.env"]


def test_zip_local_header_bytes_in_a_program_or_a_stored_member_are_no_entry(
    tmp_path: Path, rng: random.Random
) -> None:
    """A self-extractor's program may hold the four bytes of a local header, and a stored
    jar inside a jar holds its own entries: neither is a hidden entry of the outer zip."""
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("conf.env", f"K={keys.sgai_uuid(rng)}\n")
    outer = io.BytesIO()
    with zipfile.ZipFile(outer, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("lib/inner.jar", inner.getvalue())
    program = b"\x7fELF" + b"\0" * 100 + b"PK\x03\x04 look for this" + b"\0" * 100
    (tmp_path / "setup.bin").write_bytes(program + outer.getvalue())
    code, report = run_json("scan", ".", cwd=tmp_path)
    assert code == 1 and not report["skipped"], report
    assert [f["path"] for f in report["findings"]] == ["setup.bin!lib/inner.jar!conf.env"]


def _local(name: bytes, method: int, content: bytes, stored: bytes) -> bytes:
    return (
        struct.pack(
            "<IHHHHHIIIHH",
            0x04034B50,
            20,
            0,
            method,
            0,
            0,
            zlib.crc32(content),
            len(stored),
            len(content),
            len(name),
            0,
        )
        + name
        + stored
    )


def _central(name: bytes, content: bytes, size: int, offset: int) -> bytes:
    """A stored entry's central record: ``size`` bytes, the CRC of ``content``."""
    return _record(name, zlib.crc32(content), size, size, offset)


def _record(
    name: bytes,
    crc: int,
    size: int,
    length: int,
    offset: int,
    *,
    method: int = 0,
    comment: bytes = b"",
) -> bytes:
    """A central record: ``size`` bytes stored, ``length`` once inflated."""
    head = struct.pack(
        "<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, method, 0, 0, crc, size, length,
        len(name), 0, len(comment), 0, 0, 0, offset,
    )  # fmt: skip
    return head + name + comment


def _end(count: int, size: int, offset: int) -> bytes:
    return struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, count, count, size, offset, 0)


def test_an_entry_a_central_record_claims_as_its_own_data_is_read(
    tmp_path: Path, rng: random.Random
) -> None:
    """Found by a review of the fix above: readme.txt's central record gave it a size that
    ran up to the central directory, so the hidden entry right behind its 6 bytes (which
    its local header, and Java, read) was taken for readme.txt's data and never read."""
    key = keys.tavily_current(rng)
    hidden = f"TAVILY_API_KEY={key}\n".encode()
    squeeze = zlib.compressobj(9, zlib.DEFLATED, -15)
    packed = squeeze.compress(hidden) + squeeze.flush()
    readme = b"hello\n"
    body = _local(b"readme.txt", 0, readme, readme) + _local(b"app.env", 8, hidden, packed)
    claimed = body[30 + len(b"readme.txt") :]  # what the central record says readme.txt is
    central = _central(b"readme.txt", claimed, len(claimed), 0)
    jar = body + central + _end(1, len(central), len(body))
    assert zipfile.ZipFile(io.BytesIO(jar)).namelist() == ["readme.txt"]
    (tmp_path / "app.jar").write_bytes(jar)
    code, report = run_json("scan", ".", cwd=tmp_path)
    assert code == 1, report
    assert [f["path"] for f in report["findings"]] == ["app.jar!app.env"]


def test_hidden_headers_on_one_long_stream_are_bounded_by_the_budget(tmp_path: Path) -> None:
    """Found by the same review: 4,000 local headers all pointing at one 10 MB run of empty
    deflate blocks (no output, then an error) each inflated it again, for minutes. Every
    try, and every byte a try reads, now counts against the archive's byte budget."""
    count = 4000
    front = 30 * count + 16
    headers = b"".join(
        struct.pack(
            "<IHHHHHIIIHH",
            0x04034B50,
            20,
            0,
            8,
            0,
            0,
            0,
            0,
            0,
            min(front - 30 * n - 30, 65535),
            front - 30 * n - 30 - min(front - 30 * n - 30, 65535),
        )
        for n in range(count)
    )
    run = headers.ljust(front, b"\0") + b"\x00\x00\x00\xff\xff" * (2 << 20) + b"\x07"
    content = b"x\n"
    local = _local(b"a.txt", 0, content, content)
    central = _central(b"a.txt", content, len(content), len(run))
    (tmp_path / "s.zip").write_bytes(
        run + local + central + _end(1, len(central), len(run) + len(local))
    )
    code, report = run_json("scan", ".", cwd=tmp_path)
    assert code == 3, report
    [error] = report["errors"]
    assert "archive size limit" in error["message"] and len(error["path"]) < 1000, error


def test_a_program_s_stray_local_header_costs_no_budget(tmp_path: Path, rng: random.Random) -> None:
    """A self-extractor's program holding a local header's four bytes, zeros after them (a
    stored entry of no size): read as up to the next header, the program's megabytes went
    against the byte budget, and the file was "not fully scanned"."""
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("conf.env", f"K={keys.sgai_uuid(rng)}\n")
    program = b"\x7fELF" + b"PK\x03\x04" + bytes(26) + b"\x90" * (2 << 20)
    (tmp_path / "setup.bin").write_bytes(program + inner.getvalue())
    code, report = run_json("scan", ".", "--archive-max-bytes", "1MiB", cwd=tmp_path)
    assert code == 1 and not report["errors"], report
    assert [f["path"] for f in report["findings"]] == ["setup.bin!conf.env"]


def test_an_entry_in_a_central_record_s_comment_is_read(tmp_path: Path, rng: random.Random) -> None:
    """Found by a review: a listed entry whose central record says 0 bytes, and whose local
    header runs into its own central record, up to a local entry in that record's comment:
    Java reads it, and the central directory was taken as read, whole."""
    key = keys.tavily_current(rng)
    hidden = f"TAVILY_API_KEY={key}\n".encode()
    squeeze = zlib.compressobj(9, zlib.DEFLATED, -15)
    packed = squeeze.compress(hidden) + squeeze.flush()
    comment = _local(b"app.env", 8, hidden, packed) + bytes(4)
    name = b"readme.txt"
    record = _record(name, 0, 0, 0, 0, comment=comment)
    runs_to = record[: 46 + len(name)]  # the local header's data: its record, to the comment
    header = _local(name, 0, runs_to, runs_to)[: 30 + len(name)]  # its data is the record
    jar = header + record
    jar += _end(1, len(record), 30 + len(name))
    assert zipfile.ZipFile(io.BytesIO(jar)).namelist() == ["readme.txt"]
    (tmp_path / "app.jar").write_bytes(jar)
    code, report = run_json("scan", ".", cwd=tmp_path)
    assert code == 1, report
    assert [f["path"] for f in report["findings"]] == ["app.jar!app.env"]


class _Unseekable(io.BytesIO):
    """A pipe, as zipfile sees one: it then writes sizes in descriptors (flag 8), as `jar`."""

    def seekable(self) -> bool:
        return False

    def seek(self, *_: object) -> int:
        raise OSError("a pipe")


def test_a_stored_zip_deflated_into_a_jar_gives_the_jar_no_members(
    tmp_path: Path, rng: random.Random
) -> None:
    """Found by a review of the fix above: an entry with its sizes in a descriptor was given
    no data at all, so the local headers of a stored zip inside it, kept whole by deflate's
    stored blocks, became members of the jar: a key twice, once at a path that is not there,
    and "corrupt zip archive" (exit 3) for a jar that `unzip -t` passes."""
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("pkg/cfg.env", f"K={keys.sgai_uuid(rng)}\n")
        archive.writestr("noise.bin", rng.randbytes(150_000))  # deflate stores it raw
        archive.writestr("more.bin", rng.randbytes(60_000))
    outer = _Unseekable()
    with zipfile.ZipFile(outer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("lib/inner.zip", inner.getvalue())
    data = outer.getvalue()
    assert struct.unpack_from("<H", data, 6)[0] & 0x8  # sizes in a descriptor
    assert data.count(b"PK\x03\x04") > 1  # the inner zip's headers, whole in the stream
    (tmp_path / "app.jar").write_bytes(data)
    code, report = run_json("scan", ".", cwd=tmp_path)
    assert code == 1 and not report["errors"], report
    assert [f["path"] for f in report["findings"]] == ["app.jar!lib/inner.zip!pkg/cfg.env"]


def test_where_the_next_header_is_is_looked_up_once() -> None:
    """A stored entry with a descriptor runs to the next signature: thousands of them, each
    searching to the end of 50 MB, took minutes (a review); the places are found once."""
    from sgai_guard.detection.ziplocal import _Headers

    data = b"xxPK\x03\x04yyyPK\x01\x02zzPK\x05\x06"
    headers = _Headers(data)
    assert [headers.after(n) for n in (0, 2, 3, 7, 11, 12, 15, 19)] == [2, 2, 9, 9, 15, 15, 15, 19]


def _deflated(content: bytes) -> bytes:
    squeeze = zlib.compressobj(9, zlib.DEFLATED, -15)
    return squeeze.compress(content) + squeeze.flush()


def test_a_stream_that_runs_on_past_its_central_size_is_read_to_its_end(
    tmp_path: Path, rng: random.Random
) -> None:
    """Found by a review: the central record gave a.txt the size and CRC of its first
    flushed block ("hello"); zipfile stopped there, Java and unzip read the stream on, to
    the key after the flush."""
    key = keys.tavily_current(rng)
    first, rest = b"hello\n", f"TAVILY_API_KEY={key}\n".encode()
    squeeze = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = squeeze.compress(first) + squeeze.flush(zlib.Z_SYNC_FLUSH)
    stream = head + squeeze.compress(rest) + squeeze.flush()
    body = _local(b"a.txt", 8, first + rest, stream)
    central = _record(b"a.txt", zlib.crc32(first), len(head), len(first), 0, method=8)
    (tmp_path / "a.jar").write_bytes(body + central + _end(1, len(central), len(body)))
    assert zipfile.ZipFile(tmp_path / "a.jar").read("a.txt") == first
    code, report = run_json("scan", ".", cwd=tmp_path)
    assert code == 1, report
    assert [f["path"] for f in report["findings"]] == ["a.jar!a.txt"]


def test_a_folder_s_entry_holding_data_is_read(tmp_path: Path, rng: random.Random) -> None:
    """Found by a review: `conf/`, a folder by its name and its size of 0 in the central
    record, held a deflated key; Java and `unzip -p` give it, zipfile gives nothing."""
    content = f"TAVILY_API_KEY={keys.tavily_current(rng)}\n".encode()
    packed = _deflated(content)
    body = _local(b"conf/", 8, content, packed)
    central = _record(b"conf/", zlib.crc32(content), len(packed), 0, 0, method=8)
    (tmp_path / "f.jar").write_bytes(body + central + _end(1, len(central), len(body)))
    code, report = run_json("scan", ".", cwd=tmp_path)
    assert code == 1, report
    assert [f["path"] for f in report["findings"]] == ["f.jar!conf/"]


def test_an_unlisted_entry_claiming_the_next_one_does_not_hide_it(
    tmp_path: Path, rng: random.Random
) -> None:
    """Found by a review: after an unlisted entry the search went on from where it claimed
    to end; a planted header claiming 512 KiB (in a descriptor, where Java never reads one)
    ran over the real hidden entry behind it. Every later header is tried now."""
    content = f"TAVILY_API_KEY={keys.tavily_current(rng)}\n".encode()
    hidden = _local(b"app.env", 8, content, _deflated(content))
    decoy = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 0, 0, 0, 0, 1 << 19, 1 << 19, 0, 0)
    listed = b"x\n"
    front = _local(b"readme.txt", 0, listed, listed) + decoy + hidden + bytes(1 << 19)
    central = _central(b"readme.txt", listed, len(listed), 0)
    (tmp_path / "d.jar").write_bytes(front + central + _end(1, len(central), len(front)))
    code, report = run_json("scan", ".", cwd=tmp_path)
    assert code in (1, 3), report  # 3: the decoy's bytes start like a zip, and are none
    assert "d.jar!app.env" in [f["path"] for f in report["findings"]]


@pytest.mark.parametrize("lie", ["stored", "shorter"])
def test_a_central_record_that_tells_another_story_is_read_as_java_reads_it(
    tmp_path: Path, rng: random.Random, lie: str
) -> None:
    """Found by a review: zipfile follows the central record, Java and `unzip -p` the
    local header. "stored": the central record calls the deflated data stored (zipfile
    gave the raw deflate bytes); "shorter": it gives the stream's first 6 bytes of output
    and their CRC (zipfile stopped there, at the stream's end). The key was missed."""
    content = f"hello\nTAVILY_API_KEY={keys.tavily_current(rng)}\n".encode()
    packed = _deflated(content)
    body = _local(b"a.txt", 8, content, packed)
    if lie == "stored":
        central = _record(b"a.txt", zlib.crc32(packed), len(packed), len(packed), 0)
    else:
        central = _record(b"a.txt", zlib.crc32(content[:6]), len(packed), 6, 0, method=8)
    (tmp_path / "a.jar").write_bytes(body + central + _end(1, len(central), len(body)))
    assert not keys_in(zipfile.ZipFile(tmp_path / "a.jar").read("a.txt"))
    code, report = run_json("scan", ".", cwd=tmp_path)
    assert code == 1, report
    assert [f["path"] for f in report["findings"]] == ["a.jar!a.txt"]


def keys_in(data: bytes) -> bool:
    return b"tvly-" in data


def test_many_records_on_one_stream_stop_at_the_byte_budget(tmp_path: Path) -> None:
    """Found by a review: records all pointing at one local header had its data read again
    for each (600 MB scanned from 6 MB, or a stream of empty blocks inflated a thousand
    times); the listing now stops once the archive's byte budget is spent."""
    content = b"lorem ipsum dolor sit amet\n" * 40_000  # about 1 MiB
    header = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 8, 0, 0, 0, 0, 0, 0, 2, 0) + b"d/"
    body = header + content
    records = b"".join(
        _record(b"d/", 0, 0, 0, 0) for _ in range(500)
    )  # folders, as far as the central directory says
    (tmp_path / "f.zip").write_bytes(body + records + _end(500, len(records), len(body)))
    code, report = run_json("scan", ".", "--archive-max-bytes", "8MiB", cwd=tmp_path)
    assert code == 3, report
    assert report["scanned"]["bytes"] < 16 << 20, report["scanned"]
    assert any("archive size limit" in e["message"] for e in report["errors"]), report


def test_both_records_saying_fewer_bytes_than_the_stream_makes(
    tmp_path: Path, rng: random.Random
) -> None:
    """Found by a review of the fix above: the local header and the central record both
    gave 6 bytes and their CRC, the stream went on to the key, and `unzip -p` wrote it all
    while zipfile stopped at 6 bytes. Deflated members are now read from the local header
    to the stream's end, as Java and unzip read them."""
    content = f"hello\nTAVILY_API_KEY={keys.tavily_current(rng)}\n".encode()
    packed = _deflated(content)
    crc6 = zlib.crc32(content[:6])
    header = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0, crc6, len(packed), 6, 5, 0)
    body = header + b"a.txt" + packed
    central = _record(b"a.txt", crc6, len(packed), 6, 0, method=8)
    (tmp_path / "a.jar").write_bytes(body + central + _end(1, len(central), len(body)))
    assert zipfile.ZipFile(tmp_path / "a.jar").read("a.txt") == b"hello\n"
    code, report = run_json("scan", ".", cwd=tmp_path)
    assert code == 1, report
    assert [f["path"] for f in report["findings"]] == ["a.jar!a.txt"]


def test_a_record_pointing_into_a_member_s_data_covers_nothing(
    tmp_path: Path, rng: random.Random
) -> None:
    """Found by the same review: a second central record pointed into readme.txt's data,
    at bytes that are no local header but claim a size running over the real hidden entry
    after readme.txt; read as a local header, they covered it, and the key was missed."""
    content = f"TAVILY_API_KEY={keys.tavily_current(rng)}\n".encode()
    hidden = _local(b"config.env", 8, content, _deflated(content))
    prefix = b"notes\n"
    covering = 1 + len(hidden)
    fake = b"XXXX" + struct.pack("<HHHHHIIIHH", 20, 0, 0, 0, 0, 0, covering, covering, 0, 0)
    readme = prefix + fake + b"\n"
    body = _local(b"readme.txt", 0, readme, readme) + hidden
    records = _central(b"readme.txt", readme, len(readme), 0) + _record(
        b"x.txt", 0, covering, 10, 30 + len(b"readme.txt") + len(prefix), method=8
    )
    (tmp_path / "p.jar").write_bytes(body + records + _end(2, len(records), len(body)))
    code, report = run_json("scan", ".", cwd=tmp_path)
    assert code in (1, 3), report  # 3: x.txt's record points at no local header
    assert [f["path"] for f in report["findings"]] == ["p.jar!config.env"]


def test_a_key_before_a_broken_spot_in_a_stream_is_read(tmp_path: Path, rng: random.Random) -> None:
    """Found by a review: zlib drops what its failing call made, so a key in the last MiB
    before an invalid block was lost and the member passed as whole (exit 0); Java and
    `unzip -p` give the key, then complain. It is kept now, and the member is corrupt."""
    text = b"".join(b"line %d of the report\n" % n for n in range(60_000))
    key = f"TAVILY_API_KEY={keys.tavily_current(rng)}\n".encode()
    squeeze = zlib.compressobj(6, zlib.DEFLATED, -15)
    packed = squeeze.compress(text + key + text[:100_000]) + squeeze.flush(zlib.Z_SYNC_FLUSH)
    packed += b"\x07\x00\x00\x00"  # a block of the reserved type: invalid
    content = text + key + text[:100_000]
    body = _local(b"report.txt", 8, content, packed)
    central = _record(b"report.txt", zlib.crc32(content), len(packed), len(content), 0, method=8)
    (tmp_path / "r.zip").write_bytes(body + central + _end(1, len(central), len(body)))
    code, report = run_json("scan", ".", cwd=tmp_path)
    assert code == 3, report
    assert [f["path"] for f in report["findings"]] == ["r.zip!report.txt"]
    assert "corrupt member" in report["errors"][0]["message"]


@settings(max_examples=200, deadline=None)
@given(
    places=st.lists(st.integers(0, 400), max_size=30),
    asked=st.lists(st.integers(0, 420), min_size=1, max_size=40),
)
def test_the_header_finder_answers_as_a_search_would_in_any_order(
    places: list[int], asked: list[int]
) -> None:
    """Records may ask in any order (a review: two headers taken in turn defeated a cache
    of the last search, 69 s); every answer is the next signature, as a plain search says."""
    from sgai_guard.detection.ziplocal import _SIGNATURES, _Headers

    data = bytearray(430)
    for n, place in enumerate(places):
        data[place : place + 4] = _SIGNATURES[n % 3]
    blob = bytes(data)
    headers = _Headers(blob)
    for start in asked:
        found = [blob.find(sig, start) for sig in _SIGNATURES]
        expected = min((f for f in found if f != -1), default=len(blob))
        assert headers.after(start) == expected, (start, sorted(places))


def test_a_tar_whose_first_header_has_no_magic_is_opened(
    tmp_path: Path, rng: random.Random
) -> None:
    """Found by a review: a GNU long-name header with its magic zeroed (checksum fixed):
    GNU tar and tarfile read it, and the gzip member in it holding a key was never opened
    (only a v7 type byte was taken for a tar without magic): exit 0."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.GNU_FORMAT) as archive:
        content = gzip.compress(f"K={keys.tavily_current(rng)}\n".encode())
        info = tarfile.TarInfo("deep/" + "n" * 120 + "/cfg.env.gz")  # a long-name header
        info.size = len(content)
        archive.addfile(info, io.BytesIO(content))
    data = bytearray(out.getvalue())
    assert data[156:157] == b"L"
    data[257:265] = bytes(8)  # no magic
    data[148:156] = b" " * 8
    data[148:156] = b"%06o\0 " % sum(data[:512])
    with tarfile.open(fileobj=io.BytesIO(bytes(data))) as read:
        assert len(read.getnames()) == 1  # tarfile reads it
    (tmp_path / "bundle.tar").write_bytes(bytes(data))
    code, report = run_json("scan", ".", cwd=tmp_path)
    assert code == 1, report
    assert [f["path"].split("!")[0] for f in report["findings"]] == ["bundle.tar"]
