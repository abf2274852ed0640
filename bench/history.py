"""Whole-history audit speed and memory, side by side with the cat-file floor and peers.

    python bench/history.py [--repo BARE_REPO] [--runs 3] [--complete-copy] [--rev-copy]

Without --repo it builds a synthetic history (bench/synthetic_history.py). Each tool reads
the same repository; peers (gitleaks, betterleaks, kingfisher) are measured when found on
PATH or given with --gitleaks/--betterleaks/--kingfisher, with only the two providers' rules.
With --complete-copy, a mirror that lacks objects is also audited as a copy without the refs
that reach them (bench/complete_copy.py, written next to the mirror as NAME-complete.git,
hard links): the cost of missing objects. With --rev-copy, also a copy with a `.rev` file.

Every command runs once a round, in the same order, for --runs rounds: the floor, the audits,
the compared executable, the peers. A slow minute of a shared machine then slows one round
of every command, not all the runs of one. Printed for each: the median and the best wall
time, MiB/s of unique blob bytes at the median, its own peak RSS, and its ratio to the floor:
the median over the rounds of each round's ratio (paired, so the slow rounds cancel), and
its median CPU time (user and system, every process it waited for: git's too), which this
VM's slow minutes move less than wall time. The cost of missing objects and of a `.rev` file
is such a paired median too, in wall time and in CPU time.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
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
    cpu: float = 0.0  # user and system seconds of the process and every process it waited for


@dataclass
class Timed:
    """A command measured once a round (``once``), and its runs so far."""

    name: str
    once: Callable[[], Run]
    runs: list[Run] = field(default_factory=list)

    def median(self) -> float:
        return statistics.median(run.seconds for run in self.runs)

    def cpu(self) -> float:
        return statistics.median(run.cpu for run in self.runs)

    def against(self, other: Timed, *, cpu: bool = False) -> float:
        """The median over the rounds of this command's time (or CPU time) over ``other``'s."""
        pairs = zip(self.runs, other.runs, strict=True)
        if cpu:
            return statistics.median(mine.cpu / max(theirs.cpu, 1e-9) for mine, theirs in pairs)
        return statistics.median(mine.seconds / theirs.seconds for mine, theirs in pairs)


def _popen_rss(argv: list[str]) -> tuple[float, float, int, float]:
    """Wall time, peak RSS (MiB) of the process and its waited-for children, exit code, and
    their CPU time."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall, code = time.perf_counter() - start, os.waitstatus_to_exitcode(status)
    return wall, usage.ru_maxrss / 1024, code, usage.ru_utime + usage.ru_stime


def _command(name: str, argv: list[str], report: Path | None = None) -> Timed:
    def once() -> Run:
        wall, peak, code, cpu = _popen_rss(argv)
        return Run(name, wall, peak, f"exit {code}{_count(report)}", cpu)

    return Timed(name, once)


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


# The readers are forked and end with os._exit: each writes its own peak to a file first. A
# forked process's high-water mark starts at its parent's RSS at the fork (Linux's dup_mm):
# pages it still shares with the main process count in both.
_READERS = """_exit = os._exit
def _reader_exit(status):
    try:
        with open({peaks!r}, "a") as out:
            out.write(f"{{_peak_kib()}}\\n")
    finally:
        _exit(status)
os._exit = _reader_exit
"""


def _audit_once(name: str, repo: Path, python: str = sys.executable) -> Run:
    """One audit, by ``python``'s sgai-guard, in a child that says its own peak RSS and each
    reader's (git's memory is git's, not ours): the larger is the run's."""
    audit = _audit_argv(repo)
    with tempfile.NamedTemporaryFile("r", suffix=".peaks") as peaks:
        code = f"import os, resource, sys\n{_PEAK}{_READERS.format(peaks=peaks.name)}"
        code += f"from sgai_guard.cli import main\nrc = main({audit!r})\n"
        code += "print(_peak_kib(), file=sys.stderr)\nsys.exit(rc)\n"
        before, start = _children_cpu(), time.perf_counter()
        proc = subprocess.run([python, "-c", code], check=False, capture_output=True, text=True)
        wall, cpu = time.perf_counter() - start, _children_cpu() - before
        readers = [int(line) for line in peaks.read().split()]
    said = proc.stderr.strip().splitlines()
    own = int(said[-1]) if said and said[-1].isdigit() else 0  # 0: the audit itself failed
    summary = next((ln for ln in said if ln.startswith("Scanned")), "")
    largest = max(readers, default=0)
    forked = f"readers' peak {largest / 1024:.0f} MiB" if readers else "no reader forked"
    note = f"exit {proc.returncode}; {forked}; {summary or (said[-1] if said else '')}"
    return Run(name, wall, max(own, largest) / 1024, note, cpu)


