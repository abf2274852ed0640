"""Planning the audit's reads: the packs' indexes opened (sources.packread), then the object
store listed through git and cut into the readers' runs (sources.listing).

The audit starts this on a thread (``Ahead``) as soon as its object stores are checked: git
lists them while the refs are still being checked, on a core that would otherwise wait for
those short git processes. The readers fork only once the plan is in hand, so no fork copies
the thread. When the audit ends before that (an error, Ctrl-C), the listing's git is killed
and the thread joined (``Ahead.discard``, from AuditScan.check's failure or close): a
listing that git cannot finish never outlives the audit, nor keeps it waiting.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sgai_guard.errors import StalledError
from sgai_guard.sources import gitargs, listing, packindex, packread, readers
from sgai_guard.sources.repo import Repository

_AFTER_STOP = 30.0  # seconds the thread is waited for once its git is killed


@dataclass(slots=True)
class Planned:
    plan: listing.Plan
    store: packread.Store | None  # the packs, opened for the readers (None: all through git)
    notices: list[str] = field(default_factory=list)


class Stopper:
    """The listing's git processes, killed when the audit ends before its plan is in."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._procs: list[subprocess.Popen[bytes]] = []
        self._stopped = False

    def started(self, proc: subprocess.Popen[bytes]) -> None:
        with self._lock:
            self._procs.append(proc)
            stopped = self._stopped
        if stopped:
            _kill(proc)

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
            procs = list(self._procs)
        for proc in procs:
            _kill(proc)

    @property
    def stopped(self) -> bool:
        with self._lock:
            return self._stopped


def _kill(proc: subprocess.Popen[bytes]) -> None:
    """Kill git's process group; the listing's own thread collects it (reading its end)."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)


def _end(proc: subprocess.Popen[bytes]) -> None:
    """A listing given up: killed, collected, its pipe and its complaints' file closed."""
    _kill(proc)
    proc.wait()
    for stream in (proc.stdout, proc.stderr):
        if stream is not None:
            stream.close()


def make(
    repo: Repository,
    objects: str,
    max_size: int | None,
    count: int,
    in_process: bool,
    stopper: Stopper | None = None,
    stores: Sequence[str] = (),
) -> Planned:
    """The plan for ``count`` readers (0: one per core) of the store at ``objects``.
    ``stores``: every object store git reads for it (``objects`` and its alternates, nested
    ones too); git lists each in the order its `.rev` files give, which must be checked."""
    count = count or readers.default_readers()
    stores = list(stores) or [objects]
    early, store, agreed, where = None, None, None, (objects, stores)
    try:
        if in_process:  # listed in pack order from the start: relisted if a .rev file lies
            started = stopper.started if stopper is not None else None
            early = listing.Early(listing.start(repo, max_size, True, started))
            store, agreed = _opened_meanwhile(where, early)
        planned = _planned(repo, where, max_size, count, store, stopper, early, agreed)
    except BaseException:
        if store is not None:
            store.close()
        if early is not None:
            _end(early.proc)
        raise
    if store is not None and not _sha1(planned.plan.runs):
        store.close()
        planned.store = None
    return planned


def _opened_meanwhile(
    where: tuple[str, list[str]], early: listing.Early
) -> tuple[packread.Store | None, bool]:
    """The packs' indexes, opened on a thread of their own (about 0.35 CPU-s on sympy's),
    and whether every `.rev` file git reads agrees with them, while this one keeps git's
    listing flowing (``early``): git lists from the start."""
    opened: list[packread.Store | None] = []
    agreed: list[bool] = []
    failed: list[BaseException] = []

    def work() -> None:
        try:
            opened.append(packread.open_store(where[0]))
            agreed.append(_revs_agree(*where, opened[0]))
        except BaseException as exc:  # raised on the listing's thread, below
            failed.append(exc)

    thread = threading.Thread(target=work, name="sgai-guard pack indexes", daemon=True)
    thread.start()
    try:
        early.drain(thread.is_alive)
    except BaseException:
        thread.join()  # its store, if it opened one, is closed with the failure
        if opened and opened[0] is not None:
            opened[0].close()
        raise
    thread.join()
    if failed:
        if opened and opened[0] is not None:
            opened[0].close()
        raise failed[0]
    return opened[0], agreed[0]


