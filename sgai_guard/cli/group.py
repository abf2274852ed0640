"""The click group every command hangs on."""

from __future__ import annotations

import errno
from typing import Any

import click

from sgai_guard import __version__
from sgai_guard.errors import PipeClosedError


class _Group(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        """click ends a command whose pipe broke with exit 1, which says "secrets found":
        that is turned into exit 3 here, before click sees it."""
        try:
            return super().invoke(ctx)
        except OSError as exc:
            if exc.errno == errno.EPIPE:
                raise PipeClosedError(f"cannot write the output: {exc.strerror}") from exc
            raise


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="sgai-guard")
def cli() -> None:
    """Find ScrapeGraphAI (sgai-) and Tavily (tvly-) API keys before and after they leak.

    Exit codes: 0 clean, 1 secrets found, 2 usage or configuration error,
    3 incomplete scan (nothing scanned, unreadable files, unresolved git range), 130 interrupted.
    """
