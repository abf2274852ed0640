"""Fleet audits of 50 generated repositories, three ways, in one run:

    python -m bench.fleet [--repos 50] [--commits 300] [--size 8192]

1. serially, one `sgai-guard audit REPO` process at a time (what a shell loop does);
2. `sgai-guard audit --targets-file T --out OUT` on the local pool (one process per core);
3. the same with `--dask ADDRESS` on a local Dask cluster (a scheduler and two single-thread
   workers, started before the clock starts, as an existing cluster would be; with the
   worker settings the README recommends: tests/fleet_world.py WORKER_ENV).

Rounds run round-robin and medians are shown: compare ratios, not absolute times.

Each repository has a modest history (``--commits`` commits of ``--size`` bytes of text) and a
few keys. Goals: the pool at least 1.6x faster than serial on 2 cores; Dask at most 15 %
slower than the pool. Every way must find the same keys.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.fleet_repos import key, with_history
from tests.fleet_world import dask_cluster
from tests.gitrepo import git_env

WAYS = (
    "serial, one process per repository",
    "local pool (audit --targets-file)",
    "Dask, scheduler + 2 workers",
)


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sgai_guard", *args],
        cwd=cwd,
        env=git_env(),
        capture_output=True,
        text=True,
        check=False,
    )


def build(root: Path, repos: int, commits: int, size: int) -> list[Path]:
    rng = random.Random("bench-fleet")
    paths = []
    for n in range(repos):
        path = root / f"repo{n:02d}"
        with_history(path, commits, rng, [key(rng, n + i) for i in range(n % 4)], size=size)
        paths.append(path)
    return paths


def serial(paths: list[Path], cwd: Path) -> tuple[float, int]:
    started, found = time.perf_counter(), 0
    for path in paths:
        proc = _cli("audit", str(path), "--format", "json", cwd=cwd)
        assert proc.returncode in (0, 1), proc.stderr
        found += len(json.loads(proc.stdout)["findings"])
    return time.perf_counter() - started, found


def fleet(targets: Path, out: Path, *extra: str) -> tuple[float, int]:
    started = time.perf_counter()
    proc = _cli(
        "audit",
        "--targets-file",
        str(targets),
        "--out",
        str(out),
        "--format",
        "json",
        *extra,
        cwd=out.parent,
    )
    elapsed = time.perf_counter() - started
    assert proc.returncode in (0, 1), proc.stderr
    return elapsed, len(json.loads(proc.stdout)["findings"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repos", type=int, default=50)
    parser.add_argument("--commits", type=int, default=300)
    parser.add_argument("--size", type=int, default=8192)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-fleet-") as scratch:
        root = Path(scratch)
        paths = build(root, args.repos, args.commits, args.size)
        targets = root / "targets.txt"
        targets.write_text("".join(f"{p}\n" for p in paths))
        times: dict[str, list[float]] = {name: [] for name in WAYS}
        counts: set[int] = set()
        with dask_cluster(root / "dask") as cluster:
            for n in range(args.rounds):  # round-robin: noise hits every way alike
                for name, (seconds, count) in zip(
                    WAYS,
                    (
                        serial(paths, root),
                        fleet(targets, root / f"pool{n}"),
                        fleet(targets, root / f"dask{n}", "--dask", cluster.address),
                    ),
                    strict=True,
                ):
                    times[name].append(seconds)
                    counts.add(count)
    rows = [(name, statistics.median(times[name]), min(counts)) for name in WAYS]
    pool = rows[1][1]
    print(
        f"{args.repos} repositories x {args.commits} commits of {args.size} bytes, "
        f"median of {args.rounds} rounds"
    )
    print(f"{'way':<38} {'seconds':>8} {'findings':>9} {'vs pool':>8}")
    for name, seconds, found in rows:
        print(f"{name:<38} {seconds:8.2f} {found:9d} {seconds / pool:7.2f}x")
    print(f"pool speed-up over serial: {rows[0][1] / pool:.2f}x (goal >= 1.6x)")
    print(f"Dask cost over pool: {(rows[2][1] / pool - 1) * 100:+.1f} % (goal <= +15 %)")
    assert len(counts) == 1, "the three ways disagree"


if __name__ == "__main__":
    main()
