"""JSON written as it is encoded. A report's long lists (findings, results) are ``Lazy``: their
elements are built and turned into text one at a time, so a report of 100,000 findings never
exists whole in memory, as dicts or as text. The text is exactly what
``json.dumps(data, indent=2, ensure_ascii=False)`` gives for the same data with lists.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from typing import Any

_INDENT = "  "


class Lazy:
    """A JSON array whose elements are made only as they are written (once)."""

    def __init__(self, items: Callable[[], Iterable[Any]]) -> None:
        self.items = items


def chunks(data: Any) -> Iterator[str]:
    """``data`` as indented JSON text, in pieces, ending with a newline."""
    yield from _value(data, 0)
    yield "\n"


def text(data: Any) -> str:
    return "".join(chunks(data))


def _value(value: Any, level: int) -> Iterator[str]:
    if isinstance(value, Lazy):
        yield from _array(iter(value.items()), level)
    elif isinstance(value, dict) and _holds_lazy(value):
        yield from _object(value, level)
    elif isinstance(value, list) and _holds_lazy(value):
        yield from _array(iter(value), level)
    else:
        yield _dumps(value, level)


def _holds_lazy(value: Any) -> bool:
    if isinstance(value, Lazy):
        return True
    if isinstance(value, dict):
        return any(_holds_lazy(item) for item in value.values())
    if isinstance(value, list):
        return any(_holds_lazy(item) for item in value)
    return False


def _object(value: dict[str, Any], level: int) -> Iterator[str]:
    inner = "\n" + _INDENT * (level + 1)
    for n, (key, item) in enumerate(value.items()):
        yield ("{" if n == 0 else ",") + inner + json.dumps(key, ensure_ascii=False) + ": "
        yield from _value(item, level + 1)
    yield "\n" + _INDENT * level + "}"


def _array(items: Iterator[Any], level: int) -> Iterator[str]:
    inner = "\n" + _INDENT * (level + 1)
    first = True
    for item in items:
        yield ("[" if first else ",") + inner
        yield from _value(item, level + 1)
        first = False
    yield "[]" if first else "\n" + _INDENT * level + "]"


def _dumps(value: Any, level: int) -> str:
    """One value, indented as if it stood ``level`` deep (JSON text holds no raw newline
    inside a string, so every newline in it is one of the indentation's)."""
    encoded = json.dumps(value, indent=2, ensure_ascii=False)
    return encoded.replace("\n", "\n" + _INDENT * level) if level else encoded
