"""`sgai-guard scan`: work-tree files, standard input, the index, or a commit range."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import click

from sgai_guard.cli.checking import Check, configured, verify_options
from sgai_guard.cli.group import cli
from sgai_guard.cli.options import (
    ByteSize,
    archive_options,
    policy_options,
    progress_option,
)
from sgai_guard.cli.output import Output, finish, output_options
from sgai_guard.engine.run import run
from sgai_guard.sources.local import StagedSource, StdinSource, WorktreeSource

if TYPE_CHECKING:
    from sgai_guard.engine.prepare import Prepared
    from sgai_guard.engine.source import Source
    from sgai_guard.models import ScanResult


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
    "files are read in bounded pieces. 0: no limit, whatever the configuration says.",
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
    archives: dict[str, int],
    config_path: Path | None,
    baseline_path: Path | None,
    other_markers: bool,
    out: Output,
    check: Check,
) -> None:
    """Scan work-tree files under PATHS (default: the current directory; `-`: standard input),
    the index (--staged) or a commit range (--range, --since)."""
    from sgai_guard.engine.prepare import prepare  # noqa: PLC0415

    stdin = _stdin_wanted(paths, stdin_filename)
    modes = _modes(paths, stdin, staged=staged, rev_range=rev_range, since=since)
    prep = prepare(
        _start(paths, config_path),
        config_path=config_path,
        baseline_path=baseline_path,
        fail_on_removed=fail_on_removed,
        other_markers=other_markers,
        archives=archives,
    )
    if stdin:
        source: Source = _stdin(stdin_filename)
    elif staged:
        source = StagedSource(Path(), check_bare=True)
    elif rev_range or since:
        source = _range(rev_range or f"{since}..HEAD")
    else:
        source = _worktree(paths, no_gitignore, max_file_size, prep)
    bar_wanted = not (stdin or modes) and _bar(progress)
    result = _with_bar(source, prep, bar_wanted, full_scan=_full_scan(paths, modes, prep))
    check = configured(check, prep.config.fail_on if prep.config else None)
    raise SystemExit(finish(result, out, check=check))


def _start(paths: tuple[Path, ...], config_path: Path | None) -> Path:
    """Where the configuration is looked for: the first path's folder, else here. PATHS
    governed by different configurations are refused (without --config): the first one's
    applied to all, so a folder whose `.sgai-guard.toml` excludes every path hid the keys of
    the paths after it, and the result hung on the order of the arguments (found by a
    review)."""
    starts = [path if path.is_dir() else path.parent for path in paths if path != Path("-")]
    if not starts:
        return Path()
    if config_path is None and len(starts) > 1:
        from sgai_guard.policy import configfile  # noqa: PLC0415

        found = {str(start): configfile.find(start) for start in starts}
        if len(set(found.values())) > 1:
            which = "; ".join(f"{start}: {conf or 'none'}" for start, conf in found.items())
            raise click.UsageError(
                f"PATHS are governed by different configuration files ({which}): scan them "
                "one at a time, or name one with --config"
            )
    return starts[0]


def _full_scan(paths: tuple[Path, ...], modes: list[str], prep: Prepared) -> bool:
    """Whether the scan read everything the configuration governs (its allow entries that
    matched nothing are then listed as unused): its folder, or one above it, is among the
    PATHS. `scan .` from the root is one, as `scan` is; `scan` from a folder below the
    configuration's is not (found by a review: the two were told apart by the argument)."""
    where = prep.config.source if prep.config else None
    if modes or where is None:
        return not modes and not paths
    top = Path(os.path.realpath(where.parent))
    scanned = (Path(os.path.realpath(path)) for path in paths or (Path(),) if path.is_dir())
    return any(top.is_relative_to(folder) for folder in scanned)


def _worktree(
    paths: tuple[Path, ...], no_gitignore: bool, max_file_size: int | None, prep: Prepared
) -> WorktreeSource:
    size: int | None = max_file_size or None  # 0: no cap at all, whatever the file says
    if max_file_size is not None:  # the command line wins over the file
        cap = "--max-file-size"
    else:
        size = prep.config.max_file_size if prep.config else None
        where = prep.config.source if prep.config else None
        cap = f"max-file-size in {where}" if where else "max-file-size"
    return WorktreeSource(
        paths or (Path(),), use_gitignore=not no_gitignore, max_size=size, cap_from=cap
    )


def _modes(
    paths: tuple[Path, ...], stdin: bool, *, staged: bool, rev_range: str | None, since: str | None
) -> list[str]:
    """The one way of scanning asked for besides PATHS; a usage error for more than one."""
    for path in () if stdin else paths:  # a symlink exists even when its target does not
        if not os.path.lexists(path):
            raise click.BadParameter(f"Path {str(path)!r} does not exist.", param_hint="PATHS")
    modes = [
        m for m, on in (("--staged", staged), ("--range", rev_range), ("--since", since)) if on
    ]
    if len(modes) > 1 or (modes and paths):
        got = ", ".join((["PATHS"] if paths else []) + modes)
        raise click.UsageError(f"choose one of PATHS, --staged, --range, --since (got {got})")
    return modes


def _with_bar(source: Source, prep: Prepared, wanted: bool, *, full_scan: bool) -> ScanResult:
    from sgai_guard import progress as progress_line  # noqa: PLC0415

    bar = progress_line.ProgressLine(noun="file") if wanted else None
    try:
        return run(source, prep, full_scan=full_scan, progress=bar)
    finally:
        if bar is not None:
            bar.close()


def _bar(progress: str) -> bool:
    from sgai_guard import progress as progress_line  # noqa: PLC0415

    return progress_line.wanted(progress)


def _stdin_wanted(paths: tuple[Path, ...], name: str | None) -> bool:
    if Path("-") not in paths:
        if name is not None:
            raise click.UsageError("--stdin-filename goes with `-` (scan standard input)")
        return False
    if len(paths) > 1:
        raise click.UsageError("`-` (standard input) cannot be combined with other paths")
    return True


def _stdin(name: str | None) -> StdinSource:
    import sys  # noqa: PLC0415

    from sgai_guard.sources.stdin import STDIN_NAME  # noqa: PLC0415

    if sys.stdin is None or sys.stdin.isatty():
        raise click.UsageError("`scan -` reads standard input: pipe or redirect something into it")
    return StdinSource(sys.stdin.buffer, (name or STDIN_NAME).replace("\\", "/"))


def _range(text: str) -> Source:
    from sgai_guard.sources.commits import RangeScan  # noqa: PLC0415
    from sgai_guard.sources.repo import open_repository  # noqa: PLC0415

    if "..." in text or ".." not in text:
        raise click.UsageError(f"--range takes BASE..HEAD, not {text!r}")
    base, head = text.split("..", 1)
    repo = open_repository(Path())
    base_oid, head_oid = repo.commit(base or "HEAD"), repo.commit(head or "HEAD")
    return RangeScan(repo, base_oid, head_oid, (), text)
