"""Keys inside compressed files and archives, in every mode, and hostile archives."""

from __future__ import annotations

import gzip
import io
import json
import random
import zipfile
from pathlib import Path
from typing import Any

import pytest

from tests import keys
from tests.archives import KINDS, SINGLE_STREAM, tar_of, zip_of
from tests.cli_helpers import peak_kib, run_cli, run_json
from tests.gitrepo import Repo


def _nested(kind: str, rng: random.Random) -> tuple[str, bytes, str, str]:
    """A container of ``kind`` holding inner.zip, which holds deep/.env with a key on line 2.
    Returns (file name, bytes, the member path under the file, the key)."""
    key = keys.sgai_uuid(rng)
    inner = zip_of({"deep/.env": f"# settings\nSGAI_API_KEY={key}\n".encode()})
    name = f"bundle{kind}"
    if kind in SINGLE_STREAM:
        member = "!bundle!deep/.env"
        return name, KINDS[kind]("bundle", inner), member, key
    return name, KINDS[kind]("inner.zip", inner), "!inner.zip!deep/.env", key


def _places(report: dict[str, Any]) -> list[tuple[str, int, int]]:
    return sorted((f["path"], f["line"], f["column"]) for f in report["findings"])


@pytest.mark.parametrize("kind", list(KINDS))
def test_nested_key_found_in_every_mode(tmp_path: Path, rng: random.Random, kind: str) -> None:
    name, data, member, _ = _nested(kind, rng)
    repo = Repo(tmp_path)
    repo.commit("root")
    repo.write(f"dist/{name}", data)
    expected = [(f"dist/{name}{member}", 2, 14)]
    code, report = run_json("scan", ".", cwd=tmp_path)
    assert code == 1 and _places(report) == expected, report
    repo.add(f"dist/{name}")
    code, report = run_json("scan", "--staged", cwd=tmp_path)
    assert code == 1 and _places(report) == expected
    where = f"{expected[0][0]}:2:14"
    hook = run_cli("hook", "--", f"dist/{name}", cwd=tmp_path)
    assert hook.returncode == 1 and where in hook.stdout
    repo.commit("bundle")
    line = f"refs/heads/main {repo.head()} refs/heads/main {'0' * 40}\n".encode()
    push = run_cli("hook", "--pre-push", cwd=tmp_path, stdin=line)
    assert push.returncode == 1 and where in push.stdout
    code, report = run_json("audit", ".", cwd=tmp_path)
    assert code == 1 and _places(report) == expected
    code, report = run_json("scan", "--range", "HEAD~1..HEAD", cwd=tmp_path)
    assert code == 1 and _places(report) == expected
    code, report = run_json("ci", "--base", "HEAD~1", cwd=tmp_path)
    assert code == 1 and _places(report) == expected


def test_gzipped_log_and_placeholder_in_an_archive(tmp_path: Path, rng: random.Random) -> None:
    key = keys.tavily_current(rng)
    (tmp_path / "transcript.json.gz").write_bytes(gzip.compress(f'{{"k": "{key}"}}'.encode()))
    placeholders = "\n".join(f"K = '{p}'" for p in keys.placeholders()).encode()
    (tmp_path / "docs.zip").write_bytes(zip_of({"README.md": placeholders}))
    code, report = run_json("scan", ".", cwd=tmp_path)
    assert code == 1 and _places(report) == [("transcript.json.gz!transcript.json", 1, 8)]
    assert all(s["path"].startswith("docs.zip!") for s in report["suppressed"])


def test_allowlist_and_fingerprints_for_members(tmp_path: Path, rng: random.Random) -> None:
    key = keys.sgai_uuid(rng)
    (tmp_path / "app.zip").write_bytes(zip_of({"config/.env": f"K={key}\n".encode()}))
    (tmp_path / "plain.env").write_text(f"K={key}\n")
    code, report = run_json("scan", ".", cwd=tmp_path)
    prints = {f["path"]: f["fingerprint"] for f in report["findings"]}
    assert prints["app.zip!config/.env"] == prints["plain.env"]
    (tmp_path / ".sgai-guard.toml").write_text('exclude-paths = ["app.zip!config/.env"]\n')
    code, report = run_json("scan", ".", cwd=tmp_path)
    assert code == 1 and _places(report) == [("plain.env", 1, 3)]


def test_an_archive_in_history_is_opened_once(tmp_path: Path, rng: random.Random) -> None:
    repo = Repo(tmp_path)
    data = zip_of({"a/.env": f"K={keys.sgai_uuid(rng)}\n".encode()})
    repo.write("one/app.zip", data)
    repo.write("two/app.zip", data)
    repo.commit("the same archive twice")
    code, report = run_json("audit", ".", cwd=tmp_path)
    paths = sorted(f["path"] for f in report["findings"])
    assert code == 1 and paths == ["one/app.zip!a/.env", "two/app.zip!a/.env"]
    assert report["scanned"]["files"] == 2  # the archive blob and its one member, once


# --- hostile archives: listed as not fully scanned, exit 3, memory bounded ---------------------


