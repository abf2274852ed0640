"""Whole-history audit speed and memory, side by side with the cat-file floor and peers.

    python bench/history.py [--repo BARE_REPO] [--runs 3] [--complete-copy]

Without --repo it builds a synthetic history (bench/synthetic_history.py). Each tool reads
the same repository; peers (gitleaks, betterleaks, kingfisher) are measured when found on
PATH or given with --gitleaks/--betterleaks/--kingfisher, with only the two providers' rules.
Prints wall time, MiB/s of unique blob bytes, peak RSS, and each ratio to the floor. With
--complete-copy, a mirror that lacks objects is also audited as a copy without the refs that
reach them (bench/complete_copy.py, written next to the mirror as NAME-complete.git, hard
links), round-robin with the mirror: the cost of missing objects.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from bench import peers  # noqa: E402
from bench.complete_copy import complete_copy, rev_copy  # noqa: E402
from bench.synthetic_history import build  # noqa: E402


@dataclass
class Run:
    name: str
    seconds: float
    peak_mib: float
    note: str


def _popen_rss(argv: list[str]) -> tuple[float, float, int]:
    """Wall time, peak RSS (MiB) of the process and its waited-for children, exit code."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    return time.perf_counter() - start, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status)


def _best(name: str, argv: list[str], runs: int, report: Path | None = None) -> Run:
    wall, peak, code = min(_popen_rss(argv) for _ in range(runs))
    return Run(name, wall, peak, f"exit {code}{_count(report)}")


def _count(report: Path | None) -> str:
    """How many findings a peer wrote, from its JSON or JSONL report."""
    found = peers.findings(report) if report is not None else None
    return "" if found is None else f"; {found} findings"


def _blob_bytes(repo: Path) -> tuple[int, int]:
    out = subprocess.run(
        ["git", "cat-file", "--batch-all-objects", "--batch-check=%(objecttype) %(objectsize)"],
        cwd=repo,
        capture_output=True,
        check=True,
        text=True,
    ).stdout
    sizes = [int(line.split()[1]) for line in out.splitlines() if line.startswith("blob ")]
    return len(sizes), sum(sizes)


def _sgai_guard(repos: dict[str, Path], runs: int) -> list[Run]:
    """Each of ``repos`` audited ``runs`` times, round-robin, in a child that prints its own
    peak RSS (git's memory is git's, not ours); the best run of each."""
    best: dict[str, Run] = {}
    for _ in range(runs):
        for name, repo in repos.items():
            run = _audit_once(name, repo)
            if name not in best or run.seconds < best[name].seconds:
                best[name] = run
    return list(best.values())


# The process's own peak: VmHWM belongs to the memory the process maps since its exec, while
# ru_maxrss also carries the peak of the parent it was started from with vfork (the bench's own
# memory, once 1.4 GiB when it held a history's log).
_PEAK = """def _peak_kib():
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
"""


def _audit_once(name: str, repo: Path) -> Run:
    audit = ["audit", str(repo), "--format", "json", "--output", "/dev/null", "--progress", "never"]
    code = f"import resource, sys\n{_PEAK}from sgai_guard.cli import main\nrc = main({audit!r})\n"
    code += "print(_peak_kib(), file=sys.stderr)\nsys.exit(rc)\n"
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    own = float(proc.stderr.strip().splitlines()[-1]) / 1024
    summary = next((ln for ln in proc.stderr.splitlines() if ln.startswith("Scanned")), "")
    return Run(name, wall, own, f"exit {proc.returncode}; {summary}")


_LABELS = {
    "gitleaks": "gitleaks 8 (2 rules)",
    "betterleaks": "betterleaks 2 (2 rules)",
    "kingfisher": "kingfisher 2 (2 rules)",
}


def _peers(repo: Path, args: argparse.Namespace, tmp: Path) -> list[tuple[str, list[str], Path]]:
    found = peers.commands(args, repo, tmp, history=True)
    return [(_LABELS[name], argv, report) for name, argv, report in found]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repo", type=Path)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--commits", type=int, default=5000)
    parser.add_argument("--gitleaks")
    parser.add_argument("--betterleaks")
    parser.add_argument("--kingfisher")
    parser.add_argument("--compare", help="another sgai-guard executable (an older release)")
    parser.add_argument(
        "--complete-copy",
        action="store_true",
        help="also audit a copy without the refs that reach missing objects (goal 2)",
    )
    parser.add_argument(
        "--rev-copy",
        action="store_true",
        help="also audit a copy whose pack has a .rev file, as git 2.41 and later write",
    )
    args = parser.parse_args()
    repo = args.repo or build(
        HERE / ".corpus" / f"history-{args.commits}.git", commits=args.commits
    )
    count, size = _blob_bytes(repo)
    mib = size / 2**20
    print(f"repository {repo}: {count:,} blobs, {mib:,.0f} MiB of unique blob bytes")
    floor = _best(
        "floor: cat-file --batch-all-objects",
        ["git", "-C", str(repo), "cat-file", "--batch-all-objects", "--batch", "--unordered"],
        args.runs,
    )
    audited = {"sgai-guard audit": repo}
    if args.complete_copy:
        copied = complete_copy(repo, repo.with_name(f"{repo.stem}-complete.git"))
        if copied is None:
            print("the repository lacks no object: no complete copy to compare with")
        else:
            audited["sgai-guard audit, complete copy"] = copied[0]
            print(f"complete copy {copied[0]}: without {', '.join(copied[1])}")
    with_rev = rev_copy(repo, repo.with_name(f"{repo.stem}-rev.git")) if args.rev_copy else None
    if with_rev is not None:
        audited["sgai-guard audit, with a .rev file"] = with_rev
    elif args.rev_copy:
        print("the repository has several packs, or a .rev file already: no .rev copy")
    rows = [floor, *_sgai_guard(audited, args.runs)]
    named = {row.name: row for row in rows}
    if complete := named.get("sgai-guard audit, complete copy"):
        extra = rows[1].seconds / complete.seconds - 1
        print(f"missing objects cost {extra:+.1%} against the complete copy (goal 2: <= +10%)")
    if rev := named.get("sgai-guard audit, with a .rev file"):
        extra = rev.seconds / rows[1].seconds - 1
        print(f"a .rev file costs {extra:+.1%} against the same store without one")
    if args.compare:
        audit = ["audit", str(repo), "--format", "json", "--output", "/dev/null"]
        rows.append(_best("compared sgai-guard audit", [args.compare, *audit], args.runs))
    with tempfile.TemporaryDirectory() as tmp:
        for name, argv, report in _peers(repo, args, Path(tmp)):
            rows.append(_best(name, argv, args.runs, report))
    print(f"{'tool':38s} {'wall s':>8s} {'MiB/s':>8s} {'peak MiB':>9s} {'ratio':>6s}  note")
    for row in rows:
        print(
            f"{row.name:38s} {row.seconds:8.2f} {mib / row.seconds:8.1f} {row.peak_mib:9.1f} "
            f"{row.seconds / floor.seconds:5.2f}x  {row.note}"
        )


if __name__ == "__main__":
    main()
