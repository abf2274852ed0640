"""The click group every command hangs on."""

from __future__ import annotations

import click

from sgai_guard import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="sgai-guard")
def cli() -> None:
    """Find ScrapeGraphAI (sgai-) and Tavily (tvly-) API keys before and after they leak.

    Exit codes: 0 clean, 1 secrets found, 2 usage or configuration error,
    3 incomplete scan (nothing scanned, unreadable files, unresolved git range), 130 interrupted.
    """
