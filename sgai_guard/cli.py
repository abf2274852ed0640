"""Command line: parse options, call the engine, pick a reporter, map the result to an exit code.

This is the only module that imports click.
"""

from __future__ import annotations

import dataclasses
import datetime
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import click

from sgai_guard import __version__
from sgai_guard.errors import ExitCode, GuardError, internal_error_message
from sgai_guard.models import ScanResult
from sgai_guard.outcome import exit_code, incompleteness
from sgai_guard.report import Format, RenderOptions, renderer

if TYPE_CHECKING:
    from sgai_guard.scan import Policy, Settings

_SIZE_UNITS = {
    "": 1,
    "k": 1024,
    "kb": 1024,
    "kib": 1024,
    "m": 1024**2,
    "mb": 1024**2,
    "mib": 1024**2,
    "g": 1024**3,
    "gb": 1024**3,
    "gib": 1024**3,
}


class ByteSize(click.ParamType):  # type: ignore[type-arg]
    name = "size"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> int:
        if isinstance(value, int):
            return value
        text = str(value).strip().lower()
        digits = text.rstrip("abcdefghijklmnopqrstuvwxyz")
        unit = text[len(digits) :].strip()
        if not digits.strip().isdigit() or unit not in _SIZE_UNITS:
            self.fail(f"{value!r} is not a size such as 5MiB, 512k or 1048576", param, ctx)
        return int(digits) * _SIZE_UNITS[unit]


@dataclasses.dataclass(frozen=True, slots=True)
class Output:
    fmt: Format
    path: Path | None
    show_secrets: bool
    show_suppressed: bool
    color: str


def output_options(func: click.decorators.FC) -> click.decorators.FC:
    for option in reversed(
        (
            click.option(
                "--format",
                "fmt",
                type=click.Choice([f.value for f in Format]),
                default=Format.TEXT.value,
                show_default=True,
                help="Report format.",
            ),
            click.option(
                "--output",
                "-o",
                "output_path",
                type=click.Path(dir_okay=False, path_type=Path),
                help="Write the report to FILE (exit code unchanged).",
            ),
            click.option(
                "--show-secrets",
                is_flag=True,
                help="Print secrets in clear text. Never use in shared CI logs.",
            ),
            click.option(
                "--show-suppressed",
                is_flag=True,
                help="List suppressed candidates and why each was suppressed.",
            ),
            click.option(
                "--color",
                type=click.Choice(["auto", "always", "never"]),
                default="auto",
                show_default=True,
                help="Colour in text output.",
            ),
        )
    ):
        func = option(func)
    return func


def _output(
    fmt: str, output_path: Path | None, show_secrets: bool, show_suppressed: bool, color: str
) -> Output:
    return Output(Format(fmt), output_path, show_secrets, show_suppressed, color)


def _use_color(out: Output) -> bool:
    if out.fmt is not Format.TEXT or out.path is not None or out.color == "never":
        return False
    if out.color == "always":
        return True
    return "NO_COLOR" not in os.environ and sys.stdout.isatty()


def finish(
    result: ScanResult, out: Output, *, allow_empty: bool = False, hints: tuple[str, ...] = ()
) -> int:
    """Render and write the report, then return the exit code for the result."""
    result = dataclasses.replace(result, incomplete=incompleteness(result, allow_empty=allow_empty))
    options = RenderOptions(out.show_secrets, out.show_suppressed, _use_color(out), hints)
    report = renderer(out.fmt)(result, options)
    if out.path is None:
        click.echo(report, nl=False, color=options.color)
    else:
        out.path.write_text(report, encoding="utf-8")
        summary = renderer(Format.TEXT)(result, dataclasses.replace(options, color=False))
        click.echo(summary.rstrip("\n").splitlines()[-1], err=True)
    return int(exit_code(result))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="sgai-guard")
