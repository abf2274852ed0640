"""Command line: parse options, call the engine, pick a reporter, map the result to an exit code.

The modules of this package are the only ones that import click.
"""

from __future__ import annotations

from collections.abc import Sequence

import click

from sgai_guard.cli import manage, scanning  # noqa: F401 - registers the commands
from sgai_guard.cli.group import cli
from sgai_guard.errors import ExitCode, exit_for


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
        exc.show()
        return int(ExitCode.USAGE)
    except (Exception, KeyboardInterrupt) as exc:
        return exit_for(exc)
    return int(ExitCode.CLEAN)
