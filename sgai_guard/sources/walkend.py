"""The end of the audit's walk, worked out beside the readers: on a thread, once the walk is
over (it ends long before the object store is read), its file is parsed and whatever it found
missing is named from the trees (sources.naming). A mirror with missing objects then costs
about what a complete one does: the names are ready when the readers are done, not read
after them.

The thread is started only once the reader processes exist (readers.read's ``started``), and
it is always joined before the audit goes on (``names``, ``close``), or told to stop and joined
when the audit is abandoned (``abandon``): no fork ever copies it, and none outlives its audit.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

from sgai_guard.sources import naming, treescan
from sgai_guard.sources.listing import Plan
from sgai_guard.sources.walk import Walk, Walked


class WalkEnd:
    def __init__(
        self,
        repo: str,
        walk: Walk,
        plan: Plan,
        known: Iterable[str],
        packed: treescan.Packed | None = None,
    ) -> None:
        """``packed``: the store's only pack, open until this is closed (see naming)."""
        self._repo, self._walk, self._plan, self._packed = repo, walk, plan, packed
        self._known = set(known)  # unreadable or over the size cap, from the listing
        self._walked: Walked | None = None
        self._names: dict[str, set[str]] = {}
        self._named: set[str] = set()
        self._failure: BaseException | None = None
        self._ended = threading.Event()
        self._done = threading.Event()  # the thread is over (see close)
        self._abandoned = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        thread = threading.Thread(target=self._run, name="sgai-guard walk end", daemon=True)
        thread.start()
        self._thread = thread  # only once it runs: ``close`` waits for what it sets (review)

    def _run(self) -> None:
        try:
            self._walked = self._walk.finish()
            self._ended.set()
            wanted = self._known | set(self._walked.missing)
            self._names = self._paths_of(wanted)
            self._named = wanted
        except BaseException as exc:  # handed to the audit's own thread, which raises it
            self._failure = exc
        finally:
            self._ended.set()
            self._done.set()

    def walked(self) -> Walked:
        """How the walk ended: commits and missing objects (waits for the walk only)."""
        if self._thread is None:
            self.start()
        self._ended.wait()
        if self._walked is None:
            raise self._failure or RuntimeError("the walk ended without a result")
        return self._walked

    def names(self, oids: Iterable[str]) -> dict[str, set[str]]:
        """The paths history gives ``oids``: named beside the readers when they were known by
        then, the rest (objects a reader could not read) from one more read of the trees."""
        self.close()
        if self._failure is not None:
            raise self._failure
        wanted = set(oids)
        found = {oid: paths for oid, paths in self._names.items() if oid in wanted}
        rest = wanted - self._named
        if rest:
            found.update(self._paths_of(rest))
        return found

    def _paths_of(self, oids: set[str]) -> dict[str, set[str]]:
        if not oids:  # a complete store: the records are not worked out (0.12-0.28 s, sympy)
            return {}
        plan = self._plan
        stop = self._abandoned.is_set
        trees, records = plan.trees, plan.tree_records
        return naming.paths_of(self._repo, self._walk, trees, records, oids, stop, self._packed)

    def close(self) -> None:
        """Wait for the thread (it reads git's output, which ends on its own). On an event,
        not a join: a join that ^C interrupted once returns at once ever after, and the store
        would be closed under a thread still reading its pack (found by a review)."""
        if self._thread is not None:
            self._done.wait()

    def release(self) -> None:
        """The store's pack is closed next: later names, if any, read every tree instead
        (its descriptor's number could by then be another file's)."""
        self.close()
        self._packed = None

    def abandon(self) -> None:
        """The audit stopped before its end: the walk's git is killed (^C would otherwise
        wait for the whole walk), and the thread stops at its next tree or MiB."""
        self._walk.kill()  # first: a second ^C in what follows still leaves it killed
        self._abandoned.set()
        self.close()
