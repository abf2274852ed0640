"""`sgai-guard audit` (one repository's whole history, or many: see cli/fleet.py) and
`sgai-guard ci` (what a CI run is about)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import click

from sgai_guard.cli.baseconfig import judged_by
from sgai_guard.cli.checking import Check, checked, configured, verify_options
from sgai_guard.cli.group import cli
from sgai_guard.cli.options import (
    ByteSize,
    archive_options,
    policy_options,
    progress_option,
)
from sgai_guard.cli.output import Output, finish, output_options
from sgai_guard.engine.audit import AuditSource, own_word
from sgai_guard.engine.prepare import Prepared, prepare
from sgai_guard.engine.run import run
from sgai_guard.errors import ExitCode, say
from sgai_guard.report import Format, RenderOptions, renderer

if TYPE_CHECKING:
    from sgai_guard.ci import Plan
    from sgai_guard.engine.source import Source
    from sgai_guard.models import ScanResult


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
    archives: dict[str, int],
    config_path: Path | None,
    baseline_path: Path | None,
    other_markers: bool,
    out: Output,
    check: Check,
) -> None:
    """Scan every blob reachable from every ref of REPO (also bare), once, and triage each
    secret: where it is, who introduced it, whether it is at HEAD and whether it was pushed.
    Several targets (repositories or URLs, --targets-file) run as one job each (see --out)."""
    from sgai_guard.cli import fleet  # noqa: PLC0415

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
            archives=archives,
            config_path=config_path,
            baseline_path=baseline_path,
            other_markers=other_markers,
            out=out,
            check=check,
        )

    prep = prepare(
        repo if repo.exists() else Path(),
        config_path=config_path,
        baseline_path=baseline_path,
        other_markers=other_markers,
        archives=archives,
    )
    source = AuditSource(
        repo,
        include_reflog=include_reflog,
        include_unreachable=include_unreachable,
        max_blob_size=max_blob_size,
    )
    result = _audited(source, prep, progress)
    if config_path is None:
        own = own_word(result, prep.config.source if prep.config else None)
        result = result._replace(notices=result.notices + own)
    check = configured(check, prep.config.fail_on if prep.config else None)
    raise SystemExit(finish(result, out, check=check))


def _audited(source: AuditSource, prep: Prepared, progress: str) -> ScanResult:
    from sgai_guard import progress as progress_line  # noqa: PLC0415

    bar = progress_line.ProgressLine(source.total()) if progress_line.wanted(progress) else None
    try:
        return run(source, prep, full_scan=True, progress=bar)
    finally:
        if bar is not None:
            bar.close()


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
    archives: dict[str, int],
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

    what = plan(os.environ, base, head)
    source = _ci_source(what, (remote, remote_url))
    judged, notice = judged_by(source, config_path)
    prep = prepare(
        Path(),
        config_path=judged,
        baseline_path=baseline_path,
        fail_on_removed=fail_on_removed,
        other_markers=other_markers,
        archives=archives,
    )
    result = run(source, prep, full_scan=what.audit)
    if notice:
        result = result._replace(notices=(notice, *result.notices))
    # verified before the job summary is written, so that it shows the verdicts too
    check = configured(check, prep.config.fail_on if prep.config else None)
    result, interrupted = checked(result, check)
    written = _job_summary(result, out)
    code = finish(result, out)
    if interrupted:
        code = int(ExitCode.INTERRUPTED)
    raise SystemExit(code if written else int(ExitCode.USAGE))


def _ci_source(what: Plan, remote: tuple[str, str | None]) -> Source:
    """The whole history for scheduled and manual runs; else the range, fetched as needed."""
    if what.audit:
        return AuditSource(Path())
    from sgai_guard.sources.cirange import ci_source  # noqa: PLC0415
    from sgai_guard.sources.repo import open_repository  # noqa: PLC0415

    return ci_source(open_repository(Path()), what, remote)


def _job_summary(result: ScanResult, out: Output) -> bool:
    """Append the markdown report to GitHub's job summary; False (after saying why) when the
    file cannot be written. The main report is written all the same."""
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if not summary:
        return True
    options = RenderOptions(show_suppressed=out.show_suppressed)
    try:
        with Path(summary).open("a", encoding="utf-8") as handle:
            handle.write(renderer(Format.MARKDOWN)(result, options))
    except OSError as exc:
        say(f"sgai-guard: error: cannot write the job summary {summary}: {exc.strerror or exc}")
        return False
    return True
