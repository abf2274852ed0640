"""The one way a scan runs: a source's blobs through the engine, then what the source learnt,
the allowlist's notices and the reasons it is incomplete, folded in once."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sgai_guard.detection.detect import Detector
from sgai_guard.engine.outcome import incompleteness
from sgai_guard.engine.scan import Progress, scan
from sgai_guard.models import ScanResult, Summary

if TYPE_CHECKING:
    from sgai_guard.engine.prepare import Prepared
    from sgai_guard.engine.source import Source


def run(
    source: Source,
    prepared: Prepared,
    *,
    full_scan: bool = False,
    progress: Progress | None = None,
) -> ScanResult:
    """Scan ``source`` under ``prepared``. ``full_scan``: everything a configuration could
    name was scanned, so allow entries that matched nothing are worth listing."""
    detector = Detector()
    if getattr(source, "bulk", False):  # it reads much: Hyperscan from its first byte
        detector.prefilter.warm()
    result = scan(
        source.items(),
        settings=prepared.settings,
        policy=prepared.policy,
        detector=detector,
        progress=progress,
    )
    refine = getattr(source, "refine", None)  # a Refining source (the audit's triage)
    if refine is not None:
        result = refine(result)
    result = merged(result, source.summary())
    if prepared.allowlist is not None:
        notices = prepared.allowlist.notices(full_scan=full_scan)
        result = merged(result, Summary(notices=tuple(notices)))
    return result._replace(incomplete=incompleteness(result))


def merged(result: ScanResult, summary: Summary) -> ScanResult:
    """Fold in what a source learnt; ``empty_ok``: it said why there was nothing to scan."""
    stats = result.stats
    if summary.commits is not None:
        stats = stats._replace(commits=summary.commits)
    return result._replace(
        stats=stats,
        notices=(*result.notices, *summary.notices),
        incomplete=(*result.incomplete, *summary.incomplete),
        empty_ok=result.empty_ok or summary.empty_ok,
    )
