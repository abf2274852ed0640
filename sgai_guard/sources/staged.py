"""The staged snapshot: exactly the index blobs the next commit will contain."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from functools import cache, partial
from typing import NamedTuple

from sgai_guard import fsread
from sgai_guard.models import ZERO_OID, Blob, Part, Skipped, is_object_id
from sgai_guard.sources import gitcmd
from sgai_guard.sources.gitargs import HOOK_ENV, NAMED_FILES, STAGED_DIFF
from sgai_guard.sources.pieces import pieces
from sgai_guard.sources.raw import GITLINK, RawEntry, parse_raw
from sgai_guard.sources.repo import Repository

# What the deleted paths held is read only when a key is found, once, and up to this many bytes:
# a key moved out of a larger deleted file is judged new (it blocks; never the other way).
_MOVED_LIMIT = 32 * 1024 * 1024


class Changes(NamedTuple):
    """The index against HEAD: the entries that add content (scanned), and the blobs of the
    paths it deletes (what a renamed or moved file held before: see _prior)."""

    added: list[RawEntry]
    removed: tuple[str, ...]


def staged_changes(repo: Repository) -> Changes:
    """Added, copied, deleted, modified, renamed and type-changed paths of the index
    against HEAD."""
    args = STAGED_DIFF
    proc = gitcmd.run([*args, "HEAD"], repo.path, keep_env=HOOK_ENV)
    if proc.returncode == 0:
        raw = proc.stdout
    elif repo.head() is None:  # no commit yet: everything staged is new
        raw = gitcmd.output([*args, repo.empty_tree()], repo.path, keep_env=HOOK_ENV)
    else:
        raw = gitcmd.output([*args, "HEAD"], repo.path, keep_env=HOOK_ENV)  # raises with why
    return listed(raw)


def listed(raw: bytes) -> Changes:
    """The changes of a `diff-index --raw -z --no-renames` listing."""
    entries = list(parse_raw(raw))
    removed = tuple(e.old_oid for e in entries if e.status == "D" and e.has_old)
    return Changes([entry for entry in entries if entry.has_new], removed)


def staged_blobs(
    repo: Repository, changes: Changes, contents: Sequence[bytes] | None = None
) -> Iterator[Blob | Skipped]:
    """Each added entry's new blob; ``contents``: as the hook's quick path read them, whole."""
    merge_heads = cache(partial(_merge_heads, repo))  # looked up only if a finding needs it
    moved = cache(partial(deleted_contents, repo, changes.removed))  # likewise
    for entry, data, problem, part in _contents(repo, changes.added, contents):
        if data is None:
            yield Skipped(entry.path, problem or "unreadable", error=True)
            continue
        prior = partial(_prior, repo, entry, merge_heads, moved)
        yield Blob(entry.path, data, blob_id=entry.new_oid, prior=prior, part=part)


_Answer = tuple[RawEntry, "bytes | None", "str | None", "Part | None"]


def _contents(
    repo: Repository, entries: list[RawEntry], contents: Sequence[bytes] | None
) -> Iterator[_Answer]:
    """Each entry with its blob (or why it could not be read, or where a piece sits): from
    ``contents`` when given, else from `git cat-file` (imported only then: subprocess and
    threading stay out of a hook that was handed what it scans)."""
    if contents is not None:
        for entry, data in zip(entries, contents, strict=True):
            yield entry, data, None, None
        return
    from sgai_guard.sources import catfile  # noqa: PLC0415

    requests = ((e.new_oid, e) for e in entries)
    for answer in catfile.read_blobs(repo.path, requests, keep_env=HOOK_ENV):
        yield answer.request, answer.data, answer.problem, answer.part


def _merge_heads(repo: Repository) -> tuple[str, ...]:
    """During a merge, the other parents: their content was committed on another branch."""
    git_dir = repo.git_dir
    if git_dir is None:  # looked up only now, when a finding needs it
        raw = gitcmd.output(["rev-parse", "--absolute-git-dir"], repo.path)
        git_dir = os.fsdecode(raw.strip())
    try:  # MERGE_HEAD lives in the work tree's own git dir, linked work trees included
        text = fsread.read_small(os.path.join(git_dir, "MERGE_HEAD"), 1 << 20)
    except (OSError, fsread.NotRegularError):
        return ()
    # Object ids only, each peeled to its commit: any other revision ran against what is
    # staged (`:/ :0` made ":0", and ":0:<path>" is the staged blob itself: a new key was
    # "already committed on the branch being merged"; found by an attacker review), and a
    # tree's id would name a path of a tree rather than of a commit.
    lines = (line.split(maxsplit=1) for line in text.decode("ascii", "replace").splitlines())
    return tuple(f"{words[0]}^{{commit}}" for words in lines if words and is_object_id(words[0]))


def _prior(
    repo: Repository,
    entry: RawEntry,
    merge_heads: Callable[[], tuple[str, ...]],
    moved: Callable[[], tuple[bytes, ...]],
) -> tuple[bytes, ...]:
    """What this path held before: in HEAD, and in each branch being merged; and what the
    paths this commit deletes held (a key in a file renamed or moved by `git mv` is not new:
    without rename detection, git lists the move as a deletion and an addition)."""
    revs = [entry.old_oid] if entry.has_old else []
    held = _blobs(repo, tuple(revs)) + moved()
    return held + _at_revisions(repo, entry.path, merge_heads())


def _blobs(repo: Repository, oids: Sequence[str], limit: int | None = None) -> tuple[bytes, ...]:
    from sgai_guard.sources import catfile  # noqa: PLC0415 - only when a key was found

    return catfile.contents(repo.path, list(oids), limit) if oids else ()


def deleted_contents(repo: Repository, oids: Sequence[str]) -> tuple[bytes, ...]:
    """What the paths a change deletes held (``oids``: their blobs), up to _MOVED_LIMIT bytes:
    a key there is not new where the change puts it again (see _prior)."""
    return _blobs(repo, oids, _MOVED_LIMIT)


def _removed_in_index(repo: Repository) -> tuple[bytes, ...]:
    """What the paths the index deletes against HEAD held (for named files: see _prior)."""
    proc = gitcmd.run([*STAGED_DIFF, "HEAD"], repo.path, keep_env=HOOK_ENV)
    if proc.returncode != 0:  # no commit yet: nothing was removed
        return ()
    return deleted_contents(repo, listed(proc.stdout).removed)


def index_blobs(
    repo: Repository,
    files: list[str],
    *,
    with_prior: bool,
    listed: bytes | None = None,
    contents: Sequence[bytes] | None = None,
) -> Iterator[Blob | Skipped]:
    """The index version of each named file; files git does not track are read from disk.
    ``listed`` and ``contents``: git's `ls-files -s -z` listing of ``files`` and each entry's
    blob, as the hook's quick path read them."""
    if listed is None:
        listed = gitcmd.output([*NAMED_FILES, "--", *files], repo.path, keep_env=HOOK_ENV)
    entries = _index_entries(listed)
    tracked = {entry.path for entry in entries}
    parents = cache(partial(_parents, repo))  # looked up only if a finding needs it
    moved = cache(partial(_removed_in_index, repo))  # likewise
    for entry, data, problem, part in _contents(repo, entries, contents):
        if data is None:
            yield Skipped(entry.path, problem or "unreadable", error=True)
            continue
        prior = partial(_head_prior, repo, entry.path, parents, moved) if with_prior else None
        yield Blob(entry.path, data, blob_id=entry.new_oid, prior=prior, part=part)
    yield from _untracked(repo, [f for f in files if f not in tracked])


