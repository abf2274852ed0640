"""`sgai-guard init`: a starting configuration and the pre-commit block to paste."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import click

from sgai_guard.cli.delivery import write_file
from sgai_guard.cli.group import cli
from sgai_guard.errors import say

CONFIG_NAME = ".sgai-guard.toml"


@cli.command("init")
@click.argument(
    "folder", default=".", type=click.Path(exists=True, file_okay=False, path_type=Path)
)
@click.option("--force", is_flag=True, help=f"Replace an existing {CONFIG_NAME}.")
@click.option("--schema", is_flag=True, help="Print the configuration's JSON Schema and exit.")
def init_cmd(folder: Path, force: bool, schema: bool) -> None:
    """Write a commented .sgai-guard.toml in FOLDER and print the .pre-commit-config.yaml
    block that runs sgai-guard on commits and pushes."""
    from sgai_guard import starter  # noqa: PLC0415

    if schema:
        text = (
            resources.files("sgai_guard.policy")
            .joinpath(starter.SCHEMA_RESOURCE)
            .read_text("utf-8")
        )
        click.echo(text, nl=False)
        return
    target = folder / CONFIG_NAME
    problem = write_file(target, starter.config_text(), replace=force)
    if problem:
        raise click.UsageError(f"cannot write {target}: {problem}")
    say(f"sgai-guard: wrote {target} (every key explained and commented out)")
    say(
        "sgai-guard: add this to .pre-commit-config.yaml, then run `pre-commit install "
        "--hook-type pre-commit --hook-type pre-push`:"
    )
    click.echo(starter.precommit_block(), nl=False)
    say(  # a newcomer review: the block cannot work as printed until a release exists
        "sgai-guard: until sgai-guard has a release, set `repo:` to the address of the "
        "repository you install it from and `rev:` to one of its commits (see the README)"
    )
