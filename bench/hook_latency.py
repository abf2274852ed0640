"""End-to-end latency of the commit hook on a one-file staged change in a 2,000-file repository.

    python bench/hook_latency.py [--runs 30] [--gitleaks P] [--betterleaks P] [--kingfisher P]
                                 [--detect-secrets-hook P]

Side by side in one run: `python -c pass`, `git diff --cached --name-only`, sgai-guard's hook
(the plain git hook `install-hook` writes; the `sgai-guard-hook` launcher, as the pre-commit
framework runs it, without and with the file name; `sgai-guard hook` through pip's
console-script wrapper), and each peer's
staged scan with its default rules and again restricted to the two providers' rules (the
configurations of bench/history.py), when found on PATH or given. Prints medians and ratios.

Commands run round-robin, so noise on a shared machine hits every one alike; compare ratios
across runs rather than absolute times.

Where the time goes: see bench/README.md. A clean commit is Python's start-up, about 1.5 ms
of our own small modules, `git diff-index` and `git cat-file --batch` started with
posix_spawn (sources/spawn.py), and a screen of the staged bytes (sources/quick.py);
tests/test_architecture.py keeps typing, enum, re and subprocess off that path.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from bench.peers import GITLEAKS_TOML, KINGFISHER_YAML, binary  # noqa: E402
from sgai_guard.sources.hooks import hook_script  # noqa: E402

ENV = {
    **os.environ,
    "GIT_AUTHOR_NAME": "b",
    "GIT_AUTHOR_EMAIL": "b@example.invalid",
    "GIT_COMMITTER_NAME": "b",
    "GIT_COMMITTER_EMAIL": "b@example.invalid",
}


def _repo(root: Path, files: int = 2000) -> Path:
    rng = random.Random(3)
    for n in range(files):
        path = root / f"pkg{n % 40}" / f"module{n}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        lines = [f"def f{i}(x):\n    return x * {rng.randint(0, 999)}\n" for i in range(20)]
        path.write_text("".join(lines))
    for args in (
        ["init", "-q", "-b", "main"],
        ["add", "-A"],
        ["commit", "-q", "--no-gpg-sign", "-m", "root"],
    ):
        subprocess.run(["git", *args], cwd=root, env=ENV, check=True)
    (root / "pkg0" / "module0.py").write_text("def changed():\n    return 1\n")
    subprocess.run(["git", "add", "pkg0/module0.py"], cwd=root, env=ENV, check=True)
    return root


def _medians(
    commands: dict[str, list[str]], cwd: Path, runs: int, elsewhere: dict[str, Path]
) -> dict[str, tuple[float, int]]:
    """Median wall time of each command, run round-robin so machine noise hits all alike."""
    times: dict[str, list[float]] = {label: [] for label in commands}
    codes: dict[str, int] = {}
    for _ in range(runs):
        for label, argv in commands.items():
            start = time.perf_counter()
            codes[label] = subprocess.run(
                argv,
                cwd=elsewhere.get(label, cwd),
                env=ENV,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                check=False,
            ).returncode
            times[label].append((time.perf_counter() - start) * 1000)
    return {label: (statistics.median(times[label]), codes[label]) for label in commands}


def _installed(name: str) -> str:
    """The script installed with the Python running this, else the one on PATH."""
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.exists() else shutil.which(name) or name


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=30)
    for tool in ("gitleaks", "betterleaks", "kingfisher", "detect-secrets-hook"):
        parser.add_argument(f"--{tool}")
    parser.add_argument("--compare", help="another sgai-guard executable (an older release)")
    args = parser.parse_args()
    guard, launcher = _installed("sgai-guard"), _installed("sgai-guard-hook")
    with tempfile.TemporaryDirectory() as tmp:
        repo = _repo(Path(tmp) / "plain")
        installed = repo / ".git" / "sgai-guard-pre-commit"  # what `install-hook` writes
        installed.write_text(hook_script(pre_push=False))
        installed.chmod(0o755)
        commands = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "git diff --cached --name-only": ["git", "diff", "--cached", "--name-only"],
            "sgai-guard install-hook's hook": [str(installed)],
            "sgai-guard-hook": [launcher],
            "sgai-guard hook (console script)": [guard, "hook"],
            "sgai-guard-hook -- FILE (pre-commit)": [launcher, "--", "pkg0/module0.py"],
        }
        if args.compare:
            commands["compared sgai-guard hook"] = [args.compare, "hook"]
        peers = {
            "gitleaks git --staged": ("gitleaks", ["git", "--staged", "--no-banner", "."]),
            "betterleaks git --staged": ("betterleaks", ["git", "--staged", "--no-banner", "."]),
            "kingfisher scan --staged": (
                "kingfisher",
                ["scan", ".", "--staged", "-n", "--no-update-check", "-q"],
            ),
            "detect-secrets-hook FILE": ("detect-secrets-hook", ["pkg0/module0.py"]),
        }
        (repo / ".git" / "two-rules.toml").write_text(GITLEAKS_TOML)
        (repo / ".git" / "two-rules.yaml").write_text(KINGFISHER_YAML)
        restricted = {
            "gitleaks": ["-c", str(repo / ".git" / "two-rules.toml")],
            "betterleaks": ["-c", str(repo / ".git" / "two-rules.toml")],
            "kingfisher": [
                "--rules-path",
                str(repo / ".git" / "two-rules.yaml"),
                "--load-builtins=false",
            ],
        }
        for label, (tool, tail) in peers.items():
            path = binary(getattr(args, tool.replace("-", "_")), tool)
            if path:
                commands[label] = [path, *tail]
                if tool in restricted:
                    commands[f"{label} (2 rules)"] = [path, *tail, *restricted[tool]]
        # the same commit, but the staged file names the provider (as code using its SDK
        # does): the quick path hands over to the full scan
        sdk = _repo(Path(tmp) / "sdk")
        (sdk / "pkg0" / "module0.py").write_text(
            "from tavily import TavilyClient\nclient = TavilyClient(api_key=KEY)\n"
        )
        subprocess.run(["git", "add", "pkg0/module0.py"], cwd=sdk, env=ENV, check=True)
        commands["sgai-guard-hook, file naming Tavily"] = [launcher]
        results = _medians(commands, repo, args.runs, {"sgai-guard-hook, file naming Tavily": sdk})
    ours = results["sgai-guard install-hook's hook"][0]
    floor = results["python -c pass"][0]
    print(f"| {'command':36s} | median ms | vs sgai-guard | vs python -c pass | exit |")
    print("|---|---|---|---|---|")
    for label, (ms, code) in results.items():
        print(f"| {label:36s} | {ms:9.1f} | {ms / ours:12.2f}x | {ms / floor:16.2f}x | {code} |")


if __name__ == "__main__":
    main()
