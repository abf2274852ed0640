"""Jobs on a Dask distributed cluster (``--dask tcp://HOST:8786``): the same job function as
the local pool, run by the workers, with answers sent back to this client. The only module
that imports Dask (the optional extra ``sgai-guard[dask]``). A worker lost mid-job is no
loss: the scheduler runs its task again elsewhere, and jobs are idempotent."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from sgai_guard.errors import UsageError, say
from sgai_guard.fleet.executors import lost
from sgai_guard.fleet.job import Job, RepoResult, run_job

if TYPE_CHECKING:
    from distributed import Client


_SCHEMES = ("tcp", "tls", "ws", "wss", "inproc", "ucx")  # what Dask's comms know


def _connect(address: str) -> Client:
    scheme = address.partition("://")[0] if "://" in address else "tcp"
    if scheme not in _SCHEMES:  # Dask refused it only after 40 s and a traceback (a review)
        raise UsageError(
            f"--dask: unknown address scheme {scheme!r}: use one of "
            f"{', '.join(s + '://' for s in _SCHEMES)} (in lower case)"
        )
    if _open_to_others(address):
        say(
            f"sgai-guard: warning: {address} is neither authenticated nor encrypted: whoever "
            "reaches that scheduler runs code on its workers and reads their results; use "
            "tls:// (see the README's fleet section)"
        )
    try:
        from distributed import Client  # noqa: PLC0415
    except ImportError as exc:
        raise UsageError('--dask needs the Dask extra: pip install "sgai-guard[dask]"') from exc
    if scheme in ("tls", "wss"):
        _require_tls_files(scheme)
    try:
        return Client(address, timeout="20s", set_as_default=False)  # type: ignore[no-untyped-call]
    except (OSError, TimeoutError, ValueError, TypeError) as exc:
        raise UsageError(f"cannot reach the Dask scheduler at {address}: {exc}") from exc


def _require_tls_files(scheme: str) -> None:
    """A tls:// (or wss://) scheduler needs this client's CA and certificate: without them
    Dask failed with an internal error, then spent 40 s closing the half-made client."""
    import dask.config  # noqa: PLC0415

    wanted = {"ca-file": "CA_FILE", "client.cert": "CLIENT__CERT"}
    unset = [
        f"DASK_DISTRIBUTED__COMM__TLS__{var}"
        for key, var in wanted.items()
        if not dask.config.get(f"distributed.comm.tls.{key}", None)
    ]
    if unset:
        raise UsageError(
            f"a {scheme}:// scheduler needs this client's certificates: set "
            f"{' and '.join(unset)} "
            "(and DASK_DISTRIBUTED__COMM__TLS__CLIENT__KEY for a separate key file), or the "
            "same keys in Dask's configuration"
        )


def _open_to_others(address: str) -> bool:
    """A plain (tcp://, or no scheme) address of another machine (an attacker review: the
    README had workers on tcp:// and every key went through an open scheduler)."""
    scheme, _, rest = address.rpartition("://")
    if scheme in ("tls", "wss", "inproc"):
        return False  # authenticated and encrypted, or within this process
    host = urlsplit(f"//{rest}").hostname or ""
    if host == "localhost":
        return False
    try:
        return not ipaddress.ip_address(host).is_loopback
    except ValueError:
        return True  # a host name: another machine, as far as this can tell


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