def _audit_argv(repo: Path) -> list[str]:
    """sgai-guard's arguments for one audit of ``repo``, its report thrown away."""
    return ["audit", str(repo), "--format", "json", "--output", "/dev/null", "--progress", "never"]


def _children_cpu() -> float:
    """CPU seconds of every process this one has waited for (and those they waited for)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


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
    peers.add_options(parser)
    parser.add_argument("--kingfisher", help="Kingfisher's binary (default: on PATH)")
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
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    repo = args.repo or build(
        HERE / ".corpus" / f"history-{args.commits}.git", commits=args.commits
    )
    count, size = _blob_bytes(repo)
    mib = size / 2**20
    print(f"repository {repo}: {count:,} blobs, {mib:,.0f} MiB of unique blob bytes")
    floor = _command(
        "floor: cat-file --batch-all-objects",
        ["git", "-C", str(repo), "cat-file", "--batch-all-objects", "--batch", "--unordered"],
    )
    timed = [floor, *(_audit(name, path) for name, path in _audited(repo, args).items())]
    if args.compare:
        timed.append(_compared(args.compare, repo))
    with tempfile.TemporaryDirectory() as tmp:
        timed += [
            _command(name, argv, report) for name, argv, report in _peers(repo, args, Path(tmp))
        ]
        for turn in range(args.runs):  # each round in another order: no place is anyone's
            for each in timed[turn % len(timed) :] + timed[: turn % len(timed)]:
                each.runs.append(each.once())
    _costs({each.name: each for each in timed})
    _table(timed, floor, mib)


def _audited(repo: Path, args: argparse.Namespace) -> dict[str, Path]:
    """The repositories audited: ``repo``, and the copies asked for."""
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
    return audited


def _table(timed: list[Timed], floor: Timed, mib: float) -> None:
    print(
        f"{'tool':38s} {'median s':>8s} {'best s':>7s} {'MiB/s':>8s} {'peak MiB':>9s} "
        f"{'ratio':>6s} {'CPU s':>6s}  note"
    )
    for each in timed:
        median, last = each.median(), each.runs[-1]
        print(
            f"{each.name:38s} {median:8.2f} {min(r.seconds for r in each.runs):7.2f} "
            f"{mib / median:8.1f} {max(r.peak_mib for r in each.runs):9.1f} "
            f"{each.against(floor):5.2f}x {each.cpu():6.2f}  {last.note}"
        )


def _audit(name: str, repo: Path, python: str = sys.executable) -> Timed:
    return Timed(name, lambda: _audit_once(name, repo, python))


def _compared(executable: str, repo: Path) -> Timed:
    """Another sgai-guard, measured as ours is when its environment's Python sits beside it;
    else as a whole process tree (its peak then includes git's)."""
    name = "compared sgai-guard audit"
    python = Path(executable).parent / "python"
    if python.exists():
        return _audit(name, repo, str(python))
    return _command(name, [executable, *_audit_argv(repo)])


def _costs(named: dict[str, Timed]) -> None:
    """What missing objects and a `.rev` file cost, each a paired median over the rounds."""
    audit = named["sgai-guard audit"]
    if complete := named.get("sgai-guard audit, complete copy"):
        extra, cpu = audit.against(complete) - 1, audit.against(complete, cpu=True) - 1
        print(
            f"missing objects cost {extra:+.1%} against the complete copy (goal 2: <= +10%); "
            f"CPU {cpu:+.1%}"
        )
    if rev := named.get("sgai-guard audit, with a .rev file"):
        extra, cpu = rev.against(audit) - 1, rev.against(audit, cpu=True) - 1
        print(f"a .rev file costs {extra:+.1%} against the same store without one; CPU {cpu:+.1%}")


if __name__ == "__main__":
    main()
