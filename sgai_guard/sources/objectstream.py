"""One `git cat-file --batch` answer stream turned into what the engine scans: each blob whole,
or in bounded pieces when large; a commit's or tag's message when it holds a keyword; and a
Skipped entry for what could not be read. Memory stays flat whatever an object's size.
"""

from __future__ import annotations

import hashlib
from collections.abc import Generator, Iterator
from functools import cache, partial
from typing import IO

from sgai_guard.detection.prefilter import Prefilter
from sgai_guard.detection.rules import RULES, encoded_keywords
from sgai_guard.fsread import CHUNK
from sgai_guard.models import Blob, Part, Skipped
from sgai_guard.sources import catfile
from sgai_guard.sources.messages import declared, decoded, headers_path, message_path, split
from sgai_guard.sources.pieces import StreamChunks, pieces

MAX_MESSAGE_OBJECT = 1 << 20  # a larger commit or tag object is not scanned
# Every keyword a rule looks for, in every encoding: a message without one holds no key.
_KEYWORDS = {k for rule in RULES for k in rule.keywords}
_KEYWORDS |= {k for rule in RULES for k in encoded_keywords(rule.provider.prefix.encode())}


@cache
def _hints() -> Prefilter:
    """One search for all of them (Hyperscan once the audit has read a few MiB)."""
    return Prefilter(sorted(_KEYWORDS))


def warm() -> None:
    """Ready the search of messages for bulk work (see Prefilter.warm)."""
    _hints().warm()


def objects(out: IO[bytes], max_size: int | None) -> Generator[Blob | Skipped, None, int]:
    """Everything in the stream, until its end or until git stops in the middle of it; how
    many answers it held."""
    answers = 0
    while header := out.readline():
        if not header.endswith(b"\n"):
            yield Skipped("(object store)", "git stopped in the middle of the object list", True)
            return answers
        answers += 1
        found = catfile.parse_header(header)
        if found is None:
            oid = header.split(b" ", 1)[0].decode("ascii", "replace")
            yield Skipped(f"object {oid[:12]}", "unreadable object", error=True, blob_id=oid)
            continue
        stopped = yield from _object(out, *found, max_size)
        if stopped:
            return answers
    return answers


def one(
    out: IO[bytes], asked: bytes, max_size: int | None
) -> Generator[Blob | Skipped, None, bool]:
    """The answer to one id asked of an interactive `cat-file --batch`; True when git
    stopped in the middle of it."""
    header = out.readline()
    found = catfile.parse_header(header, asked) if header.endswith(b"\n") else None
    if found is None:
        oid = asked.decode("ascii", "replace")
        reason = "unreadable object" if header.endswith(b"\n") else "git stopped before it"
        yield Skipped(f"object {oid[:12]}", reason, error=True, blob_id=oid)
        return not header.endswith(b"\n")
    return (yield from _object(out, *found, max_size))


def from_memory(oid: str, kind: str, data: bytes, max_size: int | None) -> Iterator[Blob | Skipped]:
    """What ``objects`` yields for an object already read whole (sources.packread)."""
    if kind == "blob":
        if max_size is not None and len(data) > max_size:
            yield from over_cap(oid, len(data), max_size)
            return
        if len(data) <= CHUNK:
            yield Blob(f"(blob {oid[:12]})", data, blob_id=oid)
        else:
            chunks = (data[at : at + CHUNK] for at in range(0, len(data), CHUNK))
            yield from pieces(chunks, partial(_blob, oid))
    elif kind in ("commit", "tag"):
        yield from (
            _message(oid, kind, data) if len(data) <= MAX_MESSAGE_OBJECT else too_large(oid, kind)
        )


def _object(
    out: IO[bytes], oid: str, kind: str, size: int, max_size: int | None
) -> Generator[Blob | Skipped, None, bool]:
    """A blob's pieces, a message, or why it was passed over; True when git stopped in the
    middle."""
    if kind == "blob" and (max_size is None or size <= max_size):
        read = yield from _read_blob(out, oid, size)
        if read is None:
            return True  # its answers went astray: said, and nothing after it is read
        whole = read
    elif kind in ("commit", "tag") and size <= MAX_MESSAGE_OBJECT:
        whole = yield from _read_message(out, oid, kind, size)
    else:
        whole = yield from _pass_over(out, oid, kind, size, max_size)
    if not whole:
        yield Skipped(f"{kind} {oid[:12]}", "git stopped while reading it", True, oid)
    return not whole


