"""Opening files that a scanned repository controls: never follow a symlink, never open a FIFO,
socket or device, never read more than asked for.

Every read of a file whose name or kind comes from a repository goes through here: work-tree
files, files a hook is handed, `.sgai-guard.toml`, `.gitignore`, and git's own metadata files
(MERGE_HEAD, shallow). A FIFO would block forever, `/dev/zero` would fill memory, and a
symlink would read outside the tree; here each is a ``NotRegularError`` answer instead.
"""

from __future__ import annotations

import os
import stat

TYPE_CHECKING = False  # the commit hook imports this: typing stays out of its start-up
if TYPE_CHECKING:
    from collections.abc import Iterator

    from _typeshed import StrPath

_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_NOCTTY", 0)
    | getattr(os, "O_BINARY", 0)
)
CHUNK = 8 * 1024 * 1024


class NotRegularError(Exception):
    """The path is not a regular file; ``kind`` says what it is."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


def kind_of(mode: int) -> str:
    """A few words for a file type, for "not scanned" lists."""
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "a special file"


def open_regular(path: StrPath) -> int:
    """A descriptor for ``path`` if it is a regular file (checked after opening, so a file
    swapped for something else in between is caught); NotRegularError or OSError otherwise."""
    try:
        fd = os.open(path, _FLAGS)
    except OSError as exc:
        info = lstat(path)
        if info is not None and not stat.S_ISREG(info.st_mode):
            raise NotRegularError(kind_of(info.st_mode)) from exc
        raise
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise NotRegularError(kind_of(info.st_mode))
    return fd


def lstat(path: StrPath) -> os.stat_result | None:
    """The path's own status (a symlink's, not its target's), or None when it cannot be had."""
    try:
        return os.lstat(path)
    except OSError:
        return None


def read_small(path: StrPath, limit: int = 16 * 1024 * 1024) -> bytes:
    """The whole of a small regular file (configuration, git metadata); OSError past limit."""
    fd = open_regular(path)
    try:
        data = _read_up_to(fd, limit + 1)
    finally:
        os.close(fd)
    if len(data) > limit:
        raise OSError(f"larger than {limit} bytes")
    return data


def read_head(path: StrPath, limit: int) -> bytes:
    """Up to ``limit`` bytes from the start of a regular file, however large it is."""
    fd = open_regular(path)
    try:
        return _read_up_to(fd, limit)
    finally:
        os.close(fd)


def read_text(path: StrPath, limit: int = 16 * 1024 * 1024) -> str:
    return read_small(path, limit).decode("utf-8")


def _read_up_to(fd: int, size: int) -> bytes:
    parts = []
    while size > 0:
        part = os.read(fd, min(size, CHUNK))
        if not part:
            break
        parts.append(part)
        size -= len(part)
    return b"".join(parts)


def chunks(fd: int, size: int = CHUNK) -> Iterator[bytes]:
    """The file behind ``fd`` in pieces of at most ``size`` bytes; closes it when done."""
    try:
        while part := _read_up_to(fd, size):
            yield part
    finally:
        os.close(fd)


def is_regular(path: StrPath) -> bool:
    """True for a regular file that is not a symlink (os.path.isfile follows links)."""
    info = lstat(path)
    return info is not None and stat.S_ISREG(info.st_mode)