def _bomb_42(depth: int = 3, width: int = 8) -> bytes:
    """42.zip in small: zips of zips, each leaf a large run of zeros."""
    data = zip_of({f"zeros{i}.bin": b"\0" * (8 << 20) for i in range(2)})
    for level in range(depth):
        data = zip_of({f"layer{level}-{i}.zip": data for i in range(width)})
    return data


def _many_members() -> bytes:
    return zip_of({f"m/{i}.txt": b"x" for i in range(100_000)})


HOSTILE = {
    "42.zip-style bomb": ("bomb.zip", _bomb_42, "not fully scanned"),
    "gzip bomb": ("bomb.gz", lambda: gzip.compress(b"\0" * (200 << 20)), "ratio limit"),
    "100,000 members": ("many.zip", _many_members, "member count limit"),
    "encrypted zip": ("secret.zip", lambda: zip_of({"a.env": b"x"}, encrypted=True), "encrypted"),
    "truncated gzip": (
        "cut.gz",
        lambda: gzip.compress(random.Random(5).randbytes(50_000))[:20_000],
        "truncated",
    ),
    "corrupt zip": ("bad.zip", lambda: b"PK\x03\x04" + b"\xff" * 500, "corrupt zip"),
}


@pytest.mark.parametrize("case", list(HOSTILE))
def test_hostile_archive_is_not_fully_scanned(tmp_path: Path, case: str) -> None:
    name, build, reason = HOSTILE[case]
    (tmp_path / name).write_bytes(build())
    (tmp_path / "ok.txt").write_text("fine\n")
    proc, peak = peak_kib(["scan", ".", "--format", "json"], tmp_path)
    report = json.loads(proc.stdout)
    assert proc.returncode == 3, report
    assert any(reason in e["message"] for e in report["errors"]), report["errors"]
    assert peak < 400 * 1024, peak  # KiB: bounded whatever the archive claims


def test_escaping_and_symlink_member_names_are_only_labels(
    tmp_path: Path, rng: random.Random
) -> None:
    key = keys.sgai_uuid(rng)
    (tmp_path / "scan").mkdir()
    (tmp_path / "scan" / "evil.zip").write_bytes(
        zip_of({"../../etc/x": f"K={key}\n".encode(), "/abs/y": b"x"})
    )
    (tmp_path / "scan" / "links.tar").write_bytes(tar_of({"a.txt": b"x"}, {"l": "/etc/passwd"}))
    code, report = run_json("scan", ".", cwd=tmp_path / "scan")
    assert code == 1 and _places(report) == [("evil.zip!../../etc/x", 1, 3)]
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["evil.zip", "links.tar", "scan"]


def test_limits_are_options_and_configuration(tmp_path: Path, rng: random.Random) -> None:
    inner = zip_of({"k.env": f"K={keys.sgai_uuid(rng)}\n".encode()})
    (tmp_path / "outer.zip").write_bytes(zip_of({"inner.zip": inner}))
    assert run_cli("scan", ".", cwd=tmp_path).returncode == 1
    shallow = run_cli("scan", ".", "--archive-depth", "1", "--format", "json", cwd=tmp_path)
    assert shallow.returncode == 3 and "nested more than 1" in shallow.stdout
    (tmp_path / ".sgai-guard.toml").write_text("archive-depth = 0\n")
    assert run_cli("scan", ".", cwd=tmp_path).returncode == 0  # not opened, as configured
    (tmp_path / ".sgai-guard.toml").write_text('archive-max-members = "many"\n')
    bad = run_cli("scan", ".", cwd=tmp_path)
    assert bad.returncode == 2 and "archive-max-members" in bad.stderr


def test_large_archive_in_pieces_is_reassembled(tmp_path: Path, rng: random.Random) -> None:
    """A zip larger than one 8 MiB piece is still opened (its directory is at the end)."""
    key = keys.sgai_uuid(rng)
    filler = rng.randbytes(12 << 20)
    data = zip_of({"noise.bin": filler, "conf/.env": f"K={key}\n".encode()})
    assert len(data) > 8 << 20
    (tmp_path / "big.zip").write_bytes(data)
    code, report = run_json("scan", ".", cwd=tmp_path)
    assert code == 1 and _places(report) == [("big.zip!conf/.env", 1, 3)]
    assert zipfile.is_zipfile(tmp_path / "big.zip")


def test_a_key_in_an_uncompressed_member_is_reported_once(
    tmp_path: Path, rng: random.Random
) -> None:
    key = keys.sgai_uuid(rng)
    (tmp_path / "plain.tar").write_bytes(tar_of({"conf/.env": f"K={key}\n".encode()}))
    stored = io.BytesIO()
    with zipfile.ZipFile(stored, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("app/.env", f"K={key}\n")
    (tmp_path / "stored.zip").write_bytes(stored.getvalue())
    (tmp_path / "a").write_text(f"K={key}\n")  # a file merely named like a container chain
    (tmp_path / "a!b").write_text(f"K={key}\n")
    code, report = run_json("scan", ".", cwd=tmp_path)
    assert code == 1
    assert _places(report) == [
        ("a", 1, 3),
        ("a!b", 1, 3),
        ("plain.tar!conf/.env", 1, 3),
        ("stored.zip!app/.env", 1, 3),
    ]
