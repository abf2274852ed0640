"""Command line: parse options, call the engine, pick a reporter, map the result to an exit code.

The modules of this package are the only ones that import click.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import click

from sgai_guard.cli import manage, scanning  # noqa: F401 - registers the commands
from sgai_guard.cli.group import cli
from sgai_guard.errors import ExitCode, GuardError, internal_error_message


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
        click.echo("sgai-guard: interrupted", err=True)
        return int(ExitCode.INTERRUPTED)
    except click.ClickException as exc:
        exc.show()
        return int(ExitCode.USAGE)
    except GuardError as exc:
        click.echo(f"sgai-guard: error: {exc}", err=True)
        return int(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("sgai-guard: interrupted", err=True)
        return int(ExitCode.INTERRUPTED)
    except BrokenPipeError:
        return int(ExitCode.CLEAN)
    except Exception as exc:
        if os.environ.get("SGAI_GUARD_DEBUG"):
            raise
        click.echo(internal_error_message(exc), err=True)
        return int(ExitCode.INCOMPLETE)
    return int(ExitCode.CLEAN)
