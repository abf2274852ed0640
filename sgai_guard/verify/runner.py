"""Running many checks at once: per-provider limits, one deadline, Ctrl-C stops cleanly."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

from sgai_guard.models import Verification
from sgai_guard.verify.checks import CHECKS
from sgai_guard.verify.client import Gate, Session, make_client
from sgai_guard.verify.options import VerifyOptions
from sgai_guard.verify.verdicts import DEADLINE, failure, unknown

T = TypeVar("T")
Job = tuple[str, str]  # (provider id, key): never printed, so no repr to worry about


def run(jobs: Mapping[str, Job], options: VerifyOptions) -> tuple[dict[str, Verification], bool]:
    """A verification for each job that finished, by job id, and whether Ctrl-C stopped the
    run; the caller decides what the unfinished ones say."""
    done: dict[str, Verification] = {}
    if not jobs:  # nothing to ask: no event loop, no client, no httpx import
        return done, False
    try:
        asyncio.run(_main(jobs, options, done))
    except KeyboardInterrupt:
        return done, True
    return done, False


class _Unwaited(ThreadPoolExecutor):
    """The loop's threads for blocking calls (name resolution: `getaddrinfo`), each a daemon
    thread of its own that nothing waits for at the end. asyncio.run waits for the default
    executor's threads once the checks are over, without a limit: a resolver that answers
    after 30 s held the run 30 s past its timeouts and deadline (found by a review)."""

    def submit(self, fn: Callable[..., T], /, *args: object, **kwargs: object) -> Future[T]:
        future: Future[T] = Future()

        def work() -> None:
            if future.set_running_or_notify_cancel():
                try:
                    future.set_result(fn(*args, **kwargs))
                except BaseException as exc:  # handed to whoever awaits it
                    future.set_exception(exc)

        threading.Thread(target=work, name="sgai-guard verify resolver", daemon=True).start()
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Nothing to wait for: a call still running ends on its own, or with the process."""


async def _main(
    jobs: Mapping[str, Job], options: VerifyOptions, done: dict[str, Verification]
) -> None:
    loop = asyncio.get_running_loop()
    loop.set_default_executor(_Unwaited(max_workers=1))
    deadline = loop.time() + options.deadline
    gates = {provider: Gate(options.concurrency) for provider, _ in jobs.values()}
    async with make_client(options) as client:
        session = Session(client, options, deadline)
        tasks = [
            asyncio.create_task(_one(session, gates[provider], job_id, provider, key, done))
            for job_id, (provider, key) in jobs.items()
        ]
        try:
            await asyncio.wait(tasks, timeout=max(0.0, deadline - loop.time()))
        finally:  # the deadline, or Ctrl-C cancelling this task: stop every check first
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
    for job_id in jobs:
        done.setdefault(job_id, unknown(DEADLINE))


async def _one(
    session: Session,
    gate: Gate,
    job_id: str,
    provider: str,
    key: str,
    done: dict[str, Verification],
) -> None:
    check = CHECKS.get(provider)
    if check is None:
        done[job_id] = unknown("no live check exists for this provider")
        return
    try:
        done[job_id] = await check(session, gate, key)
    except Exception as exc:  # a bug must not turn a scan's exit 0/1 into a crash
        done[job_id] = unknown(failure(exc))
