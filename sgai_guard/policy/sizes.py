"""Byte sizes as people write them: 5MiB, 512k, 1048576."""

from __future__ import annotations

_UNITS = {
    "": 1,
    "k": 1024,
    "kb": 1024,
    "kib": 1024,
    "m": 1024**2,
    "mb": 1024**2,
    "mib": 1024**2,
    "g": 1024**3,
    "gb": 1024**3,
    "gib": 1024**3,
}
EXAMPLE = "a size such as 5MiB, 512k or 1048576"


def parse_size(value: object) -> int | None:
    """The number of bytes, or None when ``value`` is not a size."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value if value >= 0 else None
    if not isinstance(value, str):
        return None
    text = value.strip().lower()
    digits = text.rstrip("abcdefghijklmnopqrstuvwxyz")
    unit = text[len(digits) :].strip()
    if not digits.strip().isdigit() or unit not in _UNITS:
        return None
    return int(digits) * _UNITS[unit]
