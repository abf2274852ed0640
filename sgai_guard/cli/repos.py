"""`repos github ORG` and `repos gitlab GROUP`: an organisation's repositories as a targets
file for `audit --targets-file`."""

from __future__ import annotations

from collections.abc import Iterator

import click

from sgai_guard.cli.group import cli

_MAX_WAIT = click.option(
    "--max-wait",
    type=click.FloatRange(min=0),
    default=900,
    show_default=True,
    help="Longest wait for a rate limit to reset, in seconds; longer is an error (exit 3).",
)
_FILTERS = (
    click.option("--api-url", metavar="URL", help="API root (https, or http to loopback)."),
    click.option("--no-archived", is_flag=True, help="Leave out archived repositories."),
    click.option("--no-forks", is_flag=True, help="Leave out forks."),
    click.option("--ssh", is_flag=True, help="List ssh clone URLs instead of https ones."),
    _MAX_WAIT,
)


def _listing_options(func: click.decorators.FC) -> click.decorators.FC:
    for option in reversed(_FILTERS):
        func = option(func)
    return func


@cli.group()
def repos() -> None:
    """Print an organisation's repositories as a targets file (one clone URL a line) for
    `sgai-guard audit --targets-file`. Archived repositories and forks are listed unless
    --no-archived / --no-forks: an archived repository can still hold a live key."""


@repos.command("github")
@click.argument("org")
@_listing_options
def github_cmd(
    org: str, api_url: str | None, no_archived: bool, no_forks: bool, ssh: bool, max_wait: float
) -> None:
    """ORG's repositories (an organisation, else a user) through GitHub's REST API. Token:
    GITHUB_TOKEN. API root: --api-url or SGAI_GUARD_GITHUB_API (GitHub Enterprise)."""
    from sgai_guard.platforms import listing  # noqa: PLC0415

    filters = listing.Filters(not no_archived, not no_forks, ssh)
    _print(listing.github(org, filters, api_url=api_url, max_wait=max_wait))


@repos.command("gitlab")
@click.argument("group")
@_listing_options
def gitlab_cmd(
    group: str, api_url: str | None, no_archived: bool, no_forks: bool, ssh: bool, max_wait: float
) -> None:
    """GROUP's projects, subgroups included (GROUP: an id or a full path), through GitLab's
    REST API. Token: GITLAB_TOKEN. API root: --api-url or SGAI_GUARD_GITLAB_API."""
    from sgai_guard.platforms import listing  # noqa: PLC0415

    filters = listing.Filters(not no_archived, not no_forks, ssh)
    _print(listing.gitlab(group, filters, api_url=api_url, max_wait=max_wait))


def _print(urls: Iterator[str]) -> None:
    from sgai_guard.errors import say  # noqa: PLC0415

    count = 0
    for url in urls:
        click.echo(url)
        count += 1
    say(f"sgai-guard: {count} repositories listed")
