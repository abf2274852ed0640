"""The closing line every text report ends with ("Scanned 3 files (1.2 KiB) in 0.01 s: 0
blocking, 0 suppressed."), and the fence that keeps a report from acting as GitHub workflow
commands. No imports beyond os: the commit hook's quick path writes its report with these
before anything of the engine or the report formats is loaded."""

from __future__ import annotations

import os

TYPE_CHECKING = False  # mypy honours it; the hook's quick path never imports typing
if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator


def human_bytes(size: int) -> str:
    value = float(size)
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{int(value)} bytes" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")  # pragma: no cover


def scanned(files: int, size: int, commits: int, seconds: float, counts: list[str]) -> str:
    """``counts``: "0 blocking", "2 suppressed" and the like, in the order they are said."""
    what = f"{files} file{'s' * (files != 1)} ({human_bytes(size)})"
    if commits:
        what += f" from {commits} commit{'s' * (commits != 1)}"
    return f"Scanned {what} in {seconds:.2f} s: " + ", ".join(counts) + "."


def clean(files: int, size: int, seconds: float) -> str:
    """The whole text report of a scan that read ``files`` and found nothing at all."""
    return scanned(files, size, 0, seconds, ["0 blocking", "0 suppressed"]) + "\n"


def fenced_pieces(pieces: Iterable[str]) -> Iterator[str]:
    """``pieces`` fenced as ``fenced`` fences a whole report (the text report, streamed)."""
    rest = (piece for piece in pieces if piece)
    first = next(rest, "")
    fence = os.environ.get("GITHUB_ACTIONS") == "true" and first
    token = os.urandom(16).hex() if fence else ""
    if fence:
        yield f"::stop-commands::{token}\n"
    yield first
    yield from rest
    if fence:
        yield f"::{token}::\n"


def fenced(report: str) -> str:
    """``report`` with GitHub's workflow commands switched off around it, when it goes to a
    GitHub Actions log: a name printed in it can then never act as a command (``::…``, or
    the older ``##[…]`` form that the runner finds anywhere in a line)."""
    if os.environ.get("GITHUB_ACTIONS") != "true" or not report:
        return report
    token = os.urandom(16).hex()
    return f"::stop-commands::{token}\n{report}::{token}::\n"
