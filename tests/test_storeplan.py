"""The audit's listing on its own thread (sources.storeplan): what it raises reaches the
audit, and an audit that ends before its plan is in leaves no git process nor thread behind,
even when git can never finish the listing. Found by session 13's review of that thread."""

from __future__ import annotations

import os
import random
import subprocess
import threading
import time
from pathlib import Path

import pytest

from sgai_guard.sources import storeplan
from sgai_guard.sources.audit import AuditScan
from sgai_guard.sources.repo import open_repository
from tests import keys
from tests.gitrepo import Repo


def _listing_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "sgai-guard listing"]


def test_what_the_thread_raises_is_raised_by_result() -> None:
    def broken(_: storeplan.Stopper) -> storeplan.Planned:
        raise ValueError("a listing that failed")

    ahead = storeplan.Ahead(broken)
    with pytest.raises(ValueError, match="a listing that failed"):
        ahead.result()
    ahead.discard()  # nothing was opened: nothing to close, and it does not raise


def test_discard_stops_a_listing_git_cannot_finish(tmp_path: Path, rng: random.Random) -> None:
    """An alternate store's alternates file that is a FIFO blocks git's listing for good
    (the audit refuses it up front; here the plan is made without those checks):
    discarding the plan kills git and joins the thread at once, instead of waiting for
    ever."""
    repo = Repo(tmp_path / "repo")
    repo.write("k.env", f"K={keys.tavily_current(rng)}\n")
    repo.commit("a key")
    objects = repo.path / ".git" / "objects"
    other = tmp_path / "other" / "objects"
    (other / "info").mkdir(parents=True)
    os.mkfifo(other / "info" / "alternates")  # git reads an alternate's alternates too
    (objects / "info" / "alternates").write_text(f"{other}\n")
    opened = open_repository(repo.path)
    started: list[int] = []

    def work(stopper: storeplan.Stopper) -> storeplan.Planned:
        recording = _Recording(stopper, started)
        return storeplan.make(opened, str(objects), None, 2, False, recording)

    ahead = storeplan.Ahead(work)
    deadline = time.monotonic() + 30
    while not started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert started, "git's listing never started"
    time.sleep(0.3)  # git is now blocked opening the FIFO
    discarding = threading.Thread(target=ahead.discard, daemon=True)
    discarding.start()
    discarding.join(20)  # a join that waits for the listing would wait for ever
    assert not discarding.is_alive() and not _listing_threads()
    with pytest.raises(ProcessLookupError):
        os.kill(started[0], 0)  # killed and collected


class _Recording(storeplan.Stopper):
    """The audit's Stopper, also noting each git process's id."""

    def __init__(self, inner: storeplan.Stopper, pids: list[int]) -> None:
        super().__init__()
        self._inner, self._pids = inner, pids

    def started(self, proc: subprocess.Popen[bytes]) -> None:
        self._pids.append(proc.pid)
        self._inner.started(proc)


def test_an_audit_closed_before_its_plan_leaves_nothing_behind(
    tmp_path: Path, rng: random.Random
) -> None:
    repo = Repo(tmp_path / "repo")
    repo.write("k.env", f"K={keys.tavily_current(rng)}\n")
    repo.commit("a key")
    scan = AuditScan(open_repository(repo.path))
    scan.check()
    scan.close()
    assert not _listing_threads()
    again = AuditScan(open_repository(repo.path))
    again.check()
    plan = again.plan()  # the plan the thread made is the audit's
    assert plan.blobs == 1 and not _listing_threads()
    again.close()