def cli() -> None:
    """Find ScrapeGraphAI (sgai-) and Tavily (tvly-) API keys before and after they leak.

    Exit codes: 0 clean, 1 secrets found, 2 usage or configuration error,
    3 incomplete scan (nothing scanned, unreadable files, unresolved git range), 130 interrupted.
    """


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


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option("--staged", is_flag=True, help="Scan the index: what the next commit will hold.")
@click.option(
    "--range",
    "rev_range",
    metavar="BASE..HEAD",
    help="Scan the blobs the commits in BASE..HEAD add, and keys they remove.",
)
@click.option("--since", metavar="REF", help="Same as --range REF..HEAD.")
@click.option(
    "--fail-on-removed",
    is_flag=True,
    help="A key a range removes blocks too (it is still in history and live).",
)
@click.option("--no-gitignore", is_flag=True, help="Also scan files that .gitignore excludes.")
@click.option(
    "--max-file-size",
    type=ByteSize(),
    default=None,
    help="Files larger than this are listed as skipped (default 5MiB).",
)
@policy_options
@output_options
def scan(
    paths: tuple[Path, ...],
    staged: bool,
    rev_range: str | None,
    since: str | None,
    fail_on_removed: bool,
    no_gitignore: bool,
    max_file_size: int | None,
    config_path: Path | None,
    baseline_path: Path | None,
    other_markers: bool,
    **opts: object,
) -> None:
    """Scan work-tree files under PATHS (default: the current directory), the index
    (--staged) or a commit range (--range, --since)."""
    from sgai_guard import jobs  # noqa: PLC0415

    out = _output(**opts)  # type: ignore[arg-type]
    modes = [
        m for m, on in (("--staged", staged), ("--range", rev_range), ("--since", since)) if on
    ]
    if len(modes) > 1 or (modes and paths):
        raise click.UsageError(f"choose one of PATHS, --staged, --range, --since (got {modes})")
    start = paths[0] if paths and paths[0].is_dir() else (paths[0].parent if paths else Path())
    prep = jobs.prepare(
        start,
        config_path=config_path,
        baseline_path=baseline_path,
        fail_on_removed=fail_on_removed,
        other_markers=other_markers,
    )
    policy = prep.allowlist
    if staged:
        result = jobs.staged(Path(), settings=prep.settings, policy=policy)
    elif rev_range or since:
        result = _range(rev_range or f"{since}..HEAD", prep.settings, policy)
    else:
        size = max_file_size or ByteSize().convert(prep.config.max_file_size or "5MiB", None, None)
        result = jobs.worktree(
            paths or (Path(),),
            use_gitignore=not no_gitignore,
            max_size=size,
            settings=prep.settings,
            policy=policy,
        )
    result = jobs.with_allowlist_notices(result, prep, full_scan=not paths and not modes)
    raise SystemExit(finish(result, out, allow_empty=_may_be_empty(result)))


def _may_be_empty(result: ScanResult) -> bool:
    """Only a source that said why it had nothing to scan may finish clean having scanned
    nothing; allowlist notices do not count."""
    return any(
        n.startswith(
            (
                "nothing is staged",
                "the range",
                "the repository has no refs",
                "git named no ref",
                "deleting ",
            )
        )
        for n in result.notices
    )


def _range(text: str, settings: Settings, policy: Policy) -> ScanResult:
    from sgai_guard import jobs  # noqa: PLC0415
    from sgai_guard.sources.repo import open_repository  # noqa: PLC0415

    if "..." in text or ".." not in text:
        raise click.UsageError(f"--range takes BASE..HEAD, not {text!r}")
    base, head = text.split("..", 1)
    repo = open_repository(Path())
    base_oid, head_oid = repo.commit(base or "HEAD"), repo.commit(head or "HEAD")
    return jobs.commit_range(repo, base_oid, head_oid, settings=settings, policy=policy, label=text)


@cli.command()
@click.argument("repo", default=".", type=click.Path(file_okay=False, path_type=Path))
@click.option("--include-reflog", is_flag=True, help="Also scan commits only the reflog holds.")
@click.option(
    "--include-unreachable",
    is_flag=True,
    help="Also scan blobs no ref reaches (dangling objects not yet pruned).",
)
@click.option(
    "--progress",
    type=click.Choice(["auto", "always", "never"]),
    default="auto",
    show_default=True,
    help="Progress on stderr (auto: on a terminal, not in CI).",
)
@policy_options
@output_options
def audit(
    repo: Path,
    include_reflog: bool,
    include_unreachable: bool,
    progress: str,
    config_path: Path | None,
    baseline_path: Path | None,
    other_markers: bool,
    **opts: object,
) -> None:
    """Scan every blob reachable from every ref of REPO (also bare), once, and triage each
    secret: where it is, who introduced it, whether it is at HEAD and whether it was pushed."""
    from sgai_guard import jobs  # noqa: PLC0415
    from sgai_guard import progress as progress_line  # noqa: PLC0415

    out = _output(**opts)  # type: ignore[arg-type]
    prep = jobs.prepare(
        repo if repo.exists() else Path(),
        config_path=config_path,
        baseline_path=baseline_path,
        other_markers=other_markers,
    )
    bar: progress_line.ProgressLine | None = None

    def make_bar(total: int | None) -> progress_line.ProgressLine:
        nonlocal bar
        bar = progress_line.ProgressLine(total)
        return bar

    try:
        result = jobs.audit(
            repo,
            settings=prep.settings,
            policy=prep.allowlist,
            include_reflog=include_reflog,
            include_unreachable=include_unreachable,
            progress=make_bar if progress_line.wanted(progress) else None,
        )
    finally:
        if bar is not None:
            bar.close()
    result = jobs.with_allowlist_notices(result, prep, full_scan=True)
    raise SystemExit(finish(result, out, allow_empty=_may_be_empty(result)))


