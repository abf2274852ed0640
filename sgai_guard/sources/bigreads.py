"""A long git output read through its pipe in few, large reads, into one reused buffer.

Read as soon as git has written anything, a pipe gives a few KiB a read: naming on sympy
read 341 MB of trees in that many small reads, and a buffered reader copied each MiB twice
more. Here each window of the output is filled in place; once a stream proves long, a read
that found a wide pipe (sources.runread widens git's to 1 MiB on Linux) nearly empty is
followed by a millisecond's pause, in which git fills it. A narrow pipe (64 KiB, as on macOS)
gets no pause: git writes far more than 64 KiB a millisecond, and would wait on the reader.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

_NAP = 0.001
_NAP_AFTER = 8 << 20  # bytes read before pauses start: short outputs are read at once
_WIDE = 1 << 20  # a pipe at least this wide holds what git writes in a pause


def windows(fd: int, size: int, overlap: int) -> Iterator[tuple[int, bytes | bytearray]]:
    """Everything ``fd`` gives until its end, in windows of ``overlap`` + ``size`` bytes (the
    last one shorter), each with the offset of its first byte in the stream. A window starts
    with the last ``overlap`` bytes of the one before, so that nothing up to ``overlap`` + 1
    bytes long is cut across two. A full window is the buffer itself, overwritten by the next
    one: it must be used before the next is asked for."""
    buffer = bytearray(overlap + size)
    view = memoryview(buffer)
    start = filled = carried = total = 0  # start: the stream offset of buffer[0]
    capacity = pipe_size(fd)
    short = min(capacity, len(buffer)) // 4 if capacity >= _WIDE else 0  # 0: never pause
    with view:
        while got := os.readv(fd, [view[filled:]]):
            filled += got
            total += got
            if filled == len(buffer):
                yield start, buffer
                carried = min(overlap, filled)
                view[:carried] = view[filled - carried : filled]
                start, filled = start + filled - carried, carried
            elif got < short and total > _NAP_AFTER:
                time.sleep(_NAP)
        if filled > carried:
            yield start, bytes(view[:filled])


def pipe_size(fd: int) -> int:
    """How many bytes the pipe ``fd`` holds (Linux); 0 where that cannot be told."""
    try:
        import fcntl  # noqa: PLC0415 - POSIX only

        return int(fcntl.fcntl(fd, getattr(fcntl, "F_GETPIPE_SZ", 1032)))
    except (ImportError, OSError):
        return 0
