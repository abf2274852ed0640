"""The commit hook's quick path: the staged snapshot read and screened before anything of the
engine is loaded. When every staged blob is small and holds no keyword, no UTF-16 text and no
container, and the repository has no configuration that sets anything (the hook checks that),
the full scan could only say "Scanned N files, 0 blocking, 0 suppressed": the hook says exactly
that, at a third of the cost. This can only ever answer "clean". Otherwise the full scan runs
on what was read (``Staged``: git's listing and the blobs). A large or unreadable blob, a
submodule, nothing staged, no commit yet or any git error is None: the full scan then lists
and reads for itself, and says what went wrong.

The screen errs one way: every literal the detector's prefilter looks for holds one of
``KEYWORDS`` (tests/test_hook_quick.py checks that against detection), so a blob it passes is
one in which the detector finds nothing.
"""

from __future__ import annotations

import os
import time

from sgai_guard.detection.magic import magic
from sgai_guard.sources import hardening, spawn
from sgai_guard.sources.gitargs import HOOK_ENV, NAMED_FILES, STAGED_DIFF

# What the detector's prefilter looks for (detection.detect.Detector): the providers' prefixes
# and names, as they are, in base64 at each of the three alignments, and the prefixes in
# UTF-16, UTF-32 and EBCDIC.
KEYWORDS = (
    b"sgai",
    b"Sgai",
    b"SGAI",
    b"s\x00g\x00a\x00i\x00-",
    b"s\x00\x00\x00g\x00\x00\x00a\x00\x00\x00i\x00\x00\x00-",
    b"\xa2\x87\x81\x89`",  # sgai- in EBCDIC
    b"scrapegraph",
    b"Scrapegraph",
    b"ScrapeGraph",
    b"SCRAPEGRAPH",
    b"tvly-",
    b"t\x00v\x00l\x00y\x00-",
    b"t\x00\x00\x00v\x00\x00\x00l\x00\x00\x00y\x00\x00\x00-",
    b"\xa3\xa5\x93\xa8`",  # tvly- in EBCDIC
    b"tavily",
    b"Tavily",
    b"TAVILY",
    b"c2dhaS",
    b"NnYWkt",
    b"zZ2FpL",
    b"dHZseS",
    b"R2bHkt",
    b"0dmx5L",
)
_BOMS = (b"\xff\xfe", b"\xfe\xff", b"\0\0\xfe\xff")  # UTF-16, UTF-32 (little-endian: UTF-16's)
_LFS_LIMIT = 1024  # how much of a file git-lfs reads to tell a pointer (sources.lfs.pointed)
BLOB_LIMIT = 1 << 20  # larger blobs go the full way (read in pieces)
_TOTAL_LIMIT = 16 << 20
_PLAIN_MODES = frozenset({b"100644", b"100755", b"120000"})  # files and symlinks


def could_hold_key(data: bytes) -> bool:
    """True when the detector or the container opener could find anything in ``data``, or
    when it may be a Git LFS pointer (sources.lfs reads what it points at)."""
    if data.startswith(_BOMS) or magic(data) is not None or _may_point(data):
        return True
    return any(word in data for word in KEYWORDS)


def _may_point(data: bytes) -> bool:
    """True for every Git LFS pointer, as git-lfs reads one (and a few other files)."""
    return data[:_LFS_LIMIT].lstrip().startswith(b"version ")


class Staged:
    """What the quick path read: git's listing of the staged entries (the `diff-index --raw
    -z` output, or `ls-files -s -z` of the named files) and each entry's blob, in order. The
    full scan takes both as they are (sources.staged) rather than asking git again."""

    __slots__ = ("blobs", "listing", "seconds")

    def __init__(self, listing: bytes, blobs: list[bytes], seconds: float) -> None:
        self.listing, self.blobs, self.seconds = listing, blobs, seconds

    def clean(self) -> bool:
        """Nothing in any blob could be found (the full scan would say just the counts)."""
        return not any(could_hold_key(data) for data in self.blobs)

    def counts(self) -> tuple[int, int, float]:
        """(files, bytes, seconds), as the full scan counts them."""
        return len(self.blobs), sum(map(len, self.blobs)), self.seconds


