"""Building containers in memory for tests: every kind sgai-guard opens, nested."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import tarfile
import zipfile
from collections.abc import Callable


def zip_of(members: dict[str, bytes], *, encrypted: bool = False) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    data = out.getvalue()
    return _mark_encrypted(data) if encrypted else data


def _mark_encrypted(data: bytes) -> bytes:
    """Set the "encrypted" flag in every local and central header, as an encrypting zip tool
    would (Python's zipfile cannot write encrypted members)."""
    raw = bytearray(data)
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        start = raw.find(signature)
        while start != -1:
            raw[start + offset] |= 0x1
            start = raw.find(signature, start + 4)
    return bytes(raw)


def tar_of(members: dict[str, bytes], links: dict[str, str] | None = None) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
        for name, target in (links or {}).items():
            info = tarfile.TarInfo(name)
            info.type = tarfile.SYMTYPE
            info.linkname = target
            archive.addfile(info)
    return out.getvalue()


# name suffix -> how to wrap one member called NAME holding bytes (as a container of that kind)
KINDS: dict[str, Callable[[str, bytes], bytes]] = {
    ".zip": lambda name, data: zip_of({name: data}),
    ".whl": lambda name, data: zip_of({name: data}),
    ".jar": lambda name, data: zip_of({name: data}),
    ".docx": lambda name, data: zip_of({"[Content_Types].xml": b"<Types/>", name: data}),
    ".tar": lambda name, data: tar_of({name: data}),
    ".tar.gz": lambda name, data: gzip.compress(tar_of({name: data})),
    ".tar.bz2": lambda name, data: bz2.compress(tar_of({name: data})),
    ".tar.xz": lambda name, data: lzma.compress(tar_of({name: data})),
    ".gz": lambda name, data: gzip.compress(data),
    ".bz2": lambda name, data: bz2.compress(data),
    ".xz": lambda name, data: lzma.compress(data),
}
SINGLE_STREAM = (".gz", ".bz2", ".xz")
