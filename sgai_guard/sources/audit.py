"""A whole-history audit: every blob, commit and tag in the object store, each read once, in
pack order, on every core.

Objects are listed in the order they sit in their packs (`cat-file --batch-all-objects
--unordered`), which keeps git's delta cache warm: on a delta-heavy history that is twice as
fast as reading in history order. The listing is cut into runs of equal cost, one reader each
(sources.readers). Meanwhile one `rev-list --objects` walk counts the commits and names the
objects a partial clone or a damaged mirror lacks (sources.walk), and what it found missing is
named beside the readers (sources.walkend). Which refs reach a blob is
settled afterwards, only for blobs holding secrets (sources.history).
"""

from __future__ import annotations

import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sgai_guard import fsread
from sgai_guard.errors import GitError
from sgai_guard.models import Blob, Passed, Skipped
from sgai_guard.sources import (
    alternates,
    gitcmd,
    hardening,
    listing,
    packread,
    reach,
    readers,
    storeplan,
    treescan,
)
from sgai_guard.sources.repo import Repository
from sgai_guard.sources.walk import Walk
from sgai_guard.sources.walkend import WalkEnd

MISSING = "missing from the repository (partial clone or damaged mirror): not scanned"
# An alternates file names a few object directories (`clone --reference`); one of thousands
# of lines makes every git process print an error per line (GitPython, the triage's reader
# until 2026-12, read its git's stderr only at the end: git blocked, and the audit hung).
MAX_ALTERNATES = 16 * 1024
_ALTERNATE_DEPTH = 6  # git links stores this many levels deep (and reads the last ones' file)
_MAX_STORES = 4096  # stores checked for FIFOs (each existing one costs 257 folder reads)


@dataclass(slots=True)
class AuditScan:
    repo: Repository
    include_reflog: bool = False
    max_blob_size: int | None = None  # a cap the user set; else large blobs come in pieces
    readers: int = 0  # reader processes; 0: one per core
    in_process: bool = True  # inflate packed objects in the readers (False: all through git)
    incomplete: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    commits: int = 0
    empty_ok: bool = False  # no refs: nothing to audit, and said so
    _plan: listing.Plan | None = None
    _walk: Walk | None = None
    _end: WalkEnd | None = None
    _store: packread.Store | None = None
    _objects: str = ""  # the object directory, asked of git once
    _checked: bool = False
    _ahead: storeplan.Ahead | None = None
    _stores: list[str] = field(default_factory=list)  # every object store git reads

    def check(self) -> None:
        """Say up front what the history lacks: a shallow clone cannot be audited whole. The
        object stores and refs are checked before any git reads them: a planted FIFO would
        stall it. Done once, whichever comes first, this or ``plan``."""
        if self._checked:
            return
        gitcmd.require_version((2, 32), "an audit")
        paths = self.repo.git_paths("objects", "refs", "worktrees", "shallow")
        self._objects = paths["objects"]
        self._stores = [str(store) for store in _stores(Path(self.objects()))]
        for store in self._stores:  # an alternate's FIFO hangs git too
            hardening.check_objects(Path(store), loose=True)
        hardening.check_refs(paths["refs"])
        hardening.check_refs(paths["worktrees"])  # their HEADs are walked too
        self._ahead = storeplan.Ahead(self._planned, self.repo.path)  # git lists meanwhile
        try:
            has_refs = self._leave_out_broken_refs()
            shallow = self.repo.shallow_commits(paths["shallow"])
        except BaseException:
            self._drop_ahead()
            raise
        if shallow:
            self.incomplete.append(
                f"the repository is a shallow clone ({len(shallow)} boundary commit(s)): "
                "history before the boundary is missing; run git fetch --unshallow first"
            )
        if not has_refs:
            self.notices.append("the repository has no refs: there is no history to audit")
            self.empty_ok = True
        self._checked = True  # only once it all passed: a check that raised raises again

    def _leave_out_broken_refs(self) -> bool:
        """Refs naming objects the store lacks: git stops on them when asked for all refs
        (and the audit with it, reading nothing); they are left out, and said. Returns
        whether the repository has any ref at all."""
        tip_ids, broken, has_refs = reach.walk_tips(self.repo)
        self.repo = self.repo._replace(tip_ids=tip_ids, broken=broken)
        if not broken:
            return has_refs
        shown = ", ".join(broken[:10]) + (
            f" and {len(broken) - 10} more" if len(broken) > 10 else ""
        )
        self.incomplete.append(
            f"{len(broken)} ref(s) name objects missing from the repository and were left out "
            f"of the history: {shown}"
        )
        return has_refs

    def objects(self) -> str:
        if not self._objects:
            self._objects = self.repo.git_path("objects")
        return self._objects

    def plan(self) -> listing.Plan:
        """The listing of the object store, made once (the progress line's total uses it),
        begun by ``check`` on a thread (sources.storeplan). The progress line asks for it
        first: the stores are checked before (see ``check``)."""
        self.check()
        if self._plan is None:
            # dropped only once in hand: an interrupted join leaves it to ``close``
            planned = self._ahead.result() if self._ahead is not None else self._planned()
            self._ahead = None
            self._plan, self._store = planned.plan, planned.store
            self.notices.extend(planned.notices)
        return self._plan

    def _planned(self, stopper: storeplan.Stopper | None = None) -> storeplan.Planned:
        objects, size, count = self.objects(), self.max_blob_size, self.readers
        stores = self._stores or [objects]
        return storeplan.make(self.repo, objects, size, count, self.in_process, stopper, stores)

    def blobs(self) -> Iterator[Blob | Skipped | Passed]:
        self._walk = Walk(self.repo, ["--reflog"] if self.include_reflog else [])
        plan = self.plan()
        if plan.error:
            yield Skipped("(object store)", f"git cat-file stopped: {plan.error}", error=True)
        yield from plan.skipped
        known = (item.blob_id for item in plan.skipped if item.blob_id)
        self._end = end = WalkEnd(self.repo.path, self._walk, plan, known, self._packed(plan))
        try:
            yield from readers.read(
                self.repo.path,
                plan.runs,
                self.max_blob_size,
                end.start,
                self._store,
                plan.offsets,
                plan.readers,
            )
            yield from self._walked(end)
        except BaseException:  # an error, Ctrl-C, or the engine closing this generator
            end.abandon()
            raise

    def _packed(self, plan: listing.Plan) -> treescan.Packed | None:
        """Where the listed trees are in the store's only pack, when the listing told it."""
        store = self._store
        if store is None or plan.tree_places is None or len(store.packs) != 1:
            return None
        return treescan.Packed(store.packs[0].fd, *plan.tree_places)

    def _walked(self, end: WalkEnd) -> Iterator[Skipped]:
        walked = end.walked()
        self.commits = walked.commits
        if walked.error:
            self.incomplete.append(f"cannot walk the history: {walked.error}")
        for oid in walked.missing:
            yield Skipped(f"object {oid[:12]}", MISSING, error=True, blob_id=oid)

    def walked(self, oids: Iterable[str]) -> frozenset[str]:
        """Which of ``oids`` the walk of every ref reached (before ``close``)."""
        wanted = {oid.encode("ascii") for oid in oids}
        if not wanted or self._walk is None or self._end is None:
            return frozenset()
        self._end.close()  # the walk is over: its output is whole
        return frozenset(oid.decode("ascii") for oid in self._walk.paths(wanted))

    def paths_of(self, oids: Iterable[str]) -> dict[str, set[str]]:
        """The paths history gives objects that could not be read (see sources.walkend)."""
        wanted = set(oids)
        if not wanted or self._end is None:
            return {}
        return self._end.names(wanted)

    def _drop_ahead(self) -> None:
        ahead, self._ahead = self._ahead, None
        if ahead is not None:
            ahead.discard()

    def close(self) -> None:
        self._drop_ahead()
        if self._end is not None:  # before the store: naming may read its pack
            self._end.release()
        if self._store is not None:
            self._store.close()
            self._store = None
        if self._walk is not None:
            self._walk.close()


