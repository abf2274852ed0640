"""The audit's listing on its own thread (sources.storeplan): what it raises reaches the
audit, and an audit that ends before its plan is in leaves no git process nor thread behind,
even when git can never finish the listing. Found by session 13's review of that thread."""

from __future__ import annotations

import os
import random
import subprocess
import threading
import time
from collections.abc import Callable
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


def _many_objects(tmp_path: Path, count: int) -> Repo:
    """A repository of one pack holding ``count`` blobs (a listing of several MiB)."""
    repo = Repo(tmp_path / "many")
    stream = [b"commit refs/heads/main\ncommitter T <t@e> 0 +0000\ndata 4\nmany\n"]
    for n in range(count):
        body = f"file {n}\n".encode()
        stream.append(b"M 100644 inline f%d.txt\ndata %d\n%s\n" % (n, len(body), body))
    git = ["git", "-C", str(repo.path)]
    subprocess.run([*git, "fast-import", "--quiet"], input=b"".join(stream), check=True)
    subprocess.run([*git, "repack", "-adq"], check=True)
    return repo


def test_the_listing_started_before_the_indexes_are_read_plans_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """git lists the store while the packs' indexes are read on another thread, the listing
    kept flowing meanwhile (several MiB read before the plan is made): the plan is the one
    made by reading the indexes first, offsets included."""
    repo = _many_objects(tmp_path, 40_000)
    opened, objects = open_repository(repo.path), str(repo.path / ".git" / "objects")
    real_open, heads = storeplan.packread.open_store, []

    def slow_open(where: str) -> storeplan.packread.Store | None:
        time.sleep(1.0)  # git lists the first MiBs meanwhile
        return real_open(where)

    real_drain = storeplan.listing.Early.drain

    def drain(early: storeplan.listing.Early, busy: Callable[[], bool]) -> None:
        real_drain(early, busy)
        heads.append(len(early.head))

    monkeypatch.setattr(storeplan.packread, "open_store", slow_open)
    monkeypatch.setattr(storeplan.listing.Early, "drain", drain)
    early = storeplan.make(opened, objects, None, 2, True)
    store = storeplan.packread.open_store(objects)  # the indexes first, then the listing
    first = storeplan._planned(opened, (objects, [objects]), None, 2, store, None)
    assert heads and heads[0] > 1, heads  # the early path was taken, and drained
    assert early.store is not None and first.store is not None
    for plan in (early.plan, first.plan):
        assert plan.blobs == 40_000 and not plan.error and plan.offsets is not None
    assert early.plan.runs == first.plan.runs and early.plan.trees == first.plan.trees
    assert early.plan.offsets == first.plan.offsets
    early.store.close()
    first.store.close()


def test_indexes_that_cannot_be_read_stop_the_listing_started_before_them(
    tmp_path: Path, rng: random.Random, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = Repo(tmp_path / "repo")
    repo.write("k.env", f"K={keys.tavily_current(rng)}\n")
    repo.commit("a key")
    opened, objects = open_repository(repo.path), str(repo.path / ".git" / "objects")

    def broken(_: str) -> None:
        raise OSError("the indexes could not be read")

    monkeypatch.setattr(storeplan.packread, "open_store", broken)
    pids: list[int] = []
    with pytest.raises(OSError, match="could not be read"):
        storeplan.make(opened, objects, None, 2, True, _Recording(storeplan.Stopper(), pids))
    assert pids and not [t for t in threading.enumerate() if t.name == "sgai-guard pack indexes"]
    with pytest.raises(ProcessLookupError):
        os.kill(pids[0], 0)  # killed and collected


def test_reverse_indexes_that_cannot_be_checked_close_the_store_and_the_listing(
    tmp_path: Path, rng: random.Random, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The packs' indexes were opened, then checking the `.rev` files failed on the same
    thread: the store it opened is closed, and git's listing killed (found by a review as
    a gap: nothing pinned it)."""
    repo = Repo(tmp_path / "repo")
    repo.write("k.env", f"K={keys.tavily_current(rng)}\n")
    repo.commit("a key")
    repo.git("-c", "pack.writeReverseIndex=true", "repack", "-adq")
    opened, objects = open_repository(repo.path), str(repo.path / ".git" / "objects")
    stores: list[storeplan.packread.Store] = []
    real_open = storeplan.packread.open_store

    def recorded(where: str) -> storeplan.packread.Store | None:
        store = real_open(where)
        if store is not None:
            stores.append(store)
        return store

    def broken(*_: object) -> bool:
        raise OSError("the reverse indexes could not be checked")

    monkeypatch.setattr(storeplan.packread, "open_store", recorded)
    monkeypatch.setattr(storeplan, "_revs_agree", broken)
    pids: list[int] = []
    with pytest.raises(OSError, match="could not be checked"):
        storeplan.make(opened, objects, None, 2, True, _Recording(storeplan.Stopper(), pids))
    assert stores and pids
    for store in stores:
        for pack in store.packs:
            with pytest.raises(OSError):
                os.fstat(pack.fd)  # closed
    with pytest.raises(ProcessLookupError):
        os.kill(pids[0], 0)  # killed and collected
