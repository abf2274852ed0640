"""A fleet run: one job per target on an executor; the client writes each answer as it comes
(so an interrupted run keeps what it has and a rerun resumes), counts, and reports."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from pathlib import Path

from sgai_guard import __version__
from sgai_guard.engine.outcome import incompleteness
from sgai_guard.errors import GuardError, say
from sgai_guard.fleet.executors import Executor
from sgai_guard.fleet.job import AuditOptions, Job, RepoResult, settings_digest
from sgai_guard.fleet.progress import FleetProgress, Tally
from sgai_guard.fleet.resultfile import Stored
from sgai_guard.fleet.store import Store
from sgai_guard.fleet.targets import Target
from sgai_guard.models import ScanResult

# Sees every result audited in this run while its secrets are still in memory (never in a
# file), and returns them changed: the hook for --verify across the fleet (one verdict per
# distinct key). What it returns is written over what was written as the jobs finished.
Review = Callable[[list[RepoResult]], list[RepoResult]]


def with_digest(options: AuditOptions) -> AuditOptions:
    """The options, the tool version and the configuration and baseline contents, hashed:
    part of every state, so that a rerun with other options or rules audits again."""
    digest = hashlib.sha256(repr((__version__, options._replace(digest=""))).encode())
    for path in (options.config_path, options.baseline_path):
        if path:
            digest.update(Path(path).read_bytes())
    if options.config_path and not options.baseline_path:  # the baseline it names (a review:
        digest.update(settings_digest(options.config_path).encode())  # emptied, reused)
    return options._replace(digest=digest.hexdigest()[:16])


def stored(item: RepoResult) -> Stored:
    return Stored(item.name, item.target, item.state, item.salt_id, item.result, item.error)


class Run:
    def __init__(self, store: Store, executor: Executor, progress: FleetProgress) -> None:
        self.store = store
        self.executor = executor
        self.progress = progress
        self.tally = Tally(progress.total)
        self.fresh: list[RepoResult] = []

    def record(self, item: RepoResult) -> None:
        if item.error:
            self.store.write(stored(item), complete=False)
            self.progress.clear()
            say(f"sgai-guard: {item.target}: failed: {item.error}")
            self.tally = self.tally._replace(failed=self.tally.failed + 1)
            return
        if item.result is None:
            result = self._written(item)
            self.tally = self.tally._replace(unchanged=self.tally.unchanged + 1)
        else:
            result = item.result
            complete = not incompleteness(result)
            self.store.write(stored(item), complete=complete)
            self.fresh.append(item)
            self.tally = self.tally._replace(
                scanned=self.tally.scanned + 1, incomplete=self.tally.incomplete + (not complete)
            )
        if result is not None:
            found, blocking = len(result.findings), len(result.blocking)
            self.tally = self.tally._replace(
                findings=self.tally.findings + found, blocking=self.tally.blocking + blocking
            )

    def _written(self, item: RepoResult) -> ScanResult | None:
        """The result a skipped repository already has on file (for the counts)."""
        try:
            return self.store.read(self.store.path_of(item.name, item.state)).result
        except (OSError, GuardError):
            return None

    def review(self, review: Review) -> None:
        """The fresh results, reviewed, written over; the tally counts what blocks after
        the review (it said "1 blocking" of a run that exited 0: an attacker review)."""
        before = sum(len(item.result.blocking) for item in self.fresh if item.result)
        after = 0
        for item in review(self.fresh):
            complete = item.result is not None and not incompleteness(item.result)
            self.store.write(stored(item), complete=complete)
            after += len(item.result.blocking) if item.result else 0
        self.tally = self.tally._replace(blocking=self.tally.blocking - before + after)


def run(
    targets: Sequence[Target],
    options: AuditOptions,
    *,
    cache: str | None,
    store: Store,
    executor: Executor,
    progress: FleetProgress,
    review: Review | None = None,
) -> Tally:
    """Audit every target; an interrupt stops the workers and keeps what is written."""
    done = store.done()
    jobs = [Job(t, cache, options, done.get(t.name, frozenset())) for t in targets]
    state = Run(store, executor, progress)
    try:
        for item in executor.results(jobs):
            state.record(item)
            progress.update(state.tally)
    except KeyboardInterrupt:
        executor.close(interrupted=True)
        progress.close()
        say(f"sgai-guard: {state.tally.done} result(s) kept in {store.folder}: run again to resume")
        raise
    executor.close(interrupted=False)
    if review is not None:
        state.review(review)
    say(state.tally.line(progress.close()))
    return state.tally
