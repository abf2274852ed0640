"""Scanning compressed files and archives against the floor of merely decompressing them.

    python bench/archive_throughput.py [--mb 100] [--per-archive 40]

Builds a corpus of gzip files, zip archives and .tar.gz bundles from the generated source
text of bench/corpus.py (keys sprinkled in), then times, best of 3 in one process:
(1) the floor: decompressing every member with the standard library and nothing else;
(2) sgai-guard's engine scanning the compressed files (it opens them itself).
Prints MB/s of uncompressed content and the ratio to the floor.
"""

from __future__ import annotations

import argparse
import gc
import gzip
import io
import sys
import tarfile
import time
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.corpus import build
from sgai_guard.detection.magic import magic
from sgai_guard.engine.scan import scan
from sgai_guard.models import Blob


def _pack(files: list[Path], out: Path, per: int) -> list[Path]:
    """Every `per` source files become one .zip, one .tar.gz, or `per` .gz files, in turn."""
    out.mkdir(parents=True, exist_ok=True)
    made: list[Path] = []
    for n, start in enumerate(range(0, len(files), per)):
        group = files[start : start + per]
        kind = ("zip", "tgz", "gz")[n % 3]
        if kind == "zip":
            made.append(out / f"{n}.zip")
            with zipfile.ZipFile(made[-1], "w", zipfile.ZIP_DEFLATED) as archive:
                for f in group:
                    archive.write(f, f.name)
        elif kind == "tgz":
            buffer = io.BytesIO()
            with tarfile.open(fileobj=buffer, mode="w") as archive:
                for f in group:
                    archive.add(f, f.name)
            made.append(out / f"{n}.tar.gz")
            made[-1].write_bytes(gzip.compress(buffer.getvalue(), 6))
        else:
            for f in group:
                made.append(out / f"{n}-{f.name}.gz")
                made[-1].write_bytes(gzip.compress(f.read_bytes(), 6))
    return made


def _decompress_only(paths: list[Path]) -> int:
    total = 0
    for path in paths:
        data = path.read_bytes()
        if path.suffix == ".zip":
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                total += sum(len(archive.read(i)) for i in archive.infolist())
        elif path.name.endswith(".tar.gz"):
            with tarfile.open(fileobj=io.BytesIO(gzip.decompress(data)), mode="r:") as archive:
                total += sum(len(archive.extractfile(m).read()) for m in archive if m.isfile())  # type: ignore[union-attr]
        else:
            total += len(gzip.decompress(data))
    return total


def _engine(paths: list[Path]) -> int:
    def blobs() -> Iterator[Blob]:
        for path in paths:
            yield Blob(path.name, path.read_bytes())

    result = scan(blobs())
    assert not result.errors, result.errors[:3]
    return len(result.findings)


def _best(work: Callable[[], int]) -> tuple[float, int]:
    gc.collect()
    best, value = float("inf"), 0
    for _ in range(3):
        start = time.perf_counter()
        value = work()
        best = min(best, time.perf_counter() - start)
    return best, value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mb", type=int, default=100)
    parser.add_argument("--per-archive", type=int, default=40)
    parser.add_argument("--corpus", type=Path, default=Path(__file__).parent / ".corpus")
    args = parser.parse_args()
    files = build(args.corpus, args.mb, 10, sdk_every=20)
    packed = _pack(files, args.corpus.parent / ".archives", args.per_archive)
    assert all(magic(p.read_bytes()[:512]) for p in packed)
    compressed = sum(p.stat().st_size for p in packed)
    floor, size = _best(lambda: _decompress_only(packed))
    ours, found = _best(lambda: _engine(packed))
    print(
        f"corpus: {len(packed)} compressed files, {compressed / 1e6:.1f} MB holding "
        f"{size / 1e6:.1f} MB of text"
    )
    rate = size / floor / 1e6
    print(f"{'floor: decompress every member':36s} {floor:7.3f} s {rate:8.1f} MB/s  1.00x")
    print(
        f"{'sgai-guard engine (opens them itself)':36s} {ours:7.3f} s "
        f"{size / ours / 1e6:8.1f} MB/s  {ours / floor:4.2f}x  ({found} findings)"
    )


if __name__ == "__main__":
    main()
