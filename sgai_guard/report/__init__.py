"""Report formats: each is ``render(result, options) -> str``; the CLI decides where it goes."""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass

from sgai_guard.models import ScanResult


class Format(str, enum.Enum):
    TEXT = "text"
    JSON = "json"


@dataclass(frozen=True, slots=True)
class RenderOptions:
    show_secrets: bool = False
    show_suppressed: bool = False
    color: bool = False
    hints: tuple[str, ...] = ()  # context-specific advice printed after the findings


Renderer = Callable[[ScanResult, RenderOptions], str]


def renderer(fmt: Format) -> Renderer:
    """The renderer for a format; imported lazily so a hook loads only what it prints."""
    if fmt is Format.TEXT:
        from sgai_guard.report import text  # noqa: PLC0415

        return text.render
    if fmt is Format.JSON:
        from sgai_guard.report import json_report  # noqa: PLC0415

        return json_report.render
    raise AssertionError(f"format {fmt} has no renderer")  # pragma: no cover - enum exhausted
