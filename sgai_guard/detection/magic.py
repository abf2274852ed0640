"""Which container a blob is, by its bytes: the only thing ordinary text pays for (a few byte
comparisons, no copies). Its own module with no imports: the commit hook's quick path screens
staged blobs with it before anything of the engine is loaded."""

from __future__ import annotations

_TAR_MAGIC = (b"ustar\x0000", b"ustar  \x00")
_BZ2_LEVELS = frozenset(bytes([d]) for d in b"123456789")
_BZ2_BLOCKS = (b"1AY&SY", b"\x17rE8P\x90")  # a block, or the end of an empty stream
_ZIP_TAIL = 22 + 65535  # the end-of-central-directory record and the longest comment
_SNIFF = 8192  # a zip behind a program stub is binary within its first few KiB


def magic(data: bytes) -> str | None:
    """The container kind of ``data``, or None (the common case): by the first bytes, and for
    zip also by the end-of-central-directory record near the end (a self-extracting archive
    or an executable jar starts with a program). No copies: text pays a few comparisons."""
    if data.startswith(b"\x1f\x8b"):
        return "gzip"
    if data.startswith(b"BZh") and data[3:4] in _BZ2_LEVELS and data.startswith(_BZ2_BLOCKS, 4):
        return "bzip2"
    if data.startswith(b"\xfd7zXZ\x00"):
        return "xz"
    if data.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return "zip"
    if data.startswith(_TAR_MAGIC, 257):
        return "tar"
    if data.find(b"\0", 0, _SNIFF) != -1 and data.rfind(b"PK\x05\x06", len(data) - _ZIP_TAIL) != -1:
        return "zip"  # binary, with a zip's end record: text never pays for this search
    return None