@cli.command("ci")
@click.option("--base", metavar="REF", help="Scan REF..HEAD (outside GitHub Actions/GitLab CI).")
@click.option("--head", metavar="REF", help="The head of the range (default HEAD).")
@click.option(
    "--remote",
    default="origin",
    show_default=True,
    help="Remote to fetch from when the clone is too shallow.",
)
@click.option(
    "--fail-on-removed",
    is_flag=True,
    help="A key the change removes blocks too (it is still in history and live).",
)
@policy_options
@output_options
def ci_cmd(
    base: str | None,
    head: str | None,
    remote: str,
    fail_on_removed: bool,
    config_path: Path | None,
    baseline_path: Path | None,
    other_markers: bool,
    **opts: object,
) -> None:
    """Scan what this CI run is about: a pull/merge request's commits, a push's commits, or
    (scheduled and manual runs) the whole history. Deepens shallow clones as needed and never
    reports clean for a range it could not resolve."""
    from sgai_guard import jobs  # noqa: PLC0415
    from sgai_guard.ci import plan  # noqa: PLC0415

    out = _output(**opts)  # type: ignore[arg-type]
    prep = jobs.prepare(
        Path(),
        config_path=config_path,
        baseline_path=baseline_path,
        fail_on_removed=fail_on_removed,
        other_markers=other_markers,
    )
    what = plan(os.environ, base, head)
    result = jobs.ci(Path(), what, remote=remote, settings=prep.settings, policy=prep.allowlist)
    result = jobs.with_allowlist_notices(result, prep, full_scan=what.audit)
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        options = RenderOptions(show_suppressed=out.show_suppressed)
        final = dataclasses.replace(
            result, incomplete=incompleteness(result, allow_empty=_may_be_empty(result))
        )
        with Path(summary).open("a", encoding="utf-8") as handle:
            handle.write(renderer(Format.MARKDOWN)(final, options))
    raise SystemExit(finish(result, out, allow_empty=_may_be_empty(result)))


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
    from sgai_guard import baseline, jobs  # noqa: PLC0415

    prep = jobs.prepare(path, config_path=config_path)
    result = jobs.worktree(
        (path,),
        use_gitignore=True,
        max_size=5 * 2**20,
        settings=prep.settings,
        policy=prep.allowlist,
    )
    if incompleteness(result):
        for reason in incompleteness(result):
            click.echo(f"sgai-guard: {reason}", err=True)
        raise SystemExit(int(ExitCode.INCOMPLETE))
    current = baseline.entries_from(result.findings)
    if update:
        if not output_path.exists():
            raise click.UsageError(f"--update needs an existing baseline; {output_path} is missing")
        previous = baseline.load(output_path)
        entries = baseline.prune(previous, current)
        click.echo(
            f"pruned {len(previous) - len(entries)} secret(s) no longer present; "
            f"{len(set(current) - set(previous))} new secret(s) NOT added",
            err=True,
        )
    else:
        entries = current
        click.echo(f"recorded {len(entries)} secret(s) in {output_path}", err=True)
    output_path.write_text(baseline.render(entries), encoding="utf-8")


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
    from sgai_guard import allow_edit  # noqa: PLC0415

    target = allow_edit.add_entry(
        config_path, fingerprint, reason, expires.date() if expires else None, glob
    )
    click.echo(f"added an allow entry for {fingerprint} to {target}")


@cli.command("install-hook")
@click.option("--pre-push", is_flag=True, help="Install the pre-push hook instead.")
@click.option("--force", is_flag=True, help="Replace an existing hook not written by sgai-guard.")
def install_hook(pre_push: bool, force: bool) -> None:
    """Install sgai-guard as this repository's plain git pre-commit (or pre-push) hook.

    With the pre-commit framework, add the hooks from .pre-commit-hooks.yaml instead."""
    from sgai_guard.sources.hooks import install  # noqa: PLC0415
    from sgai_guard.sources.repo import open_repository  # noqa: PLC0415

    target = install(open_repository(Path()), pre_push=pre_push, force=force)
    click.echo(f"installed {target}")


@cli.command(context_settings={"ignore_unknown_options": True})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def hook(args: tuple[str, ...]) -> None:
    """The hook itself: `hook [FILE...]` for pre-commit, `hook --pre-push` for pre-push."""
    from sgai_guard.hook import main as hook_main  # noqa: PLC0415

    raise SystemExit(hook_main(list(args)))


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
