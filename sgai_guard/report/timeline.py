"""Geometry of the HTML report's timeline: when each key entered the history and when it left
(or that it is still at HEAD). Numbers and display strings only; the template draws the SVG,
so no markup is ever built here."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from typing import NamedTuple

from sgai_guard.display import name
from sgai_guard.report.summary import KeyGroup

LABEL_WIDTH = 250
PLOT_WIDTH = 760
ROW_HEIGHT = 22
TOP = 28
MAX_ROWS = 200  # the most urgent keys; a huge audit says how many more were left out
TICKS = 5


class Bar(NamedTuple):
    anchor: str
    label: str
    y: int
    x: float
    width: float
    exposure: str
    open: bool  # still at HEAD: the bar runs to now
    title: str


class Tick(NamedTuple):
    x: float
    label: str


class Timeline(NamedTuple):
    width: int
    height: int
    plot_left: int
    plot_right: int
    bars: tuple[Bar, ...]
    ticks: tuple[Tick, ...]
    omitted: int  # keys not drawn: beyond MAX_ROWS, or without dates (not an audit)


def parse_date(text: str) -> datetime | None:
    """A git ISO 8601 date; None for anything else (dates come from the repository), and
    for one within a year of what datetime holds: the scale adds a day to its dates (found
    by a review: a commit dated 9999-12-31 ended the HTML report in OverflowError)."""
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if not 1 < value.year < 9999:
        return None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def _span(group: KeyGroup, now: datetime) -> tuple[datetime, datetime, bool] | None:
    exposure = group.exposure
    if exposure is None or exposure.introduced is None:
        return None
    start = parse_date(exposure.introduced.date)
    last = exposure.last_seen
    end = now if exposure.at_head else (parse_date(last.date) if last else None)
    if start is None or end is None:
        return None
    return start, max(start, end), exposure.at_head


class _Scale(NamedTuple):
    first: datetime
    last: datetime

    def x(self, moment: datetime) -> float:
        share = (moment - self.first) / (self.last - self.first)
        return round(LABEL_WIDTH + share * PLOT_WIDTH, 1)

    def ticks(self) -> tuple[Tick, ...]:
        step = (self.last - self.first) / (TICKS - 1)
        moments = [self.first + step * n for n in range(TICKS)]
        # ticks less than a day apart also say the time: a history of a few hours showed
        # one date five times (a newcomer review)
        shown = "%Y-%m-%d %H:%M" if step < timedelta(days=1) else "%Y-%m-%d"
        return tuple(Tick(self.x(m), name(m.strftime(shown))) for m in moments)


_Span = tuple[KeyGroup, str, datetime, datetime, bool]


def build_timeline(groups: Sequence[KeyGroup], labels: Sequence[str], now: datetime) -> Timeline:
    """One bar per key, in the order given (most urgent first); ``labels`` name each key."""
    spans: list[_Span] = []
    for group, label in zip(groups, labels, strict=True):
        span = _span(group, now)
        if span is not None:
            spans.append((group, label, *span))
    drawn = spans[:MAX_ROWS]
    omitted = len(groups) - len(drawn)
    if not drawn:
        return Timeline(0, 0, 0, 0, (), (), omitted)
    first = min(s[2] for s in drawn)
    # at least an hour: keys added within minutes of each other drew on a day's scale (a review)
    scale = _Scale(first, max(*(s[3] for s in drawn), first + timedelta(hours=1)))
    bars = tuple(_bar(row, span, scale) for row, span in enumerate(drawn))
    right = LABEL_WIDTH + PLOT_WIDTH
    height = TOP + len(bars) * ROW_HEIGHT + 8
    return Timeline(right + 60, height, LABEL_WIDTH, right, bars, scale.ticks(), omitted)


def _bar(row: int, span: _Span, scale: _Scale) -> Bar:
    group, label, start, end, at_head = span
    x = scale.x(start)
    until = "still at HEAD" if at_head else f"last held {end.date().isoformat()}"
    return Bar(
        anchor=f"key-{group.fingerprint}",
        label=label,
        y=TOP + row * ROW_HEIGHT,
        x=x,
        width=max(3.0, round(scale.x(end) - x, 1)),
        exposure=group.exposure_class,
        open=at_head,
        title=f"{label}: introduced {start.date().isoformat()}, {until}",
    )
