"""Commit ranges: the blobs each commit in BASE..HEAD adds, and the keys the range removes."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from functools import cache, partial

from sgai_guard.models import Blob, Part, Skipped, Status, Summary
from sgai_guard.sources import catfile, gitcmd
from sgai_guard.sources.lfs import LocalStore
from sgai_guard.sources.raw import RawEntry, parse_raw
from sgai_guard.sources.repo import Repository
from sgai_guard.sources.staged import deleted_contents


class RangeScan:
    """What a range covers; ``incomplete`` and ``notices`` are filled as it is resolved."""

    def __init__(
        self,
        repo: Repository,
        base: str | None,
        head: str,
        exclude: tuple[str, ...] = (),
        label: str = "",
    ) -> None:
        self.repo = repo
        self.base = base  # None: every commit reachable from head, less ``exclude``
        self.head = head
        self.exclude = exclude  # rev-list arguments for history that is not new
        self.label = label
        self.tags: list[str] = []  # annotated tags the range publishes: their messages too
        self.commits: list[str] = []
        self.merges: dict[str, int] = {}  # the commits with more than one parent: how many
        self.empty_ok = False
        self.incomplete: list[str] = []
        self.notices: list[str] = []
        self.lfs = LocalStore(repo.path)  # what Git LFS pointers stand for (sources.lfs)
        self.shallow: frozenset[str] | None = None  # the shallow boundary, when already read
        # (the default branch's tip, its name): whose configuration judges a push to another
        # branch; None: the range's own (sources.cirange)
        self.policy: tuple[str, str] | None = None

    def resolve(self, *, nothing_new: bool = False) -> None:
        """List the range's commits and check that the walk did not hit a shallow boundary.
        ``nothing_new``: the caller found that no commit of the range is new (sources.pushed
        asks once for many ranges whose history is all excluded alike)."""
        args = ("rev-list", "--reverse", "--parents", *self._revs())
        listed = [] if nothing_new else [line.split() for line in self.repo.lines(*args)]
        self.commits = [ids[0] for ids in listed]
        self.merges = {ids[0]: len(ids) - 1 for ids in listed if len(ids) > 2}
        if self.shallow is None:
            self.shallow = self.repo.shallow_commits()
        shallow = self.shallow & set(self.commits)
        if shallow:
            self.incomplete.append(
                f"the range {self.label} reaches the shallow clone boundary at "
                f"{len(shallow)} commit(s), so older commits of the range are missing: "
                "fetch more history (git fetch --unshallow, or a larger --depth)"
            )
        if not self.commits:
            self.empty_ok = True
            rest = "only the tag's message is new" if self.tags else "no commit is new"
            what = self.label if self.label.startswith("new ") else f"the range {self.label}"
            self.notices.append(f"{what} holds no commits: {rest}")

    def _revs(self) -> list[str]:
        base = [f"^{self.base}"] if self.base else []
        return [self.head, *base, *self.exclude, "--"]

    def blobs(self) -> Iterator[Blob | Skipped]:
        """Each blob the range's commits add, once, attributed to the first commit adding it
        (and the content of each Git LFS pointer among them, where the local store has it)."""
        yield from self.lfs.expand(self._added())

    def items(self) -> Iterator[Blob | Skipped]:
        """The range resolved, then the blobs it adds, the old versions it removes, and its
        commits' (and tags') messages."""
        self.resolve()
        yield from self.blobs()
        yield from self.removed()
        yield from self.messages()

    def messages(self) -> Iterator[Blob | Skipped]:
        from sgai_guard.sources.messages import messages  # noqa: PLC0415

        yield from messages(self.repo, self.commits)
        yield from messages(self.repo, self.tags, kind="tag")

    def summary(self) -> Summary:
        return Summary(
            commits=len(self.commits),
            notices=(*self.notices, *self.lfs.notices()),
            incomplete=tuple(self.incomplete),
            empty_ok=self.empty_ok,
        )

    def removed(self) -> Iterator[Blob | Skipped]:
        """Old versions of the paths the range deletes or modifies, for keys it removes."""
        if not self.base:
            return
        fork = self._fork()
        if fork is None:
            return
        raw = gitcmd.output(
            [
                "diff-tree",
                "-r",
                "-z",
                "--raw",
                "--no-renames",
                "--no-abbrev",
                "--diff-filter=DM",
                fork,
                self.head,
            ],
            self.repo.path,
        )
        entries = [[e] for e in parse_raw(raw) if e.has_old]
        yield from self.lfs.expand(_read(self.repo, entries, removed=True))

    def _fork(self) -> str | None:
        """Where head's history leaves base's: their merge base; base itself when the two
        share no commit in a clone that lacks none (a history rewritten to drop a key and
        force-pushed: found by a review, the server's hook refused it as "fetch more
        history"). None, and said, when a shallow clone cannot tell."""
        assert self.base is not None  # noqa: S101 - the caller checked
        proc = gitcmd.run(["merge-base", self.base, self.head], self.repo.path)
        fork = proc.stdout.decode().split()
        if proc.returncode == 0 and fork:
            return fork[0]
        if proc.returncode == 1 and not fork and not self._shallow():
            return self.base  # unrelated histories: what head drops of base's tree
        self.incomplete.append(
            f"{self.label}: base and head share no commit in this clone, so the keys the "
            "range removes cannot be checked: fetch more history (git fetch --unshallow)"
        )
        return None

    def _shallow(self) -> bool:
        proc = gitcmd.run(["rev-parse", "--is-shallow-repository"], self.repo.path)
        return proc.returncode != 0 or proc.stdout.strip() != b"false"

    def _added(self) -> Iterator[Blob | Skipped]:
        if not self.commits:
            return
        raw = gitcmd.output(
            [
                "diff-tree",
                "--stdin",
                "--root",
                "-r",
                "-m",
                "-z",
                "--raw",
                "--no-renames",
                "--no-abbrev",
                "--diff-filter=ACDMRT",
            ],
            self.repo.path,
            stdin="\n".join(self.commits).encode() + b"\n",
        )
        # Each blob is read once, however many paths hold it; every path is reported.
        groups: dict[tuple[str, str | None, str | None], list[RawEntry]] = {}
        deleted: dict[str | None, list[str]] = {}  # per commit: the blobs of paths it deletes
        entries = _what_merges_bring(list(parse_raw(raw)), self.merges)
        for entry in entries:  # a merge's deletions (against one parent) move nothing
            if entry.status == "D" and entry.has_old and entry.commit not in self.merges:
                deleted.setdefault(entry.commit, []).append(entry.old_oid)
        for entry in entries:
            if entry.has_new:
                # a commit that deletes paths is judged on its own (what it deleted is not
                # new in it, and only in it): never through another commit holding the blob
                alone = entry.commit if entry.commit in deleted else None
                group = groups.setdefault((entry.new_oid, _old(entry), alone), [])
                if all(e.path != entry.path for e in group):
                    group.append(entry)
        for item in _read(self.repo, list(groups.values()), removed=False, deleted=deleted):
            yield self._with_base(item)

    def _with_base(self, item: Blob | Skipped) -> Blob | Skipped:
        """A blob with what its path held at the range's base, loaded only if asked."""
        if not isinstance(item, Blob) or not self.base or "\n" in item.path:
            return item
        return item._replace(base=partial(_blob_at, self.repo, f"{self.base}:{item.path}"))


def _what_merges_bring(entries: list[RawEntry], merges: dict[str, int]) -> list[RawEntry]:
    """``entries`` with a merge's kept only where the merge differs from every parent (`-m`
    lists a merge against each parent in turn): what it brings itself, such as a conflict
    resolution or an evil merge. A file a merge takes as one parent has it is not new there:
    that parent is in the range (scanned where the file came in) or already known."""
    if not merges:
        return entries
    counts: Counter[tuple[str | None, str, str]] = Counter(
        (e.commit, e.path, e.new_oid) for e in entries if e.commit in merges
    )
    kept, seen = [], set()
    for entry in entries:
        key = (entry.commit, entry.path, entry.new_oid)
        if entry.commit not in merges:
            kept.append(entry)
        # at least once per parent means "in every diff": a hand-made tree may list a name
        # twice, and then it shows twice against one parent (== would drop it)
        elif counts[key] >= merges[entry.commit] and key not in seen:
            seen.add(key)
            kept.append(entry)
    return kept


def _old(entry: RawEntry) -> str | None:
    return entry.old_oid if entry.has_old else None


def _read(
    repo: Repository,
    groups: list[list[RawEntry]],
    *,
    removed: bool,
    deleted: dict[str | None, list[str]] | None = None,
) -> Iterator[Blob | Skipped]:
    """Each group: the entries holding one blob (first one read, the others its aliases)."""
    key = "old_oid" if removed else "new_oid"
    requests = ((getattr(g[0], key), g) for g in groups)
    moved = {c: cache(partial(deleted_contents, repo, oids)) for c, oids in (deleted or {}).items()}
    for answer in catfile.read_blobs(repo.path, requests):
        group = answer.request
        if answer.data is None:
            for where in group:
                yield Skipped(f"{where.path} ({answer.oid[:12]})", answer.problem or "", True)
        else:
            blob = _blob_of(repo, group, answer.oid, answer.data, answer.part, removed=removed)
            held = moved.get(group[0].commit)  # the group's only commit when it deletes paths
            yield blob._replace(prior=partial(_both, blob.prior, held)) if held else blob


def _blob_of(
    repo: Repository,
    group: list[RawEntry],
    oid: str,
    data: bytes,
    part: Part | None,
    *,
    removed: bool,
) -> Blob:
    entry = group[0]
    blob = Blob(entry.path, data, commit=entry.commit, blob_id=oid, part=part)
    if removed:  # what the path holds now: a key still there was not removed
        after = partial(_blob, repo, entry.new_oid if entry.has_new else None)
        return blob._replace(status=Status.REMOVED, after=after)
    prior = partial(_blob, repo, entry.old_oid if entry.has_old else None)  # already committed?
    return blob._replace(prior=prior, also=tuple((e.path, e.commit) for e in group[1:]))


def _blob_at(repo: Repository, rev: str) -> tuple[bytes, ...]:
    """What ``rev`` (`base:path`) names, if a blob."""
    return catfile.contents(repo.path, [rev])


def _blob(repo: Repository, oid: str | None) -> tuple[bytes, ...]:
    if oid is None:
        return ()
    return catfile.contents(repo.path, [oid])


def _both(
    before: Callable[[], tuple[bytes, ...]] | None, moved: Callable[[], tuple[bytes, ...]]
) -> tuple[bytes, ...]:
    """What the path held before, and what the paths its commit deletes held: a key in a
    file renamed or moved (git lists that as a deletion and an addition) is not new."""
    return (before() if before else ()) + moved()
