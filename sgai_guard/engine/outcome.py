"""How a ScanResult maps to an exit code: one rule, used by every command."""

from __future__ import annotations

from sgai_guard.errors import ExitCode
from sgai_guard.models import ScanResult

NOTHING_SCANNED = "nothing was scanned: no file or commit matched what was asked"


def incompleteness(result: ScanResult) -> tuple[str, ...]:
    """Every reason the result does not cover what was asked, in reporting order. Asking
    again adds nothing: a result made by engine.run already says it."""
    reasons = list(result.incomplete)
    unread = f"{len(result.errors)} path(s) could not be read"
    if result.errors and unread not in reasons:
        reasons.append(unread)
    stats = result.stats  # a tag's message alone is something (bytes, no file, no commit)
    nothing = not result.empty_ok and stats.files == 0 and stats.commits == 0 and not stats.bytes
    if nothing and NOTHING_SCANNED not in reasons:
        reasons.append(NOTHING_SCANNED)
    return tuple(reasons)


def exit_code(result: ScanResult) -> ExitCode:
    """Incomplete beats findings: a partial scan must never look like a finished one."""
    if result.incomplete or result.errors:
        return ExitCode.INCOMPLETE
    if result.blocking:
        return ExitCode.FINDINGS
    return ExitCode.CLEAN
