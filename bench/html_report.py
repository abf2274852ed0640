"""The HTML report of a 10,000-finding audit: Python render time, page size, and the time
headless Chromium (Debian's, driven by Playwright) takes to load it and paint a first frame,
and to sort and filter the table. Goal (issue 15): under 2 s to render in the browser.

    python -m bench.html_report [--findings 10000] [--keys 2000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
from pathlib import Path

from sgai_guard.engine.scan import scan
from sgai_guard.models import Blob, CommitRef, Exposure, ScanResult
from sgai_guard.report import Format, RenderOptions, renderer
from tests import keys

CHROMIUM = os.environ.get("SGAI_GUARD_CHROMIUM", "/usr/bin/chromium")
REFS = (
    *(f"refs/heads/topic/{n}" for n in range(40)),
    *(f"refs/pull/{n}/head" for n in range(60)),
    "refs/remotes/origin/main",
)


def audit_result(findings: int, distinct: int) -> ScanResult:
    """An audit's result as triage leaves it: ``findings`` places of ``distinct`` keys, each
    key with its own commits, dates and a share of 101 refs."""
    rng = random.Random(7)
    secrets = [keys.any_key(rng) for _ in range(distinct)]
    blobs = [
        Blob(f"src/mod{n % 97}/file{n}.env", f"K={secrets[n % distinct]}\n".encode())
        for n in range(findings)
    ]
    result = scan(blobs)
    exposures: dict[str, Exposure] = {}

    def exposure(n: int) -> Exposure:
        date = f"20{20 + n % 6}-0{1 + n % 9}-1{n % 10}T10:00:00+00:00"
        commit = CommitRef(f"{n:040x}", "Dev", date)
        return Exposure(("a",), commit, commit, n % 2 == 0, REFS[: 1 + n % len(REFS)])

    placed = tuple(
        f._replace(exposure=exposures.setdefault(f.fingerprint, exposure(len(exposures))))
        for f in result.findings
    )
    return result._replace(findings=placed)


def browser_rounds(page_path: Path, rounds: int) -> list[tuple[float, float, float]]:
    from playwright.sync_api import sync_playwright

    times = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM)
        for _ in range(rounds):
            page = browser.new_page()
            start = time.perf_counter()
            page.goto(page_path.as_uri(), wait_until="load")
            page.evaluate("new Promise(r => requestAnimationFrame(() => setTimeout(r, 0)))")
            loaded = time.perf_counter() - start
            start = time.perf_counter()
            page.click("#findings th >> text=Path")
            page.evaluate("new Promise(r => requestAnimationFrame(() => setTimeout(r, 0)))")
            sort = time.perf_counter() - start
            start = time.perf_counter()
            page.fill("input[name=path]", "mod3")
            page.evaluate("new Promise(r => requestAnimationFrame(() => setTimeout(r, 0)))")
            times.append((loaded, sort, time.perf_counter() - start))
            page.close()
        browser.close()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--findings", type=int, default=10_000)
    parser.add_argument("--keys", type=int, default=2_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    result = audit_result(args.findings, args.keys)
    start = time.perf_counter()
    html = renderer(Format.HTML)(result, RenderOptions())
    rendered = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp) / "report.html"
        page.write_text(html, encoding="utf-8")
        rounds = browser_rounds(page, args.rounds)
    load, sort, filt = (statistics.median(column) for column in zip(*rounds, strict=True))
    size = len(html) / 1e6
    print(f"{len(result.findings):,} findings of {args.keys:,} distinct keys; {size:.1f} MB")
    print(f"| step | median of {args.rounds} rounds |")
    print("|---|---|")
    print(f"| Python render | {rendered:.2f} s |")
    print(f"| Chromium load + first frame | {load:.2f} s (goal < 2 s) |")
    print(f"| sort by path | {sort:.2f} s |")
    print(f"| filter by path | {filt:.2f} s |")


if __name__ == "__main__":
    main()
