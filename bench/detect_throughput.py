"""Detector throughput against the floor of reading the same bytes in the same process.

    python bench/detect_throughput.py [--mb 200] [--file-kb 10]

Prints MB/s for (1) reading every file, (2) reading and running the detector, (3) reading and
running the whole scan engine (findings, fingerprints, policy), and each ratio to the floor.
The goal for (2) is within 2x of (1).
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.corpus import build
from sgai_guard.detection.detect import Detector
from sgai_guard.engine.scan import scan
from sgai_guard.models import Blob


def _timed(label: str, work: Callable[[], int], size: int, floor: float | None) -> float:
    gc.collect()
    best = float("inf")
    found = 0
    for _ in range(3):
        start = time.perf_counter()
        found = work()
        best = min(best, time.perf_counter() - start)
    rate = size / best / 1e6
    ratio = f"{best / floor:5.2f}x" if floor else "  1.00x"
    print(f"{label:34s} {best:7.3f} s {rate:9.1f} MB/s  {ratio}  ({found} found)")
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mb", type=int, default=200)
    parser.add_argument("--file-kb", type=int, default=10)
    parser.add_argument("--dense", action="store_true", help="every file uses both SDKs")
    parser.add_argument("--corpus", type=Path, default=Path(__file__).parent / ".corpus")
    args = parser.parse_args()
    files = build(args.corpus, args.mb, args.file_kb, sdk_every=1 if args.dense else 20)
    size = sum(f.stat().st_size for f in files)
    print(f"corpus: {len(files)} files, {size / 1e6:.1f} MB under {args.corpus}")

    def read_only() -> int:
        return sum(len(f.read_bytes()) > 0 for f in files) - len(files)

    def detect() -> int:
        detector = Detector()
        return sum(len(detector.detect(f.read_bytes())) for f in files)

    def detect_plain() -> int:
        detector = Detector(allow_hyperscan=False)
        return sum(len(detector.detect(f.read_bytes())) for f in files)

    def engine() -> int:
        def blobs() -> Iterator[Blob]:
            for f in files:
                yield Blob(f.name, f.read_bytes())

        return len(scan(blobs()).findings)

    floor = _timed("floor: read every file", read_only, size, None)
    _timed("read + detect", detect, size, floor)
    _timed("read + detect (no hyperscan)", detect_plain, size, floor)
    _timed("read + scan engine", engine, size, floor)


if __name__ == "__main__":
    main()
