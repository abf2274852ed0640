"""Exit codes and the one exception family the CLI maps to them."""

from __future__ import annotations

import enum
import os
import sys


class ExitCode(enum.IntEnum):
    """What a run's exit status means; scripts and CI depend on these values."""

    CLEAN = 0  # everything asked for was scanned and nothing unsuppressed was found
    FINDINGS = 1  # at least one blocking, unsuppressed secret
    USAGE = 2  # bad option, bad configuration, not a repository, unknown revision
    INCOMPLETE = 3  # something could not be scanned: never reported as clean
    INTERRUPTED = 130  # Ctrl-C (128 + SIGINT), as shells report it


class GuardError(Exception):
    """Base class: every error the tool raises on purpose carries its exit code."""

    exit_code: ExitCode = ExitCode.USAGE


class UsageError(GuardError):
    """The user asked for something that cannot be done as asked."""


class ConfigError(GuardError):
    """A configuration file is unreadable or invalid."""


class GitError(GuardError):
    """Git is missing, the path is not a repository, or a revision is unknown."""


class StalledError(GitError):
    """Git did not finish in time (a FIFO in the repository, a stalled file system)."""

    exit_code = ExitCode.INCOMPLETE


class PipeClosedError(GuardError):
    """What the command wrote to went away (a pipe whose reader exited): not delivered, as
    an OutputError."""


class OutputError(GuardError):
    """The report could not be written where it was asked to go."""


def say(text: str) -> None:
    """One line on stderr, redacted and escaped like every finding; never raises (stderr may
    be closed, and a failure to complain must not hide the exit code)."""
    import contextlib  # noqa: PLC0415 - only when there is something to say

    from sgai_guard.display import message  # noqa: PLC0415

    if sys.stderr is None:  # closed: print(file=None) would write to stdout instead
        return
    with contextlib.suppress(OSError, ValueError):
        print(message(text), file=sys.stderr)


def internal_error_message(exc: BaseException) -> str:
    """One line for an unexpected failure: exit 3, never 1, which means "found keys"."""
    return (
        f"sgai-guard: internal error: {type(exc).__name__}: {exc} "
        "(the scan did not finish; set SGAI_GUARD_DEBUG=1 for a traceback)"
    )


def exit_for(exc: Exception | KeyboardInterrupt) -> int:
    """Say in one line why a command stopped, and return its exit code.

    Unexpected exceptions exit 3 ("the scan broke"), never 1 ("keys found"); with
    SGAI_GUARD_DEBUG set they propagate with their traceback instead.
    """
    if isinstance(exc, GuardError):
        say(f"sgai-guard: error: {exc}")
        return int(exc.exit_code)
    if isinstance(exc, KeyboardInterrupt):
        say("sgai-guard: interrupted")
        return int(ExitCode.INTERRUPTED)
    if isinstance(exc, BrokenPipeError):  # the reader went away: the report was not delivered
        return int(ExitCode.INCOMPLETE)
    if os.environ.get("SGAI_GUARD_DEBUG"):
        raise exc
    say(internal_error_message(exc))
    return int(ExitCode.INCOMPLETE)
