"""The alternate object stores git would read, found as git finds them, so that the audit can
check every one before git opens it (a FIFO there stalls git for good).

git reads an object directory's `info/alternates` as bytes, one entry per line ("\\n" only),
skips "#" comments, unquotes an entry that starts with a double quote the way C strings are
quoted (the quoted text may hold a newline, and git skips one byte after the closing quote),
and takes a relative entry from the directory whose file names it. What is found here is a
superset: every raw line too, and each path both as the file system resolves it and
normalised as git does, so a store git reads is never missed; checking one git would not
read costs nothing but a check.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from sgai_guard import fsread

_LIMIT = 1 << 16  # the audit refuses an alternates file over 16 KiB before any is read
_ESCAPES = {
    ord("a"): 7,
    ord("b"): 8,
    ord("f"): 12,
    ord("n"): 10,
    ord("r"): 13,
    ord("t"): 9,
    ord("v"): 11,
    ord("\\"): 92,
    ord('"'): 34,
}


def stores(objects: Path) -> list[Path]:
    """The directories ``objects``' alternates file names (one level; none when it cannot
    be read as a plain file, as git, which then reads nothing from it). Never through a
    symbolic link: the audit refuses one before (audit._check_alternates), since git reads
    it from another working directory than this process."""
    try:
        data = fsread.read_small(objects / "info" / "alternates", _LIMIT)
    except (OSError, fsread.NotRegularError):  # none, a folder, too large: git reads none
        return []
    found: dict[Path, None] = {}
    for entry in sorted(entries(data)):
        joined = objects / os.fsdecode(entry)
        found.setdefault(joined)
        found.setdefault(Path(os.path.normpath(joined)))
    return list(found)


def entries(data: bytes) -> set[bytes]:
    """Every entry git could take from an alternates file's ``data``, and every raw line,
    each up to its first NUL byte: git reads the file as one C string, so a NUL ends its
    entry (and the file); no path holds one (found in session 17: an entry with a NUL made
    the audit stop on an internal error, exit 3, while git read the store before it)."""
    found = {line for line in data.split(b"\n") if line and not line.startswith(b"#")}
    at = 0
    while at < len(data):
        end = data.find(b"\n", at)
        end = len(data) if end == -1 else end
        quoted = _unquoted(data, at) if data.startswith(b'"', at) else None
        if quoted is not None:
            text, close = quoted
            found.add(text)
            at = close + 2  # git steps over the byte after the closing quote
            continue
        if not data.startswith(b"#", at):
            found.add(data[at:end])
        at = end + 1
    cut = {entry.split(b"\0", 1)[0] for entry in found}
    cut.discard(b"")
    return cut


def _unquoted(data: bytes, at: int) -> tuple[bytes, int] | None:
    """The C-quoted string starting at ``at`` and where its closing quote is; None where
    git's unquoting fails (it then takes the line as it is)."""
    out = bytearray()
    pos = at + 1
    while pos < len(data):
        byte = data[pos]
        if byte == ord('"'):
            return bytes(out), pos
        if byte != ord("\\"):
            out.append(byte)
            pos += 1
            continue
        code = data[pos + 1] if pos + 1 < len(data) else -1
        if code in _ESCAPES:
            out.append(_ESCAPES[code])
            pos += 2
        elif ord("0") <= code <= ord("3") and _octal(data[pos + 2 : pos + 4]):
            out.append(int(data[pos + 1 : pos + 4], 8))
            pos += 4
        else:
            return None
    return None


def _octal(digits: bytes) -> bool:
    return len(digits) == 2 and all(ord("0") <= d <= ord("7") for d in digits)


# Names whose meaning depends on the process that reads them: git, run from the repository,
# and this process, run from anywhere, would find different files there.
_MAGIC = ("/proc", "/dev/fd", "/dev/stdin", "/dev/stdout", "/dev/stderr")
_LINKS = 40  # links followed along one path, as the kernel's own limit


def process_dependent(path: Path) -> str | None:
    """The name along ``path`` (itself, or where one of its links points) that means another
    file to another process (`/proc/self/cwd/...`, `/dev/fd/3`), or None. Found by a review:
    an alternates entry, a linked `objects/info` or a linked `objects` through
    /proc/self/cwd named other stores to git than to the audit, and a key was missed."""
    pending, current, links = list(path.absolute().parts[1:]), Path("/"), 0
    while pending:  # each name in turn, a link replaced by where it points, as the kernel
        part = pending.pop(0)
        if part in ("", "."):
            continue
        if part == "..":
            current = current.parent
            continue
        here = current / part
        if _magic(os.fspath(here)):
            return os.fspath(here)
        info = fsread.lstat(here)
        if info is None or not stat.S_ISLNK(info.st_mode):
            current = here
            continue
        links += 1
        if links > _LINKS:
            return os.fspath(path)
        target = here.readlink()
        current = Path("/") if target.is_absolute() else current
        pending = [*target.parts[1 if target.is_absolute() else 0 :], *pending]
    return None


def _magic(text: str) -> bool:
    return any(text == name or text.startswith(name + "/") for name in _MAGIC)