def _stores(objects: Path) -> list[Path]:
    """The object directory and every alternate store git would read, nested ones too, each
    once; only those that exist. Each one's own alternates file is checked before it is read:
    git reads them all (found by a review: a FIFO as the alternates file of an alternate
    stalled the audit's listing). git links stores 6 levels deep and reads the 6th level's
    file too; a store is followed from the shallowest place it is found (git walks depth
    first, in its file's order, so it may meet a store sooner than a walk here would)."""
    depths: dict[Path, int] = {}
    todo = [(objects, 0)]
    while todo:
        store, depth = todo.pop()
        _check_place(store / "info" / "alternates")  # the store's path and its alternates'
        if depths.get(store, _ALTERNATE_DEPTH + 1) <= depth or not store.is_dir():
            continue
        if store not in depths and len(depths) == _MAX_STORES:
            raise GitError(
                f"more than {_MAX_STORES} alternate object directories: refusing to audit a "
                "repository whose object stores cannot all be checked"
            )
        depths[store] = depth
        _check_alternates(store / "info" / "alternates")  # git reads it, however deep
        if depth < _ALTERNATE_DEPTH:
            todo += [(other, depth + 1) for other in alternates.stores(store)]
    return list(depths)


def _check_place(path: Path) -> None:
    """Refuse a store whose path, or whose alternates file's, or whose pack folder's or
    pack files' (git lists objects from their indexes and reverse indexes), or whose linked
    loose objects' folders', means another file to git: found by reviews, `objects/pack`
    linked through /proc/self/cwd, and `objects/00` linked there to a file (git stops
    listing loose objects at a folder it cannot open, and exits 0: a key hidden)."""
    store = path.parent.parent
    pack = store / "pack"
    try:
        files = list(pack.iterdir()) if pack.is_dir() else []
    except OSError:
        files = []
    fans = [store / f"{n:02x}" for n in range(256)]
    for place in (path, pack, *files, *filter(_is_link, fans)):
        _check_magic(place)


def _is_link(path: Path) -> bool:
    info = fsread.lstat(path)
    return info is not None and stat.S_ISLNK(info.st_mode)


def _check_magic(place: Path) -> None:
    magic = alternates.process_dependent(place)
    if magic is not None:
        raise GitError(
            f"an object store's path goes through {magic!r}, which names other files to git "
            "than to sgai-guard: refusing to audit a repository whose object stores cannot "
            "be checked as git reads them"
        )


def _check_alternates(path: Path) -> None:
    """Refuse a planted alternates file that would stall git (see MAX_ALTERNATES), or that
    is a symbolic link: git follows it from its own working directory (`/proc/self/cwd/...`
    names another file there than here), so the stores it names could not be checked as
    git reads them (found by a review: a lying `.rev` behind one hid a key, exit 0)."""
    if _is_link(path):
        raise GitError(
            f"{path} is a symbolic link: refusing to audit a repository whose alternate "
            "object directories cannot be checked as git reads them; replace it with the "
            "file it points at and audit again"
        )
    try:
        info = path.stat()
    except FileNotFoundError:
        return
    if stat.S_ISDIR(info.st_mode):
        return  # git cannot read a folder: it reads no alternates from it
    if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_ALTERNATES:
        raise GitError(
            f"{path} is not a plain file of at most {MAX_ALTERNATES} bytes "
            f"({info.st_size} bytes): refusing to audit a repository whose alternate object "
            "directories would stall git; move it aside and audit again"
        )
