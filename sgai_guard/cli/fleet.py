"""Fleet commands: `audit` of many targets (called by the audit command) and `merge OUT/` to
report on a results folder as one; `repos` (listing an organisation) is in cli.repos."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple, NoReturn

import click

from sgai_guard.cli.group import cli
from sgai_guard.cli.output import Output, finish, output_options
from sgai_guard.models import Finding, ScanResult, ScanStats

if TYPE_CHECKING:
    from sgai_guard.cli.checking import Check
    from sgai_guard.fleet.executors import Executor
    from sgai_guard.fleet.job import AuditOptions, RepoResult
    from sgai_guard.fleet.runner import Review
    from sgai_guard.fleet.targets import Target


class FleetOptions(NamedTuple):
    """The audit options that make an audit a fleet run."""

    targets_file: Path | None = None
    out_dir: Path | None = None
    workers: int | None = None
    dask: str | None = None
    cache: Path | None = None

    @property
    def any(self) -> bool:
        return any(value is not None for value in self)


def single_local(targets: Sequence[str], fleet: FleetOptions) -> Path | None:
    """The one local repository of a plain `audit [REPO]`, checked as before; None when the
    audit is a fleet run (several targets, a URL, or a fleet option)."""
    from sgai_guard.fleet.targets import is_remote  # noqa: PLC0415

    if fleet.any or len(targets) > 1 or (targets and is_remote(targets[0])):
        return None
    ctx = click.get_current_context()
    param = next(p for p in ctx.command.params if p.name == "targets")
    checked: Path = click.Path(file_okay=False, path_type=Path).convert(
        targets[0] if targets else ".", param, ctx
    )
    return checked


def audit_many(
    targets: Sequence[str],
    fleet: FleetOptions,
    *,
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
) -> NoReturn:
    """Audit every target, one job each, writing OUT/<name>@<state>.json; then report on them
    together, as `merge` does. Without --out the results go to a temporary folder."""
    from sgai_guard.fleet import merge, runner  # noqa: PLC0415
    from sgai_guard.fleet.job import AuditOptions as Options  # noqa: PLC0415

    items = _targets(targets, fleet)
    options = runner.with_digest(
        Options(
            include_reflog,
            include_unreachable,
            max_blob_size,
            tuple(sorted(archives.items())),
            _absolute(config_path),
            _absolute(baseline_path),
            other_markers,
            _verifying_settings(check),
        )
    )
    with tempfile.TemporaryDirectory(prefix="sgai-guard-") as scratch:
        folder = fleet.out_dir or Path(scratch)
        _run(items, options, fleet, folder, progress, check)
        loaded, unreadable = merge.load(folder)
        names = {item.name for item in items}
        result = merge.merged([i for i in loaded if i.name in names], unreadable)
        raise SystemExit(finish(result, out))


def _targets(given: Sequence[str], fleet: FleetOptions) -> list[Target]:
    from sgai_guard.fleet.targets import parse  # noqa: PLC0415

    if fleet.dask and fleet.workers:
        raise click.UsageError("--jobs sizes the local pool: it does not go with --dask")
    files = [str(fleet.targets_file)] if fleet.targets_file else []
    items = parse(given or (() if files else (".",)), files)
    if not items:
        raise click.UsageError("no targets: the targets file lists none")
    return items


def _verifying_settings(check: Check) -> str:
    """What decides a verdict and what it blocks, resolved ("" without --verify)."""
    if not check.enabled:
        return ""
    from sgai_guard.verify.endpoints import (  # noqa: PLC0415
        endpoints_from_environment,
        endpoints_from_options,
    )

    endpoints = endpoints_from_options(check.endpoints, endpoints_from_environment(os.environ))
    fail_on = sorted(v.value for v in check.fail_on) if check.fail_on is not None else None
    return repr((tuple(endpoints), fail_on))


def _absolute(path: Path | None) -> str | None:
    """As a worker elsewhere sees it (the same path must exist there)."""
    return str(path.resolve()) if path else None


def _run(
    items: list[Target],
    options: AuditOptions,
    fleet: FleetOptions,
    folder: Path,
    progress: str,
    check: Check,
) -> None:
    from sgai_guard import progress as progress_line  # noqa: PLC0415
    from sgai_guard.fleet import runner  # noqa: PLC0415
    from sgai_guard.fleet.progress import FleetProgress  # noqa: PLC0415
    from sgai_guard.fleet.store import Store  # noqa: PLC0415

    runner.run(
        items,
        options,
        cache=str(fleet.cache.resolve()) if fleet.cache else None,
        store=Store(folder),
        executor=_executor(fleet),
        progress=FleetProgress(len(items), progress_line.wanted(progress)),
        review=_verifying(check) if check.enabled else None,
    )


def _verifying(check: Check) -> Review:
    """--verify across the fleet: the keys audited in this run, whose secrets the workers
    sent back in memory, checked together (one verdict per distinct key); results left
    unchanged since an earlier run keep the verdicts written with them."""

    def review(fresh: list[RepoResult]) -> list[RepoResult]:
        from sgai_guard.cli.checking import checked  # noqa: PLC0415

        every = tuple(f for item in fresh if item.result for f in item.result.findings)
        done, _ = checked(ScanResult(every, (), (), ScanStats()), check)
        by_place = {_place(f): f for f in done.findings}
        return [
            item._replace(
                result=item.result._replace(
                    findings=tuple(by_place.get(_place(f), f) for f in item.result.findings)
                )
            )
            if item.result
            else item
            for item in fresh
        ]

    return review


def _place(finding: Finding) -> tuple[object, ...]:
    return (
        finding.repository,
        finding.fingerprint,
        finding.path,
        finding.line,
        finding.column,
        finding.commit,
    )


def _executor(fleet: FleetOptions) -> Executor:
    if fleet.dask:
        from sgai_guard.fleet.dask_executor import DaskCluster  # noqa: PLC0415

        return DaskCluster(fleet.dask)
    from sgai_guard.fleet.executors import LocalPool  # noqa: PLC0415

    return LocalPool(fleet.workers or os.cpu_count() or 1)


@cli.command("merge")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@output_options
def merge_cmd(folder: Path, out: Output) -> None:
    """Report on a results folder (OUT/ of `audit --out`, or the artifacts of a CI matrix)
    as one: a key found in several repositories is one entry naming each of them."""
    from sgai_guard.fleet import merge  # noqa: PLC0415

    items, unreadable = merge.load(folder)
    result = merge.merged(items, unreadable)
    if not items and not unreadable:  # a newcomer review: "no file or commit matched" said
        none = f"{folder} holds no result file (the OUT/ folder of `audit --out`)"
        result = result._replace(incomplete=(none, *result.incomplete))
    raise SystemExit(finish(result, out))
