"""Detection without cliffs (issue 17, goal 5): many keys on one long line, a long file of
prefixes that are not keys, and one file holding many keys. Prints seconds and the peak RSS of
a `sgai-guard scan` process for each, and of gitleaks and betterleaks (restricted to the two
providers' rules) beside it when installed (see bench/peers.py).

    python -m bench.detect_stress [--mb 50] [--gitleaks PATH] [--betterleaks PATH]
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import peers
from tests import keys


def _run(argv: list[str]) -> tuple[float, float]:
    """Seconds and peak RSS (MiB) of one child process."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return time.perf_counter() - start, usage.ru_maxrss / 1024


def _cases(root: Path, mb: int) -> dict[str, Path]:
    rng = random.Random(17)
    size = mb * 1024 * 1024
    cases = {}
    for n in (1, 100, 1000):
        found = [keys.tavily_current(rng) for _ in range(n)]
        filler = b"x" * ((size - n * 60) // max(n, 1))
        line = b"".join(filler + b" " + k.encode() + b" " for k in found)
        path = root / f"line-{n}.txt"
        path.write_bytes(line + b"\n")
        cases[f"{mb} MB single line, {n} key(s)"] = path
    prefixes = root / "prefixes.txt"
    prefixes.write_bytes(b"tvly-" * (size // 5))
    cases[f"{mb} MB of tvly- prefixes, no key"] = prefixes
    many = root / "many.env"
    many.write_text("".join(f"K{n}={keys.tavily_current(rng)}\n" for n in range(25_000)))
    cases["one file, 25,000 keys"] = many
    return cases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mb", type=int, default=50)
    parser.add_argument("--write-cases", type=Path, help=argparse.SUPPRESS)
    peers.add_options(parser)
    args = parser.parse_args()
    if args.write_cases:
        for label, path in _cases(args.write_cases, args.mb).items():
            print(f"{path}\t{label}")
        return
    with tempfile.TemporaryDirectory() as tmp:
        # The cases are written by a child: a child started from this process would otherwise
        # report this process's own peak (Linux carries the parent's high-water mark into a
        # vfork-ed child's ru_maxrss), as it did before 2026-12-02 (166 MiB for every case).
        listing = subprocess.run(
            [
                sys.executable,
                "-m",
                "bench.detect_stress",
                "--mb",
                str(args.mb),
                "--write-cases",
                tmp,
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        cases = dict(reversed(line.split("\t", 1)) for line in listing.splitlines())
        folder = Path(tmp)  # the cases, and the peers' rules and reports
        others = [name for name, _, _ in peers.commands(args, folder, folder, history=False)]
        print("| case | sgai-guard s | MiB |" + "".join(f" {name} s | MiB |" for name in others))
        print("|---|---|---|" + "---|---|" * len(others))
        for label, path in cases.items():
            argv = [sys.executable, "-m", "sgai_guard", "scan", str(path), "--format", "json"]
            runs = [_run(argv)]
            runs += [_run(cmd) for _, cmd, _ in peers.commands(args, path, folder, history=False)]
            cells = "".join(f" {seconds:.2f} | {rss:.0f} |" for seconds, rss in runs)
            print(f"| {label} |{cells}")


if __name__ == "__main__":
    main()
