"""Pack files written by hand, for what git itself never writes: corrupt entries, sizes that
lie, delta chains that loop, bases outside the pack. Version 2 packs and indexes, SHA-1."""

from __future__ import annotations

import hashlib
import struct
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

COMMIT, TREE, BLOB, TAG, OFS_DELTA, REF_DELTA = 1, 2, 3, 4, 6, 7


@dataclass
class Entry:
    """One entry: ``name`` is the id the index gives it (20 bytes; any, for hostile packs)."""

    name: bytes
    kind: int
    data: bytes  # what is deflated (a delta for the delta kinds)
    size: int | None = None  # the size the header says; len(data) when None
    base: int | bytes | None = None  # OFS_DELTA: the index of an earlier entry; REF_DELTA: an id
    raw: bytes | None = None  # the deflated bytes as written, instead of deflating ``data``


def object_id(kind: str, data: bytes) -> bytes:
    return hashlib.sha1(f"{kind} {len(data)}\0".encode() + data).digest()  # noqa: S324 - git's ids


def varint(value: int) -> bytes:
    """A delta header's size: 7 bits a byte, least significant first."""
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def delta(source: int, target: int, *ops: bytes) -> bytes:
    return varint(source) + varint(target) + b"".join(ops)


def insert(data: bytes) -> bytes:
    assert 0 < len(data) < 128
    return bytes([len(data)]) + data


def copy(offset: int, size: int) -> bytes:
    """A copy op with 4 offset and 3 size bytes, all present."""
    return bytes([0xFF]) + offset.to_bytes(4, "little") + size.to_bytes(3, "little")


def entry_header(kind: int, size: int) -> bytes:
    out = bytearray([(kind << 4) | (size & 15)])
    size >>= 4
    while size:
        out[-1] |= 0x80
        out.append(size & 0x7F)
        size >>= 7
    return bytes(out)


def distance(relative: int) -> bytes:
    """An OFS_DELTA's distance back to its base, in git's offset encoding."""
    out = [relative & 0x7F]
    relative >>= 7
    while relative:
        relative -= 1
        out.append(0x80 | (relative & 0x7F))
        relative >>= 7
    return bytes(reversed(out))


def write(objects: Path, entries: Sequence[Entry], name: str = "pack-test") -> tuple[Path, Path]:
    """A pack of ``entries`` in order, and its index, under ``objects``/pack."""
    body, offsets = bytearray(b"PACK" + struct.pack(">II", 2, len(entries))), []
    for entry in entries:
        offsets.append(len(body))
        size = len(entry.data) if entry.size is None else entry.size
        body += entry_header(entry.kind, size)
        if entry.kind == OFS_DELTA:
            assert isinstance(entry.base, int)
            body += distance(offsets[-1] - offsets[entry.base])
        elif entry.kind == REF_DELTA:
            assert isinstance(entry.base, bytes)
            body += entry.base
        body += entry.raw if entry.raw is not None else zlib.compress(entry.data)
    checksum = hashlib.sha1(body).digest()  # noqa: S324 - the pack format's checksum
    directory = objects / "pack"
    directory.mkdir(parents=True, exist_ok=True)
    pack = directory / f"{name}.pack"
    pack.write_bytes(bytes(body) + checksum)
    idx = directory / f"{name}.idx"
    idx.write_bytes(index([e.name for e in entries], offsets, checksum))
    return pack, idx


def index(names: Sequence[bytes], offsets: Sequence[int], checksum: bytes) -> bytes:
    order = sorted(range(len(names)), key=lambda n: names[n])
    fanout = [sum(1 for n in names if n[0] <= byte) for byte in range(256)]
    out = bytearray(b"\xfftOc" + struct.pack(">I", 2) + struct.pack(">256I", *fanout))
    out += b"".join(names[n] for n in order)
    out += b"".join(struct.pack(">I", 0) for _ in order)  # CRCs: git's reader ignores them
    out += b"".join(struct.pack(">I", offsets[n]) for n in order)
    out += checksum
    return bytes(out + hashlib.sha1(out).digest())  # noqa: S324 - the index's checksum
