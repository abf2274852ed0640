"""The audit's triage under many findings and many refs (issue 17, goal 5): N commits each
adding a distinct key, optionally T tags, against the same history with no keys.

    python -m bench.triage_stress [--commits 2000] [--tags 500] [--gitleaks P] [--betterleaks P]

Goal: 2,000 distinct keys in 2,000 commits cost at most 2 s more than the keyless audit, and
tags add little. Histories are built with `git fast-import` (identity and dates pinned).
gitleaks and betterleaks, restricted to the two providers' rules, scan each history beside
it when installed (see bench/peers.py).
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import peers
from tests import keys


def build(root: Path, commits: int, tags: int, with_keys: bool) -> Path:
    repo = root / f"h-{commits}-{tags}-{int(with_keys)}.git"
    subprocess.run(["git", "init", "-q", "--bare", str(repo)], check=True)
    rng = random.Random(commits * 7 + tags)
    out: list[bytes] = []
    for n in range(commits):
        body = f"K{n}={keys.tavily_current(rng)}\n" if with_keys else f"value {n} {rng.random()}\n"
        data = body.encode()
        out.append(
            b"commit refs/heads/main\n"
            + f"mark :{n + 1}\n".encode()
            + f"committer T <t@example.invalid> {1700000000 + n * 60} +0000\n".encode()
            + f"data {len(f'c{n}')}\nc{n}\n".encode()
            + (f"from :{n}\n".encode() if n else b"")
            + f"M 100644 inline conf/file{n}.env\ndata {len(data)}\n".encode()
            + data
            + b"\n"
        )
    for t in range(tags):
        target = 1 + (t * commits) // max(tags, 1)
        out.append(f"reset refs/tags/v{t}\nfrom :{target}\n\n".encode())
    subprocess.run(["git", "fast-import", "--quiet"], cwd=repo, input=b"".join(out), check=True)
    return repo


def audit_seconds(repo: Path, rounds: int) -> tuple[float, int]:
    argv = [sys.executable, "-m", "sgai_guard", "audit", str(repo), "--format", "json"]
    return best_seconds(argv, rounds)


def best_seconds(argv: list[str], rounds: int) -> tuple[float, int]:
    best, code = float("inf"), 0
    for _ in range(rounds):
        start = time.perf_counter()
        proc = subprocess.run(argv, capture_output=True, check=False)
        best, code = min(best, time.perf_counter() - start), proc.returncode
    return best, code


def _peer_cells(args: argparse.Namespace, repo: Path, folder: Path) -> str:
    """Each peer's best time on ``repo``, and how many findings its report holds."""
    cells = ""
    for _, argv, report in peers.commands(args, repo, folder, history=True):
        seconds, code = best_seconds(argv, args.rounds)
        found = peers.findings(report) or 0
        report.unlink(missing_ok=True)
        cells += f" {seconds:.2f} s, {found} found (exit {code}) |"
    return cells


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--commits", type=int, default=2000)
    parser.add_argument("--tags", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=2)
    peers.add_options(parser)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)  # the histories, and the peers' rules and reports
        others = [name for name, _, _ in peers.commands(args, root, root, history=True)]
        head = f"| history | audit (best of {args.rounds}) | extra over the keyless audit |"
        print(head + "".join(f" {name} |" for name in others))
        print("|---|---|---|" + "---|" * len(others))
        keyless = build(root, args.commits, 0, False)
        floor, _ = audit_seconds(keyless, args.rounds)
        cells = _peer_cells(args, keyless, root)
        print(f"| {args.commits} commits, no keys | {floor:.2f} s | |{cells}")
        for tags in (0, args.tags):
            repo = build(root, args.commits, tags, True)
            seconds, code = audit_seconds(repo, args.rounds)
            label = f"{args.commits} commits each adding a key" + (f", {tags} tags" if tags else "")
            extra = f"{seconds - floor:+.2f} s"
            cells = _peer_cells(args, repo, root)
            print(f"| {label} (exit {code}) | {seconds:.2f} s | {extra} |{cells}")


if __name__ == "__main__":
    main()
