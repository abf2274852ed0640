"""Jobs on a Dask distributed cluster (``--dask tcp://HOST:8786``): the same job function as
the local pool, run by the workers, with answers sent back to this client. The only module
that imports Dask (the optional extra ``sgai-guard[dask]``). A worker lost mid-job is no
loss: the scheduler runs its task again elsewhere, and jobs are idempotent."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from sgai_guard.errors import UsageError
from sgai_guard.fleet.executors import lost
from sgai_guard.fleet.job import Job, RepoResult, run_job

if TYPE_CHECKING:
    from distributed import Client


def _connect(address: str) -> Client:
    try:
        from distributed import Client  # noqa: PLC0415
    except ImportError as exc:
        raise UsageError('--dask needs the Dask extra: pip install "sgai-guard[dask]"') from exc
    try:
        return Client(address, timeout="20s", set_as_default=False)  # type: ignore[no-untyped-call]
    except (OSError, TimeoutError, ValueError) as exc:
        raise UsageError(f"cannot reach the Dask scheduler at {address}: {exc}") from exc


class DaskCluster:
    def __init__(self, address: str) -> None:
        self.address = address
        self.client: Client | None = None
        self.futures: list[Any] = []

    def results(self, jobs: Sequence[Job]) -> Iterator[RepoResult]:
        from distributed import as_completed  # noqa: PLC0415

        if not jobs:
            return
        self.client = _connect(self.address)
        # pure=False: a rerun is a new task, never an answer cached from an earlier run
        self.futures = self.client.map(run_job, list(jobs), pure=False)
        by_key = {future.key: job for future, job in zip(self.futures, jobs, strict=True)}
        done = as_completed(self.futures, loop=self.client.loop)  # type: ignore[no-untyped-call]
        for future in done:
            try:
                answer = future.result()
            except Exception as exc:  # the task failed beyond Dask's retries
                answer = lost(by_key[future.key], exc)
            future.release()  # its secrets leave the worker's memory now, not at the end
            yield answer

    def close(self, *, interrupted: bool) -> None:
        if self.client is None:
            return
        if interrupted and self.futures:
            self.client.cancel(self.futures)  # type: ignore[no-untyped-call]
        self.client.close()  # type: ignore[no-untyped-call]
        self.client = None
