"""Where jobs run: the default local process pool (nothing to start), or a Dask cluster
(fleet.dask_executor, imported only when asked for). Both yield results as they finish."""

from __future__ import annotations

import signal
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from typing import Protocol

from sgai_guard.fleet.job import Job, RepoResult, run_job


class Executor(Protocol):
    def results(self, jobs: Sequence[Job]) -> Iterator[RepoResult]:
        """Run every job; yield each answer as it comes, in any order."""
        ...

    def close(self, *, interrupted: bool) -> None:
        """Release the workers; ``interrupted``: stop what still runs, now."""
        ...


def lost(job: Job, exc: BaseException) -> RepoResult:
    """The answer for a job whose worker died: a failure, retried by the next run."""
    return RepoResult(job.target.name, job.target.shown, error=f"the job was lost: {exc!r}")


def _ignore_sigint() -> None:
    """Ctrl-C is the client's to handle: it stops the workers itself."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class LocalPool:
    def __init__(self, workers: int) -> None:
        self.workers = max(workers, 1)
        self.pool: ProcessPoolExecutor | None = None

    def results(self, jobs: Sequence[Job]) -> Iterator[RepoResult]:
        if not jobs:
            return
        size = min(self.workers, len(jobs))
        self.pool = ProcessPoolExecutor(max_workers=size, initializer=_ignore_sigint)
        futures: dict[Future[RepoResult], Job] = {
            self.pool.submit(run_job, job): job for job in jobs
        }
        for future in as_completed(futures):
            try:
                yield future.result()
            except Exception as exc:  # its worker died (out of memory?)
                yield lost(futures[future], exc)

    def close(self, *, interrupted: bool) -> None:
        if self.pool is None:
            return
        if interrupted:
            processes = getattr(self.pool, "_processes", None) or {}
            for process in list(processes.values()):
                process.terminate()
        self.pool.shutdown(wait=True, cancel_futures=True)
        self.pool = None
