"""Git LFS: a path tracked with `filter=lfs` is stored by git as a pointer (a few lines naming
the content's SHA-256), and the content itself goes to the LFS store when pushed. What git
holds is then no more than the pointer, so a key in such a file would pass every scan that
reads git's objects. The content of a pointer is read from the local LFS store
(`<common git dir>/lfs/objects/ab/cd/<sha256>`, where `git add` puts it) and scanned under
the pointer's own path, with line numbers of the file as the work tree shows it.

A pointer whose content is not in the local store (a CI checkout without LFS, `lfs.storage`
set elsewhere) is counted and said in one notice: nothing of it can be pushed from here, but
the user should know it went unscanned. A pointer is at most 1024 bytes and names a SHA-256
in lowercase hex, so no file name is ever built from anything else a repository wrote.
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

POINTER_LIMIT = 1024  # git-lfs never writes a larger pointer
_SPECS = (
    b"version https://git-lfs.github.com/spec/v1\n",
    b"version https://hawser.github.com/spec/v1\n",  # the pre-release spelling git-lfs reads
)
_OID = re.compile(rb"^oid sha256:([0-9a-f]{64})\r?$", re.MULTILINE)
_PRIOR_LIMIT = 32 * 1024 * 1024  # what a path held before: read only for a key found


def pointed(data: bytes) -> str | None:
    """The SHA-256 a Git LFS pointer names, or None when ``data`` is no pointer."""
    if len(data) > POINTER_LIMIT or not data.startswith(_SPECS):
        return None
    found = _OID.search(data)
    return found.group(1).decode("ascii") if found else None


class LocalStore:
    """The local LFS store of the repository at ``path``, looked up only when a pointer turns
    up (one git process), and what the scan could not find in it."""

    def __init__(self, path: str, keep_env: tuple[str, ...] = ()) -> None:
        self.path, self.keep_env = path, keep_env
        self._objects: str | None = None
        self.absent: list[str] = []  # paths whose content is not in the store

    def objects(self) -> str:
        if self._objects is None:
            said = gitcmd.output(
                ["rev-parse", "--git-common-dir"], self.path, keep_env=self.keep_env
            )
            common = os.path.join(self.path, os.fsdecode(said.rstrip(b"\n")))
            self._objects = os.path.join(common, "lfs", "objects")
        return self._objects

    def where(self, oid: str) -> str:
        return os.path.join(self.objects(), oid[:2], oid[2:4], oid)

    def expand(self, items: Iterable[Blob | Skipped]) -> Iterator[Blob | Skipped]:
        """``items`` as they are, each LFS pointer followed by its content from the store."""
        for item in items:
            yield item
            if isinstance(item, Blob) and item.part is None and not item.message:
                oid = pointed(item.data)
                if oid is not None:
                    yield from self._content(item, oid)

    def _content(self, pointer: Blob, oid: str) -> Iterator[Blob | Skipped]:
        try:
            fd = fsread.open_regular(self.where(oid))
        except FileNotFoundError:
            self.absent.append(pointer.path)
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
        make = partial(_piece, pointer, self._through)
        yield from pieces(fsread.chunks(fd), make)

    def _through(
        self, held: Callable[[], tuple[bytes, ...]] | None
    ) -> Callable[[], tuple[bytes, ...]] | None:
        """A loader of what a path held (before, after, at a base) that reads each pointer's
        content from the store in its place."""
        if held is None:
            return None
        return partial(self._contents, held)

    def _contents(self, held: Callable[[], tuple[bytes, ...]]) -> tuple[bytes, ...]:
        out = []
        for data in held():
            oid = pointed(data)
            if oid is None:
                out.append(data)
                continue
            try:
                out.append(fsread.read_head(self.where(oid), _PRIOR_LIMIT))
            except (OSError, fsread.NotRegularError):
                continue  # not here: nothing of it can be told
        return tuple(out)

    def notices(self) -> tuple[str, ...]:
        if not self.absent:
            return ()
        shown = ", ".join(self.absent[:3]) + (", ..." if len(self.absent) > 3 else "")
        return (
            f"{len(self.absent)} Git LFS file(s) whose content is not in the local LFS store "
            f"were scanned as pointers only ({shown}): fetch them (`git lfs fetch`) to scan "
            "what they hold",
        )


def _piece(
    pointer: Blob,
    through: Callable[
        [Callable[[], tuple[bytes, ...]] | None], Callable[[], tuple[bytes, ...]] | None
    ],
    data: bytes,
    part: Part | None,
) -> Blob:
    return pointer._replace(
        data=data,
        blob_id=None,
        part=part,
        prior=through(pointer.prior),
        after=through(pointer.after),
        base=through(pointer.base),
    )
