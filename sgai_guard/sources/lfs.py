"""Git LFS: a path tracked with `filter=lfs` is stored by git as a pointer (a few lines naming
the content's SHA-256), and the content itself goes to the LFS store when pushed. What git
holds is then no more than the pointer, so a key in such a file would pass every scan that
reads git's objects. The content of a pointer is read from the local LFS store
(`<common git dir>/lfs/objects/ab/cd/<sha256>`, where `git add` puts it, or under
`lfs.storage`) and scanned under the pointer's own path, with line numbers of the file as the
work tree shows it. What the path held before (or after, or at a range's base) is read the
same way for that content, so a key an LFS file already held is not new when it is edited.
A file that is no pointer is never judged by what a store holds: the store fills with
whatever is `git add`ed, committed or not, and an attacker review made a key plain text
"already committed" that way (a file moved out of LFS with a key it held is new: it blocks).

A pointer is read as git-lfs reads one (its first 1024 bytes, whitespace around it and `\\r`
dropped, any of the three version URLs git-lfs knows), and names a SHA-256 in lowercase hex:
no file name is ever built from anything else a repository wrote. Content not in the local
store (a CI checkout without LFS objects) is counted and said in a notice, as is an earlier
version that could not be read (a key found in that file may then not be new).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Iterator
from functools import partial

from sgai_guard import fsread
from sgai_guard.models import Blob, Part, Skipped
from sgai_guard.sources import gitcmd
from sgai_guard.sources.pieces import pieces

POINTER_LIMIT = 1024  # git-lfs reads no more of a file to tell a pointer
_VERSIONS = (
    b"https://git-lfs.github.com/spec/v1",
    b"https://hawser.github.com/spec/v1",  # the spellings git-lfs still reads
    b"http://git-media.io/v/2",
)
_OID = re.compile(rb"^oid sha256:([0-9a-f]{64})[ \t]*$", re.MULTILINE)
_PRIOR_LIMIT = 32 * 1024 * 1024  # what a path held before: read only for a key found
_SHOWN = 3  # paths a notice names

Loader = Callable[[], tuple[bytes, ...]]


def pointed(data: bytes) -> str | None:
    """The SHA-256 a Git LFS pointer names, or None when ``data`` is no pointer."""
    head = data[:POINTER_LIMIT].strip().replace(b"\r", b"")
    if not head.startswith(b"version "):
        return None
    first, _, rest = head.partition(b"\n")
    if first[len(b"version ") :].strip() not in _VERSIONS:
        return None
    found = _OID.search(rest)
    return found.group(1).decode("ascii") if found else None


class LocalStore:
    """The local LFS store of the repository at ``path``, looked up only when a pointer turns
    up (two git processes), and what the scan could not find in it."""

    def __init__(self, path: str, keep_env: tuple[str, ...] = ()) -> None:
        self.path, self.keep_env = path, keep_env
        self._objects: str | None = None
        # paths whose content, or earlier content, is not in the store (in order, once each)
        self.absent: dict[str, None] = {}
        self.unknown: dict[str, None] = {}

    def objects(self) -> str:
        if self._objects is None:
            proc = gitcmd.run(["rev-parse", "--git-common-dir"], self.path, keep_env=self.keep_env)
            said = proc.stdout.rstrip(b"\n") if proc.returncode == 0 else b""
            common = os.fsdecode(said) or "."
            # a relative lfs.storage (`~` too: git-lfs does not expand it) is under the git
            # directory, and only its first line counts, as git-lfs takes it
            storage = self._storage().split("\n", 1)[0] or "lfs"
            self._objects = os.path.join(self.path, common, storage, "objects")
        return self._objects

    def _storage(self) -> str:
        """lfs.storage as git-lfs finds it: in every configuration file of the user's, and in
        what `git -c` passes on in the environment (a review: `git -c lfs.storage=... commit`
        let a key through)."""
        passed = [
            name
            for name in os.environ
            if name in ("GIT_CONFIG_PARAMETERS", "GIT_CONFIG_COUNT")
            or name.startswith(("GIT_CONFIG_KEY_", "GIT_CONFIG_VALUE_"))
        ]
        args = ["config", "--get", "lfs.storage"]
        keep = (*self.keep_env, *passed)
        proc = gitcmd.run(args, self.path, isolate=False, keep_env=keep)
        if proc.returncode not in (0, 1):  # 1: not set; else git could not tell (a review)
            raise gitcmd.failure(args, proc)
        return os.fsdecode(proc.stdout).removesuffix("\n") if proc.returncode == 0 else ""

    def where(self, oid: str) -> str:
        return os.path.join(self.objects(), oid[:2], oid[2:4], oid)

    def expand(self, items: Iterable[Blob | Skipped]) -> Iterator[Blob | Skipped]:
        """``items`` as they are, each LFS pointer followed by its content from the store."""
        for item in items:
            yield item
            if isinstance(item, Blob) and (oid := _pointer_of(item)) is not None:
                yield from self._content(self._held_through(item), oid)

    def _held_through(self, blob: Blob) -> Blob:
        if blob.prior is None and blob.after is None and blob.base is None:
            return blob
        through = partial(self._through, path=blob.path)
        return blob._replace(
            prior=through(blob.prior), after=through(blob.after), base=through(blob.base)
        )

    def _content(self, pointer: Blob, oid: str) -> Iterator[Blob | Skipped]:
        try:
            fd = fsread.open_regular(self.where(oid))
        except FileNotFoundError:
            self.absent[pointer.path] = None
            return
        except fsread.NotRegularError as exc:
            yield Skipped(
                pointer.path, f"its Git LFS content is {exc.kind}: not opened", error=True
            )
            return
        except OSError as exc:
            reason = f"its Git LFS content cannot be read: {exc.strerror or exc}"
            yield Skipped(pointer.path, reason, error=True)
            return
        make = partial(_piece, pointer)
        yield from pieces(fsread.chunks(fd), make)

    def _through(self, held: Loader | None, path: str) -> Loader | None:
        """A loader of what a path held that reads each pointer's content in its place."""
        return None if held is None else partial(self._contents, held, path)

    def _contents(self, held: Loader, path: str) -> tuple[bytes, ...]:
        out = []
        for data in held():
            out.append(data)
            oid = pointed(data)
            if oid is None:
                continue
            try:
                out.append(fsread.read_head(self.where(oid), _PRIOR_LIMIT))
            except (OSError, fsread.NotRegularError):
                self.unknown[path] = None  # a key found there may not be new: said
        return tuple(out)

    def notices(self) -> tuple[str, ...]:
        said = []
        if self.absent:
            said.append(
                f"{len(self.absent)} Git LFS file(s) were scanned as pointers only: their "
                f"content is not in the local LFS store ({_names(self.absent)}); fetch it "
                "(`git lfs fetch`) to scan what they hold"
            )
        if self.unknown:
            said.append(
                f"the earlier version of {len(self.unknown)} Git LFS file(s) is not in the "
                f"local LFS store ({_names(self.unknown)}): a key found in them is reported as "
                "new, though it may have been there before; fetch it (`git lfs fetch`) to tell"
            )
        return tuple(said)


def _pointer_of(blob: Blob) -> str | None:
    """What a file's first (or only) piece points at, if it is an LFS pointer."""
    if blob.message or (blob.part is not None and not blob.part.first):
        return None
    return pointed(blob.data)


def _names(paths: dict[str, None]) -> str:
    shown = list(paths)[:_SHOWN]
    return ", ".join(shown) + (", ..." if len(paths) > _SHOWN else "")


def _piece(pointer: Blob, data: bytes, part: Part | None) -> Blob:
    return pointer._replace(data=data, blob_id=None, part=part)
