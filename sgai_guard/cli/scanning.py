"""The scanning commands: scan (files, index, ranges), audit and ci."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import click

from sgai_guard.cli.checking import Check, configured, verify_options
from sgai_guard.cli.group import cli
from sgai_guard.cli.options import (
    ByteSize,
    Output,
    archive_limits,
    archive_options,
    finish,
    output_options,
    policy_options,
    progress_option,
)
from sgai_guard.engine.outcome import incompleteness
from sgai_guard.errors import ExitCode, say
from sgai_guard.models import ScanResult
from sgai_guard.report import Format, RenderOptions, renderer

if TYPE_CHECKING:
    from sgai_guard.engine.jobs import Prepared
    from sgai_guard.engine.scan import Policy, Settings


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
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
    "--stdin-filename",
    metavar="PATH",
    help="With PATHS `-` (standard input): the path to report, and to match allowlists against.",
)
@click.option(
    "--max-file-size",
    type=ByteSize(),
    default=None,
    help="Skip files larger than this (listed, not a failure). Default: no limit; large "
    "files are read in bounded pieces.",
)
@progress_option
@archive_options
@policy_options
@verify_options
@output_options
def scan(
    paths: tuple[Path, ...],
    staged: bool,
    rev_range: str | None,
    since: str | None,
    fail_on_removed: bool,
    no_gitignore: bool,
    stdin_filename: str | None,
    max_file_size: int | None,
    progress: str,
    archive_depth: int | None,
    archive_max_bytes: int | None,
    archive_max_ratio: int | None,
    archive_max_members: int | None,
    config_path: Path | None,
    baseline_path: Path | None,
    other_markers: bool,
    out: Output,
    check: Check,
) -> None:
    """Scan work-tree files under PATHS (default: the current directory; `-`: standard input),
    the index (--staged) or a commit range (--range, --since)."""
    from sgai_guard.engine import jobs  # noqa: PLC0415

    stdin = _stdin_wanted(paths, stdin_filename)
    for path in () if stdin else paths:  # a symlink exists even when its target does not
        if not os.path.lexists(path):
            raise click.BadParameter(f"Path {str(path)!r} does not exist.", param_hint="PATHS")
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
        archives=archive_limits(
            archive_depth, archive_max_bytes, archive_max_ratio, archive_max_members
        ),
    )
    policy = prep.policy
    if stdin:
        result = _stdin(stdin_filename, prep)
    elif staged:
        result = jobs.staged(Path(), settings=prep.settings, policy=policy, check_bare=True)
    elif rev_range or since:
        result = _range(rev_range or f"{since}..HEAD", prep.settings, policy)
    else:
        size = max_file_size or (prep.config.max_file_size if prep.config else None)
        result = _worktree(paths, not no_gitignore, size, prep, progress)
    result = jobs.with_allowlist_notices(result, prep, full_scan=not paths and not modes)
    check = configured(check, prep.config.fail_on if prep.config else None)
    raise SystemExit(finish(result, out, check=check))


def _stdin_wanted(paths: tuple[Path, ...], name: str | None) -> bool:
    if Path("-") not in paths:
        if name is not None:
            raise click.UsageError("--stdin-filename goes with `-` (scan standard input)")
        return False
    if len(paths) > 1:
        raise click.UsageError("`-` (standard input) cannot be combined with other paths")
    return True


def _stdin(name: str | None, prep: Prepared) -> ScanResult:
    import sys  # noqa: PLC0415

    from sgai_guard.engine.scan import scan as run_scan  # noqa: PLC0415
    from sgai_guard.sources.stdin import STDIN_NAME, stdin_blobs  # noqa: PLC0415

    if sys.stdin is None or sys.stdin.isatty():
        raise click.UsageError("`scan -` reads standard input: pipe or redirect something into it")
    path = (name or STDIN_NAME).replace("\\", "/")
    blobs = stdin_blobs(sys.stdin.buffer, path)
    return run_scan(blobs, settings=prep.settings, policy=prep.policy)


def _worktree(
    paths: tuple[Path, ...], use_gitignore: bool, size: int | None, prep: Prepared, progress: str
) -> ScanResult:
    from sgai_guard import progress as progress_line  # noqa: PLC0415
    from sgai_guard.engine import jobs  # noqa: PLC0415

    bar = progress_line.ProgressLine() if progress_line.wanted(progress) else None
    try:
        return jobs.worktree(
            paths or (Path(),),
            use_gitignore=use_gitignore,
            max_size=size,
            settings=prep.settings,
            policy=prep.policy,
            progress=bar,
        )
    finally:
        if bar is not None:
            bar.close()


def _range(text: str, settings: Settings, policy: Policy | None) -> ScanResult:
    from sgai_guard.engine import jobs  # noqa: PLC0415
    from sgai_guard.sources.repo import open_repository  # noqa: PLC0415

    if "..." in text or ".." not in text:
        raise click.UsageError(f"--range takes BASE..HEAD, not {text!r}")
    base, head = text.split("..", 1)
    repo = open_repository(Path())
    base_oid, head_oid = repo.commit(base or "HEAD"), repo.commit(head or "HEAD")
    return jobs.commit_range(repo, base_oid, head_oid, settings=settings, policy=policy, label=text)


@cli.command()
@click.argument("targets", nargs=-1, metavar="[REPO|URL]...")
@click.option(
    "--targets-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Also audit the targets in FILE (one a line, # comments).",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write one result per repository to DIR (NAME@STATE.json); a rerun skips those done.",
)
@click.option(
    "--jobs", "workers", type=click.IntRange(min=1), help="Local pool size (default: CPUs)."
)
@click.option("--dask", metavar="ADDRESS", help="Run the jobs on a Dask cluster (tcp://HOST:8786).")
@click.option(
    "--cache",
    type=click.Path(file_okay=False, path_type=Path),
    help="Mirrors of remote targets (default ~/.cache/sgai-guard/mirrors).",
)
@click.option("--include-reflog", is_flag=True, help="Also scan commits only the reflog holds.")
@click.option(
    "--include-unreachable",
    is_flag=True,
    help="Also scan blobs no ref reaches (dangling objects not yet pruned).",
)
@progress_option
@click.option(
    "--max-blob-size",
    type=ByteSize(),
    default=None,
    help="Skip blobs larger than this (listed, not a failure). Default: no limit; large "
    "blobs are read in bounded pieces.",
)
@archive_options
@policy_options
@verify_options
@output_options
def audit(
    targets: tuple[str, ...],
    targets_file: Path | None,
    out_dir: Path | None,
    workers: int | None,
    dask: str | None,
    cache: Path | None,
    include_reflog: bool,
    include_unreachable: bool,
    progress: str,
    max_blob_size: int | None,
    archive_depth: int | None,
    archive_max_bytes: int | None,
    archive_max_ratio: int | None,
    archive_max_members: int | None,
    config_path: Path | None,
    baseline_path: Path | None,
    other_markers: bool,
    out: Output,
    check: Check,
) -> None:
    """Scan every blob reachable from every ref of REPO (also bare), once, and triage each
    secret: where it is, who introduced it, whether it is at HEAD and whether it was pushed.
    Several targets (repositories or URLs, --targets-file) run as one job each (see --out)."""
    from sgai_guard import progress as progress_line  # noqa: PLC0415
    from sgai_guard.cli import fleet  # noqa: PLC0415
    from sgai_guard.engine import jobs  # noqa: PLC0415

    many = fleet.FleetOptions(targets_file, out_dir, workers, dask, cache)
    repo = fleet.single_local(targets, many)
    if repo is None:
        fleet.audit_many(
            targets,
            many,
            include_reflog=include_reflog,
            include_unreachable=include_unreachable,
            progress=progress,
            max_blob_size=max_blob_size,
            archives=archive_limits(
                archive_depth, archive_max_bytes, archive_max_ratio, archive_max_members
            ),
            config_path=config_path,
            baseline_path=baseline_path,
            other_markers=other_markers,
            out=out,
            check=check,
        )

    prep = jobs.prepare(
        repo if repo.exists() else Path(),
        config_path=config_path,
        baseline_path=baseline_path,
        other_markers=other_markers,
        archives=archive_limits(
            archive_depth, archive_max_bytes, archive_max_ratio, archive_max_members
        ),
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
            policy=prep.policy,
            include_reflog=include_reflog,
            include_unreachable=include_unreachable,
            progress=make_bar if progress_line.wanted(progress) else None,
            max_blob_size=max_blob_size,
        )
    finally:
        if bar is not None:
            bar.close()
    result = jobs.with_allowlist_notices(result, prep, full_scan=True)
    check = configured(check, prep.config.fail_on if prep.config else None)
    raise SystemExit(finish(result, out, check=check))


@cli.command("ci")
@click.option("--base", metavar="REF", help="Scan REF..HEAD (outside GitHub Actions/GitLab CI).")
@click.option("--head", metavar="REF", help="The head of the range (default HEAD).")
@click.option(
    "--remote",
    default="origin",
    show_default=True,
    help="Remote to fetch from when the clone is too shallow (https, ssh or git URLs only).",
)
@click.option(
    "--remote-url",
    metavar="URL",
    help="Fetch from this URL instead of the remote's configured one (file:// allowed here).",
)
@click.option(
    "--fail-on-removed",
    is_flag=True,
    help="A key the change removes blocks too (it is still in history and live).",
)
@archive_options
@policy_options
@verify_options
@output_options
def ci_cmd(
    base: str | None,
    head: str | None,
    remote: str,
    remote_url: str | None,
    fail_on_removed: bool,
    archive_depth: int | None,
    archive_max_bytes: int | None,
    archive_max_ratio: int | None,
    archive_max_members: int | None,
    config_path: Path | None,
    baseline_path: Path | None,
    other_markers: bool,
    out: Output,
    check: Check,
) -> None:
    """Scan what this CI run is about: a pull/merge request's commits, a push's commits, or
    (scheduled and manual runs) the whole history. Deepens shallow clones as needed and never
    reports clean for a range it could not resolve."""
    from sgai_guard.ci import plan  # noqa: PLC0415
    from sgai_guard.engine import jobs  # noqa: PLC0415

    prep = jobs.prepare(
        Path(),
        config_path=config_path,
        baseline_path=baseline_path,
        fail_on_removed=fail_on_removed,
        other_markers=other_markers,
        archives=archive_limits(
            archive_depth, archive_max_bytes, archive_max_ratio, archive_max_members
        ),
    )
    what = plan(os.environ, base, head)
    result = jobs.ci(
        Path(), what, remote=(remote, remote_url), settings=prep.settings, policy=prep.policy
    )
    result = jobs.with_allowlist_notices(result, prep, full_scan=what.audit)
    written = _job_summary(result, out)
    check = configured(check, prep.config.fail_on if prep.config else None)
    code = finish(result, out, check=check)
    raise SystemExit(code if written else int(ExitCode.USAGE))


def _job_summary(result: ScanResult, out: Output) -> bool:
    """Append the markdown report to GitHub's job summary; False (after saying why) when the
    file cannot be written. The main report is written all the same."""
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if not summary:
        return True
    options = RenderOptions(show_suppressed=out.show_suppressed)
    final = result._replace(incomplete=incompleteness(result))
    try:
        with Path(summary).open("a", encoding="utf-8") as handle:
            handle.write(renderer(Format.MARKDOWN)(final, options))
    except OSError as exc:
        say(f"sgai-guard: error: cannot write the job summary {summary}: {exc.strerror or exc}")
        return False
    return True
