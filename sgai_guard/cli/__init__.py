"""Command line: parse options, call the engine, pick a reporter, map the result to an exit code.

The modules of this package are the only ones that import click.
"""

from __future__ import annotations

from collections.abc import Sequence

import click

from sgai_guard.cli import (  # noqa: F401 - registers the commands
    fleet,
    history,
    manage,
    repos,
    scanning,
    setup,
)
from sgai_guard.cli.group import cli
from sgai_guard.errors import ExitCode, exit_for, say


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return its exit code instead of exiting."""
    try:
        cli.main(
            args=list(argv) if argv is not None else None,
            prog_name="sgai-guard",
            standalone_mode=False,
        )
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else int(ExitCode.USAGE)
    except click.exceptions.Abort:
        return exit_for(KeyboardInterrupt())
    except click.ClickException as exc:
        _complain(exc)
        return int(ExitCode.USAGE)
    except (Exception, KeyboardInterrupt) as exc:
        return exit_for(exc)
    return int(ExitCode.CLEAN)


def _complain(exc: click.ClickException) -> None:
    """click's own error report, with the user's words redacted (a key typed as an argument
    must not be echoed back into a log)."""
    if isinstance(exc, click.UsageError) and exc.ctx is not None:
        for line in (exc.ctx.get_usage(), f"Try '{exc.ctx.command_path} --help' for help."):
            say(line)  # the usage is ours, one line at a time
    say(f"Error: {exc.format_message()}")