def _planned(
    repo: Repository,
    where: tuple[str, list[str]],
    max_size: int | None,
    count: int,
    store: packread.Store | None,
    stopper: Stopper | None,
    early: listing.Early | None = None,
    agreed: bool | None = None,
) -> Planned:
    """``agreed``: whether the `.rev` files agree, when already checked."""
    started = stopper.started if stopper is not None else None
    cost = listing.IN_PROCESS if store is not None else listing.THROUGH_GIT
    objects, stores = where
    pack_order = _revs_agree(objects, stores, store) if agreed is None else agreed
    if early is not None and not pack_order:  # a .rev file lies (or came meanwhile): listed again
        _end(early.proc)
        early = None
    if early is None:
        early = listing.Early(listing.start(repo, max_size, pack_order, started))
    planned = Planned(listing.Plan(), store)
    if not pack_order:
        planned.notices.append(
            "a reverse index (.rev) of the object store does not match its pack: "
            "objects are read in id order (slower)"
        )
    twice = store.ambiguous if store is not None else packindex.copies(objects)
    twice = twice or frozenset()
    hints = _hints(store) if pack_order else None
    plan = listing.plan(
        repo,
        max_size,
        count,
        cost,
        pack_order=pack_order,
        read_also=twice,
        hints=hints,
        early=early,
    )
    if plan.error and pack_order and not (stopper is not None and stopper.stopped):
        # git lists each pack's own entries in id order, and stops on a pack it refuses (a
        # planted pack whose header disagrees with its index, say): looking ids up skips it
        planned.notices.append(
            f"git could not list the object store in pack order ({plan.error}): "
            "objects are read in id order (slower)"
        )
        again = listing.Early(listing.start(repo, max_size, False, started))
        plan = listing.plan(
            repo, max_size, count, cost, pack_order=False, read_also=twice, early=again
        )
    if plan.error and not (stopper is not None and stopper.stopped):
        # git stops listing at an object whose header it cannot parse: asked one by one
        planned.notices.append(
            f"git could not list the object store ({plan.error}): each object is asked "
            "for in turn (slower)"
        )
        stopped = (lambda: stopper.stopped) if stopper is not None else (lambda: False)
        plan = listing.plan_each(
            repo, max_size, count, cost, read_also=twice, started=started, stopped=stopped
        )
    planned.plan = plan
    return planned


def _revs_agree(objects: str, stores: list[str], store: packread.Store | None) -> bool:
    """Whether every `.rev` file git reads gives its pack's true order: the object store's
    own and its alternates' (found by a review: a planted one in an alternate store left
    out a key's blob, and the audit passed with exit 0)."""
    loaded = store.packs if store is not None else []
    return all(packindex.revs_agree(each, loaded if each == objects else []) for each in stores)


def _hints(store: packread.Store | None) -> listing.Hints | None:
    """What the listing needs to tell where each object of the store's only pack starts (see
    listing.Hints), when it can: one pack, no id with another copy, and git's order the
    pack's own (asked only then: a `.rev` file, if any, was checked to give that order)."""
    if store is None or len(store.packs) != 1 or store.ambiguous:
        return None
    pack = store.packs[0]
    if 12 not in pack.offsets:
        return None
    first = pack.name(pack.offsets.index(12)).hex().encode("ascii")
    return listing.Hints(first, pack.end(), pack.count)


def _sha1(runs: list[bytes]) -> bool:
    """The listing names SHA-1 objects (packread reads no SHA-256 repository)."""
    return bool(runs) and runs[0].find(b"\n") == 40


class Ahead:
    """``make`` on a thread of its own, started at once; ``work`` is handed the Stopper of
    the git processes it starts. Its end is awaited on an Event, not by joining the thread:
    in CPython 3.11 a join interrupted by Ctrl-C marks the thread ended, and every later
    join returns at once while it still runs (found by a review)."""

    def __init__(self, work: Callable[[Stopper], Planned], where: str = ".") -> None:
        self._where = where  # the repository, for what is said when git stalls
        self._result: Planned | None = None
        self._failure: BaseException | None = None
        self._stopper = Stopper()
        self._over = threading.Event()
        self._thread = threading.Thread(
            target=self._run, args=(work,), name="sgai-guard listing", daemon=True
        )
        self._thread.start()

    def _run(self, work: Callable[[Stopper], Planned]) -> None:
        try:
            self._result = work(self._stopper)
        except BaseException as exc:  # handed to the audit's own thread, which raises it
            self._failure = exc
        finally:
            self._over.set()

    def result(self) -> Planned:
        """The plan, once the thread is over; whatever it raised, raised here. A listing
        that has not ended within the git timeout is stopped: a FIFO the checks could not
        see would otherwise hold the audit for ever."""
        if not self._over.wait(gitargs.timeout()):
            self.discard()
            raise StalledError(gitargs.stalled(["cat-file", "--batch-all-objects"], self._where))
        if self._result is None:
            raise self._failure or RuntimeError("the listing ended without a plan")
        return self._result

    def discard(self) -> None:
        """Stop the listing's git, wait for the thread, and close what it opened (the audit
        ended before reading)."""
        self._stopper.stop()
        self._over.wait(_AFTER_STOP)  # git is killed: the thread ends as soon as it sees so
        if self._result is not None and self._result.store is not None:
            self._result.store.close()
            self._result.store = None
