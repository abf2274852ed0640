"""sources.bigreads: a pipe's whole output in overlapping windows, whatever the writer's pace."""

from __future__ import annotations

import fcntl
import os
import threading
import time

import pytest
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


def _trickled(data: bytes, wide: bool) -> bytes:
    """``data`` read back through windows, written into a pipe 64 KiB at a time by another
    thread; the pipe widened to 1 MiB first when ``wide`` (Linux)."""
    read_end, write_end = os.pipe()
    if wide:
        fcntl.fcntl(read_end, getattr(fcntl, "F_SETPIPE_SZ", 1031), 1 << 20)

    pace = threading.Event()  # never set: its wait is a pause that is not time.sleep's

    def write() -> None:
        for at in range(0, len(data), 1 << 16):
            os.write(write_end, data[at : at + (1 << 16)])
            if at > 9 << 20:  # slower than the reader from here: its reads come up short
                pace.wait(0.002)
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
    return bytes(got)


@pytest.mark.parametrize("wide", [True, False])
def test_a_long_output_is_read_whole_and_only_a_wide_pipe_pauses(
    wide: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past the point where pauses may start (8 MiB), a writer that trickles is read to its
    last byte. A pause is taken only on a pipe wide enough to fill during it: a 64 KiB pipe
    (macOS's) paused after every read would cap the stream at 64 MB/s."""
    if wide and not _sizes_told():
        pytest.skip("pipe sizes cannot be told here")
    pauses: list[float] = []
    real_sleep = time.sleep

    def pause(seconds: float) -> None:
        pauses.append(seconds)
        real_sleep(seconds)

    monkeypatch.setattr(bigreads.time, "sleep", pause)
    data = os.urandom(12 << 20)
    assert _trickled(data, wide) == data
    assert bool(pauses) == wide, len(pauses)


def _sizes_told() -> bool:
    read_end, write_end = os.pipe()
    try:
        return bigreads.pipe_size(read_end) > 0
    finally:
        os.close(read_end)
        os.close(write_end)
