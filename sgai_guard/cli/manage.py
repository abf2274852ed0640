"""Managing suppressions and hooks: baseline, allow, install-hook, hook."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from sgai_guard.cli.delivery import write_file
from sgai_guard.cli.group import cli
from sgai_guard.display import message
from sgai_guard.errors import ExitCode, say

if TYPE_CHECKING:
    pass


@cli.command("baseline")
@click.argument("path", default=".", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--output",
    "-o",
    "output_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The baseline file.",
)
@click.option("--update", is_flag=True, help="Prune secrets no longer present; add none.")
@click.option(
    "--config",
    "config_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Configuration file.",
)
def baseline_cmd(path: Path, output_path: Path, update: bool, config_path: Path | None) -> None:
    """Record the secrets found under PATH as known, so later scans report only new ones.

    Without --update the file is written afresh from everything found now; with --update,
    secrets that are gone are pruned and new ones are NOT added (they must be looked at)."""
    from sgai_guard.engine.prepare import prepare  # noqa: PLC0415
    from sgai_guard.engine.run import run  # noqa: PLC0415
    from sgai_guard.policy import baseline  # noqa: PLC0415
    from sgai_guard.sources.local import WorktreeSource  # noqa: PLC0415

    # the baseline's own scan must see every secret, known ones included (else --update
    # would take the keys the configured baseline suppresses for gone, and prune them)
    prep = prepare(path, config_path=config_path, use_baseline=False)
    size = prep.config.max_file_size if prep.config else None
    result = run(WorktreeSource((path,), use_gitignore=True, max_size=size), prep)
    if result.incomplete:
        for reason in result.incomplete:
            say(f"sgai-guard: {reason}")
        raise SystemExit(int(ExitCode.INCOMPLETE))
    current = baseline.entries_from(result.findings)
    if update:
        if not output_path.exists():
            raise click.UsageError(f"--update needs an existing baseline; {output_path} is missing")
        previous = baseline.load(output_path)
        entries = baseline.prune(previous, current)
        done = (
            f"pruned {len(previous) - len(entries)} secret(s) no longer present; "
            f"{len(set(current) - set(previous))} new secret(s) NOT added"
        )
    else:
        entries = current
        done = f"recorded {len(entries)} secret(s) in {output_path}"
    _warn_default_salt(prep.settings.salt)
    # never through a symlink or into a FIFO or hard link: a checkout may hold one named like
    # the baseline, pointing at a file of the user's (found by an attacker review)
    problem = write_file(output_path, baseline.render(entries))
    if problem is not None:
        say(f"sgai-guard: error: cannot write the baseline to {output_path}: {problem}")
        raise SystemExit(int(ExitCode.USAGE))
    say(done)  # said once it is true


@cli.command("allow")
@click.argument("fingerprint")
@click.option("--reason", required=True, help="Why this value is not a live key.")
@click.option(
    "--expires",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="Stop suppressing after this date (YYYY-MM-DD).",
)
@click.option("--path", "glob", help="Only where the path matches this gitignore pattern.")
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="File to edit (default: the configuration in use, else .sgai-guard.toml).",
)
def allow_cmd(
    fingerprint: str,
    reason: str,
    expires: datetime.datetime | None,
    glob: str | None,
    config_path: Path | None,
) -> None:
    """Allow one secret, by the fingerprint printed next to it, keeping the rest of the file."""
    from sgai_guard.policy import allow_edit  # noqa: PLC0415

    if len(fingerprint) != 20 or fingerprint.strip("0123456789abcdef"):  # a newcomer review:
        raise click.BadParameter(  # the error blamed entry #1 of a file that did not exist
            "a fingerprint is the 20 lower-case hex digits printed next to a finding",
            param_hint="FINGERPRINT",
        )
    if expires is not None and expires.date() <= datetime.date.today():
        raise click.BadParameter(
            f"{expires.date()} is not in the future: the entry would never allow anything",
            param_hint="--expires",
        )
    target = allow_edit.add_entry(
        config_path, fingerprint, reason, expires.date() if expires else None, glob
    )
    click.echo(message(f"added an allow entry for {fingerprint} to {target}"))
    from sgai_guard.policy.config import discover, load  # noqa: PLC0415

    _warn_default_salt((load(config_path) if config_path else discover(Path())).salt)


@cli.command("install-hook")
@click.option("--pre-push", is_flag=True, help="Install the pre-push hook instead.")
@click.option("--force", is_flag=True, help="Replace an existing hook not written by sgai-guard.")
@click.option(
    "--chain",
    is_flag=True,
    help="Keep an existing hook (git-lfs's, say) and run it with sgai-guard's check.",
)
def install_hook(pre_push: bool, force: bool, chain: bool) -> None:
    """Install sgai-guard as this repository's plain git pre-commit (or pre-push) hook.

    With the pre-commit framework, add the hooks from .pre-commit-hooks.yaml instead."""
    from sgai_guard.sources.hooks import install  # noqa: PLC0415
    from sgai_guard.sources.repo import open_repository  # noqa: PLC0415

    target, notes = install(open_repository(Path()), pre_push=pre_push, force=force, chain=chain)
    click.echo(message(f"installed {target}"))  # the path comes from the repository's config
    for note in notes:
        click.echo(message(f"note: {note}"))


@cli.command(context_settings={"ignore_unknown_options": True})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def hook(args: tuple[str, ...]) -> None:
    """The hook itself: `hook [FILE...]` for pre-commit, `hook --pre-push` for pre-push."""
    from sgai_guard.hook import main as hook_main  # noqa: PLC0415

    raise SystemExit(hook_main(list(args)))


def _warn_default_salt(salt: str) -> None:
    from sgai_guard.detection.fingerprint import DEFAULT_SALT  # noqa: PLC0415

    if salt == DEFAULT_SALT:
        click.echo(
            "note: no `salt` is configured, so these fingerprints use the public default salt: "
            "anyone holding a candidate key can compute them. Set `salt` in the configuration "
            "before publishing this file (it changes every fingerprint, so do it first).",
            err=True,
        )
