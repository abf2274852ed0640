"""The click group every command hangs on."""

from __future__ import annotations

import contextlib
import errno
from collections.abc import Iterator
from typing import Any

import click

from sgai_guard import __version__
from sgai_guard.errors import PipeClosedError


class _Group(click.Group):
    """click ends a command whose pipe broke with exit 1, which says "secrets found": that
    is turned into exit 2 here, as a report that cannot be delivered is (cli.delivery),
    before click sees it; for the options it handles itself (--help, --version) too."""

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        with _pipe_closed():
            return super().make_context(info_name, args, parent, **extra)

    def invoke(self, ctx: click.Context) -> Any:
        with _pipe_closed():
            return super().invoke(ctx)


@contextlib.contextmanager
def _pipe_closed() -> Iterator[None]:
    try:
        yield
    except OSError as exc:
        if exc.errno == errno.EPIPE:
            raise PipeClosedError(f"a pipe it wrote to was closed ({exc.strerror})") from exc
        raise


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="sgai-guard")
def cli() -> None:
    """Find ScrapeGraphAI (sgai-) and Tavily (tvly-) API keys before and after they leak.

    Exit codes: 0 clean, 1 secrets found, 2 usage or configuration error,
    3 incomplete scan (nothing scanned where something was asked for, unreadable files,
    unresolved git range), 130 interrupted. An empty staged set or range, or a repository
    with no commits, is nothing to scan: exit 0, and said.
    """