def read_staged(path: str, files: list[str]) -> Staged | None:
    """The staged snapshot, or the index version of the named ``files`` (as the pre-commit
    framework passes them), when every entry is a plain file or symlink of at most 1 MiB;
    None when the full scan must read for itself. ``path`` is the current folder, where git
    runs a hook."""
    if not hasattr(os, "posix_spawn"):
        return None
    hardening.check_metadata(path)  # a FIFO for git's metadata: the full path says so
    if not os.path.lexists(os.path.join(path, ".git")) and "GIT_DIR" not in os.environ:
        return None  # a bare repository, or run from inside .git: the full path explains
    started = time.perf_counter()
    try:
        listed = _named(files) if files else _staged()
        blobs = _read(listed[1]) if listed and listed[1] else None
    except NotImplementedError:  # posix_spawn without setsid on this platform
        return None
    if listed is None or blobs is None:
        return None
    return Staged(listed[0], blobs, time.perf_counter() - started)


def _staged() -> tuple[bytes, list[bytes]] | None:
    """git's listing and the new blob of every added, copied, modified or type-changed path,
    as sources.staged lists them (deleted paths are listed, not read); None for anything but
    plain files and symlinks against an existing HEAD."""
    status, raw = spawn.git([*STAGED_DIFF, "HEAD"], HOOK_ENV)
    tokens = raw.split(b"\0")
    if status != 0 or tokens[-1] or len(tokens) % 2 == 0:
        return None
    oids = []
    for meta in tokens[0:-1:2]:
        fields = meta.split(b" ")
        if len(fields) == 5 and fields[4] == b"D":
            continue  # a deleted path: nothing to read (the full scan uses it for history)
        if len(fields) != 5 or fields[1] not in _PLAIN_MODES:
            return None
        oids.append(fields[3])
    return raw, oids


def _named(files: list[str]) -> tuple[bytes, list[bytes]] | None:
    """git's listing and the index blob of each named file, as sources.staged lists them
    (every conflict stage, once per path and blob); None unless each name is exactly one
    tracked file or symlink."""
    args = [*NAMED_FILES, "--", *files]
    status, raw = spawn.git(args, HOOK_ENV)
    records = raw.split(b"\0")
    if status != 0 or records[-1]:
        return None
    seen: dict[tuple[bytes, bytes], None] = {}
    for record in records[:-1]:
        meta, _, path = record.partition(b"\t")
        fields = meta.split(b" ")
        if len(fields) != 3 or fields[0] not in _PLAIN_MODES:
            return None
        seen[(path, fields[1])] = None
    if {os.fsdecode(path) for path, _ in seen} != set(files):
        return None  # untracked, a folder, a name git spells differently: the full path
    return raw, [oid for _, oid in seen]


def _read(oids: list[bytes]) -> list[bytes] | None:
    """Each blob's content, in order; None if one is missing, not a blob, or large."""
    request = b"\n".join(oids) + b"\n"
    limit = _TOTAL_LIMIT + len(oids) * 128  # headers: a large blob is never read whole here
    status, out = spawn.git(["cat-file", "--batch"], HOOK_ENV, request, limit=limit)
    if status != 0:
        return None
    blobs, at = [], 0
    for oid in oids:
        end = out.find(b"\n", at)
        header = out[at:end].split(b" ") if end != -1 else []
        if len(header) != 3 or header[0] != oid or header[1] != b"blob":
            return None
        size = int(header[2])
        if size > BLOB_LIMIT or out[end + 1 + size : end + 2 + size] != b"\n":
            return None
        blobs.append(out[end + 1 : end + 1 + size])
        at = end + 2 + size
    return blobs if at == len(out) else None
