"""Shared option groups of the command line: sizes, progress, policy and archive limits."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path

import click

from sgai_guard.policy.sizes import EXAMPLE, parse_size


class ByteSize(click.ParamType):  # type: ignore[type-arg]
    name = "size"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> int:
        size = parse_size(value)
        if size is None:
            self.fail(f"{value!r} is not {EXAMPLE}", param, ctx)
        return size


progress_option = click.option(
    "--progress",
    type=click.Choice(["auto", "always", "never"]),
    default="auto",
    show_default=True,
    help="Progress on stderr (auto: on a terminal, not in CI).",
)


def policy_options(func: click.decorators.FC) -> click.decorators.FC:
    for option in reversed(
        (
            click.option(
                "--config",
                "config_path",
                type=click.Path(exists=True, dir_okay=False, path_type=Path),
                help="Configuration file (default: .sgai-guard.toml "
                "or [tool.sgai-guard] in pyproject.toml, found upwards).",
            ),
            click.option(
                "--baseline",
                "baseline_path",
                type=click.Path(exists=True, dir_okay=False, path_type=Path),
                help="Report only secrets not in this baseline file.",
            ),
            click.option(
                "--other-markers",
                is_flag=True,
                help="Also honour gitleaks:allow and pragma: allowlist secret.",
            ),
        )
    ):
        func = option(func)
    return func


_ARCHIVE_OPTIONS = (
    click.option(
        "--archive-depth",
        type=click.IntRange(min=0),
        help="Open containers nested this deep (default 3; 0: do not open any).",
    ),
    click.option(
        "--archive-max-bytes",
        type=ByteSize(),
        help="Uncompressed bytes read per archive, all members together (default 64MiB).",
    ),
    click.option(
        "--archive-max-ratio",
        type=click.IntRange(min=1),
        help="Largest compression ratio a member may have (default 200).",
    ),
    click.option(
        "--archive-max-members",
        type=click.IntRange(min=1),
        help="Members read per archive (default 10000).",
    ),
)


def archive_options(func: Callable[..., None]) -> Callable[..., None]:
    """Limits for opening archives and compressed files (also configuration keys), handed to
    the command as ``archives``: the containers.Limits fields given on the command line."""

    @functools.wraps(func)
    def command(
        *args: object,
        archive_depth: int | None,
        archive_max_bytes: int | None,
        archive_max_ratio: int | None,
        archive_max_members: int | None,
        **kwargs: object,
    ) -> None:
        given = {
            "depth": archive_depth,
            "total_bytes": archive_max_bytes,
            "ratio": archive_max_ratio,
            "members": archive_max_members,
        }
        limits = {field: value for field, value in given.items() if value is not None}
        func(*args, archives=limits, **kwargs)

    wrapped: Callable[..., None] = command
    for option in reversed(_ARCHIVE_OPTIONS):
        wrapped = option(wrapped)
    return wrapped