def _read_blob(out: IO[bytes], oid: str, size: int) -> Generator[Blob | Skipped, None, bool | None]:
    """The blob's pieces; False when git stopped before its end; None (said) when what it
    wrote is not the blob its id names. Found by an attacker review: git streams a blob whose
    content is shorter than its header says, and goes on to the next answer, which the
    reader took for the rest of the blob (and fake answers inside another blob for the ones
    after it); the id is the one thing git's answers cannot forge."""
    seen = hashlib.new("sha1" if len(oid) == 40 else "sha256", b"blob %d\0" % size)
    reader = StreamChunks(out, size, seen)
    yield from pieces(reader, partial(_blob, oid))
    if reader.short:
        return False
    if seen.hexdigest() != oid:
        reason = (
            "git's answer is not the blob its id names (shorter than its header says?): "
            "it and the objects after it are not read"
        )
        yield Skipped(f"blob {oid[:12]}", reason, error=True, blob_id=oid)
        return None
    return out.read(1) == b"\n"


def _read_message(
    out: IO[bytes], oid: str, kind: str, size: int
) -> Generator[Blob | Skipped, None, bool]:
    data = out.read(size)
    whole = len(data) == size and out.read(1) == b"\n"
    if whole:
        yield from _message(oid, kind, data)
    return whole


def _pass_over(
    out: IO[bytes], oid: str, kind: str, size: int, max_size: int | None
) -> Generator[Skipped, None, bool]:
    """A tree, a message too large to be one, or a blob over the cap: read past, unscanned."""
    whole = drain(out, size + 1)
    if whole and kind == "blob":
        yield from over_cap(oid, size, max_size)
    elif whole and kind in ("commit", "tag"):
        yield from too_large(oid, kind)
    return whole


def over_cap(oid: str, size: int, max_size: int | None) -> Iterator[Skipped]:
    """A blob over the user's cap: never read, and listed."""
    cap = f"larger than the size cap set by --max-blob-size ({size} > {max_size} bytes)"
    yield Skipped(f"blob {oid[:12]}", cap, blob_id=oid)


def too_large(oid: str, kind: str) -> Iterator[Skipped]:
    """A commit or tag too large to be read whole: said, and the audit is incomplete."""
    reason = f"a {kind} object larger than {MAX_MESSAGE_OBJECT} bytes: not scanned"
    yield Skipped(f"{kind} {oid[:12]}", reason, error=True, blob_id=oid)


def silent(kind: str, data: bytes) -> bool:
    """True when ``from_memory`` yields nothing for an object that is not a blob: a tree, or
    a commit or tag whose message holds no keyword (most of them; no Blob, no name)."""
    if kind not in ("commit", "tag"):
        return True
    if kind == "commit" and declared(data):
        return False
    return len(data) <= MAX_MESSAGE_OBJECT and not _hints()(data)


def _message(oid: str, kind: str, data: bytes) -> Iterator[Blob | Skipped]:
    """A commit's or tag's headers and message, each when it holds any of the detector's
    keywords (most hold none: checking costs one regex search, scanning a blob each); and a
    commit as `git log` shows it when it declares another encoding than UTF-8."""
    if kind == "commit" and declared(data):
        yield from (
            blob._replace(blob_id=oid) if isinstance(blob, Blob) else blob
            for blob in decoded(oid, data)
        )
    hints = _hints()
    if not hints(data):
        return
    commit = oid if kind == "commit" else None
    headers, body = split(data)
    for text, path in ((headers, headers_path(kind, oid)), (body, message_path(kind, oid))):
        if hints(text):
            yield Blob(path, text, commit=commit, blob_id=oid, message=True)


def _blob(oid: str, data: bytes, part: Part | None) -> Blob:
    return Blob(f"(blob {oid[:12]})", data, blob_id=oid, part=part)


def drain(out: IO[bytes], size: int) -> bool:
    """Read past ``size`` bytes of git's answer; False when git stopped first."""
    while size > 0:
        chunk = out.read(min(size, 1 << 20))
        if not chunk:
            return False
        size -= len(chunk)
    return True