def _index_entries(listed: bytes) -> list[RawEntry]:
    """The entries of an `ls-files -s -z` listing (every conflict stage, once per path and
    blob; no submodules)."""
    entries: dict[str, RawEntry] = {}
    for record in filter(None, listed.split(b"\0")):
        meta, _, raw_path = record.partition(b"\t")
        mode, oid, _stage = meta.decode().split(" ")
        path = os.fsdecode(raw_path)  # as the names given on the command line were decoded
        if mode != GITLINK:
            entry = RawEntry(None, mode, mode, ZERO_OID, oid, "M", path)
            entries.setdefault(f"{path}\0{oid}", entry)
    return list(entries.values())


def _parents(repo: Repository) -> tuple[str, ...]:
    """What the next commit's parents hold: HEAD, and the branches being merged."""
    head = repo.head()
    return ((head,) if head else ()) + _merge_heads(repo)


def _head_prior(
    repo: Repository,
    path: str,
    parents: Callable[[], tuple[str, ...]],
    moved: Callable[[], tuple[bytes, ...]],
) -> tuple[bytes, ...]:
    return _at_revisions(repo, path, parents()) + moved()


def _at_revisions(repo: Repository, path: str, revs: Sequence[str]) -> tuple[bytes, ...]:
    """What ``path`` holds in each of ``revs``, through one cat-file process (a name holding
    a newline cannot go on cat-file's line-based input: git is asked once per revision)."""
    from sgai_guard.sources import catfile  # noqa: PLC0415 - only when a key was found

    if "\n" not in path:
        return catfile.contents(repo.path, [f"{rev}:{path}" for rev in revs])
    out = []
    for rev in revs:
        proc = gitcmd.run(["cat-file", "blob", f"{rev}:{path}"], repo.path)
        if proc.returncode == 0:
            out.append(proc.stdout)
    return tuple(out)


def _untracked_piece(name: str, data: bytes, part: Part | None) -> Blob:
    return Blob(name, data, part=part)


def _untracked(repo: Repository, files: list[str]) -> Iterator[Blob | Skipped]:
    """Named files git does not track, read as git would add them: a symlink is the path it
    holds, never what it points at; a FIFO, socket or device is never opened."""
    for name in files:
        path = os.path.join(repo.path, name)
        try:
            if os.path.islink(path):
                yield Blob(name, os.fsencode(os.readlink(path)))
                continue
            fd = fsread.open_regular(path)
            yield from pieces(fsread.chunks(fd), partial(_untracked_piece, name))
        except FileNotFoundError:  # named, but neither in the index nor on disk: said
            yield Skipped(name, "not in the index and not on disk: nothing to scan")
        except fsread.NotRegularError as exc:
            yield Skipped(name, f"{exc.kind}, not a regular file: not opened (git cannot add it)")
        except OSError as exc:
            yield Skipped(name, f"cannot read: {exc.strerror or exc}", error=True)
