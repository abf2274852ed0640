"""Which container a blob is, by its bytes: the only thing ordinary text pays for (a few byte
comparisons, no copies). Its own module with no imports: the commit hook's quick path screens
staged blobs with it before anything of the engine is loaded."""

from __future__ import annotations

_TAR_MAGIC = (b"ustar\x0000", b"ustar  \x00")
_BZ2_LEVELS = frozenset(bytes([d]) for d in b"123456789")
_BZ2_BLOCKS = (b"1AY&SY", b"\x17rE8P\x90")  # a block, or the end of an empty stream
_ZIP_TAIL = 22 + 65535  # the end-of-central-directory record and the longest comment
_ZIP_END = b"PK\x05\x06"
_SNIFF = 8192  # a zip behind a program stub is binary within its first few KiB
_OCTAL = frozenset(b"01234567")


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
    if data.startswith(_TAR_MAGIC, 257):  # before zip's: a tar's first name may start "PK"
        return "tar"
    if data.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return "zip"
    if _old_tar(data):
        return "tar"
    if data[-22:-18] == _ZIP_END:  # a zip without a comment ends so: behind a script, say
        return "zip"
    tail = len(data) - _ZIP_TAIL
    binary = data.find(b"\0", 0, _SNIFF) != -1 or data.find(b"\0", tail) != -1
    if binary and data.rfind(_ZIP_END, tail) != -1:
        return "zip"  # binary, or a zip's binary records at the end: text never pays for this
    return None


def last_bytes(before: bytes, piece: bytes) -> bytes:
    """The last bytes of a file read in pieces, as many as ``zip_end`` looks at: ``before``,
    those of the pieces so far, and the next ``piece``."""
    if len(piece) >= _ZIP_TAIL:
        return piece[-_ZIP_TAIL:]
    return (before + piece)[-_ZIP_TAIL:]


def zip_end(data: bytes) -> bool:
    """``data`` ends exactly where a zip's end-of-central-directory record and its comment
    end: a zip joined to another container (a gzip, a tar), or behind a large program. An
    archive merely holding a zip near its end (a tar's last member) does not."""
    low = max(0, len(data) - _ZIP_TAIL)
    at = data.rfind(_ZIP_END, low)
    while at != -1:
        if at + 22 + int.from_bytes(data[at + 20 : at + 22], "little") == len(data):
            return True
        at = data.rfind(_ZIP_END, low, at)
    return False


def _old_tar(data: bytes) -> bool:
    """A tar header without ustar's magic (what `tar --format=v7` writes, or a GNU long-name
    header whose magic was zeroed: GNU tar and tarfile read it, and a key in it was missed, a
    review): its checksum field looks like one (text rarely gets past that), and the checksum
    adds up, whatever its type byte."""
    if len(data) < 512 or not data[0]:
        return False
    digits = data[148:156].strip(b" \0")
    if not digits or not _OCTAL.issuperset(digits):
        return False
    return int(digits, 8) == sum(data[:148]) + 8 * 32 + sum(data[156:512])
