"""sources.bigreads: a pipe's whole output in overlapping windows, whatever the writer's pace."""

from __future__ import annotations

import os
import threading

from hypothesis import given, settings
from hypothesis import strategies as st

from sgai_guard.sources import bigreads


def _piped(data: bytes, pieces: list[int]) -> list[tuple[int, bytes]]:
    """The windows read from a pipe that ``data`` is written into, in pieces of the sizes
    given (then the rest), by another thread."""
    read_end, write_end = os.pipe()

    def write() -> None:
        at = 0
        for size in [*pieces, len(data)]:
            if at < len(data):
                os.write(write_end, data[at : at + size])
            at += size
        os.close(write_end)

    writer = threading.Thread(target=write)
    writer.start()
    try:
        return [(start, bytes(window)) for start, window in bigreads.windows(read_end, 7, 3)]
    finally:
        writer.join()
        os.close(read_end)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200), st.lists(st.integers(1, 30), max_size=20))
def test_windows_cover_the_stream_and_every_short_run_of_it(data: bytes, pieces: list[int]) -> None:
    windows = _piped(data, pieces)
    for start, window in windows:
        assert data[start : start + len(window)] == window
    # every full window is 3 + 7 bytes; each next one starts 7 bytes later
    assert all(len(window) == 10 for _, window in windows[:-1])
    assert [start for start, _ in windows] == [7 * n for n in range(len(windows))]
    end = windows[-1][0] + len(windows[-1][1]) if windows else 0
    assert end == len(data)
    for at in range(len(data) - 3):  # every 4 bytes (overlap + 1) whole in some window
        assert any(start <= at and at + 4 <= start + len(w) for start, w in windows), at


def test_an_empty_output_has_no_window() -> None:
    assert _piped(b"", []) == []


def test_a_long_slow_output_is_read_whole() -> None:
    """Past the point where pauses start (8 MiB), a writer that trickles is still read to
    its last byte."""
    data = os.urandom(9 << 20)
    read_end, write_end = os.pipe()

    def write() -> None:
        for at in range(0, len(data), 1 << 16):
            os.write(write_end, data[at : at + (1 << 16)])
        os.close(write_end)

    writer = threading.Thread(target=write)
    writer.start()
    got = bytearray()
    try:
        for start, window in bigreads.windows(read_end, 1 << 20, 19):
            got[start:] = window
    finally:
        writer.join()
        os.close(read_end)
    assert bytes(got) == data
