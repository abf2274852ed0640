"""Reading the object store on every core. The runs of the audit's plan (sources.listing) are
read by forked workers, which screen what they read (sources.screen) and send on only what
could hold a key, plus counts of the rest. With one reader, or where there is no fork, the
runs are read here, unscreened.

Workers share nothing but the list of runs: each takes the next run's number from one pipe
as it finishes the one before (a read of 4 bytes from a pipe is never split or shared, and
every number was written before the first worker started), so no worker idles while another
still has a long run ahead. Each sends length-prefixed pickles of the items it built down a
pipe of its own. Whatever happens to a worker, the audit goes on and says what was not read:
a run it took and did not finish is never taken by another, and its end is said.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import selectors
import signal
import struct
from collections.abc import Callable, Iterator, Sequence
from typing import IO

from sgai_guard.models import Blob, Passed, Skipped
from sgai_guard.sources.packread import Store
from sgai_guard.sources.runread import Work, read_runs
from sgai_guard.sources.screen import Screen, passed

Item = Blob | Skipped | Passed
_LENGTH = struct.Struct("<I")
_NUMBER = struct.Struct("<I")  # a run's number, in the pipe the workers take runs from
# numbers a pipe surely holds: 4 KiB, what Linux gives a user over their pipe quota (a run's
# number is written before any worker starts: a pipe too small means reading here, alone)
_MAX_RUNS = 1024
_REPORT_EVERY = 8 << 20  # bytes screened between two progress counts
_END = "end"
_READ_SIZE = 1 << 20


def default_readers() -> int:
    """One reader per core this process may run on."""
    affinity = getattr(os, "sched_getaffinity", None)
    return max(1, len(affinity(0)) if affinity else os.cpu_count() or 1)


def read(
    repo: str,
    runs: Sequence[bytes],
    max_size: int | None,
    started: Callable[[], None],
    store: Store | None = None,
    offsets: Sequence[Sequence[int]] | None = None,
    workers: int = 0,
) -> Iterator[Item]:
    """Every object of every run; order within a run is kept, runs interleave. ``started``
    is called once the reader processes exist: a thread started before a fork would be
    copied into a worker in whatever state it was in. With a ``store``, objects are inflated
    in the readers' own processes (sources.runread); ``offsets``: each run's objects' places
    in the store's only pack, when the listing told them (listing.Hints). ``workers``: how
    many processes read (0: one per run); each takes runs in turn until none is left."""
    places = list(offsets) if offsets is not None else [None] * len(runs)
    count = min(workers or len(runs), len(runs))
    taken = _numbered(len(runs)) if count > 1 and hasattr(os, "fork") else None
    if taken is None:
        started()
        items = read_runs(repo, zip(runs, places, strict=True), max_size, store)
        yield from (item for item in items if not isinstance(item, int))  # nothing screened
        return
    screen = Screen()  # built once, before the fork: each worker inherits it
    screen.warm()
    work, forked = (runs, places), list[_Worker]()
    try:  # a worker started before a failed fork or a Ctrl-C is stopped too (a review)
        try:
            for _ in range(count):
                forked.append(_Worker.start(repo, work, taken, max_size, screen, store))
        finally:
            os.close(taken)
        started()
        yield from _gather(forked)
    finally:
        for worker in forked:
            worker.stop()


def _numbered(runs: int) -> int | None:
    """A pipe holding the number of every run, for workers to take in turn; None where it
    cannot hold them all (they are written before any worker starts: nothing waits)."""
    if runs > _MAX_RUNS:
        return None
    taken, numbers = os.pipe()
    try:
        os.set_blocking(numbers, False)
        numbered = b"".join(map(_NUMBER.pack, range(runs)))
        if os.write(numbers, numbered) == len(numbered):
            return taken
    except BlockingIOError:
        pass
    finally:
        os.close(numbers)
    os.close(taken)
    return None


def _gather(workers: list[_Worker]) -> Iterator[Item]:
    with selectors.DefaultSelector() as selector:
        for each in workers:
            selector.register(each.fd, selectors.EVENT_READ, each)
        while selector.get_map():
            for key, _ in selector.select():
                worker: _Worker = key.data
                items = worker.receive()
                while items is not None:
                    yield from items
                    if not worker.mid_blob:
                        break
                    # The rest of a blob read in pieces comes before anything from another
                    # worker: the engine puts a container's pieces back together in order.
                    items = worker.receive()
                if items is None:
                    selector.unregister(worker.fd)
                    yield from worker.ended()


class _Worker:
    def __init__(self, pid: int, fd: int) -> None:
        self.pid, self.fd = pid, fd
        self.buffer = bytearray()
        self.done = False
        self.mid_blob = False  # the last blob it sent is a piece, and not the last one
        self.status: int | None = None

    @classmethod
    def start(
        cls,
        repo: str,
        work: tuple[Sequence[bytes], Sequence[Sequence[int] | None]],
        taken: int,
        max_size: int | None,
        screen: Screen,
        store: Store | None,
    ) -> _Worker:
        """A worker reading the runs of ``work`` whose numbers it takes from ``taken``."""
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # the worker: never returns into the caller's stack
            os.close(read_end)
            _worker_main(repo, _taking(taken, *work), max_size, screen, store, write_end)
        os.close(write_end)
        return cls(pid, read_end)

    def receive(self) -> list[Item] | None:
        """The items whose frames are complete; None at the end of the pipe."""
        chunk = os.read(self.fd, 1 << 20)
        if not chunk:
            return None
        self.buffer += chunk
        items = []
        while len(self.buffer) >= _LENGTH.size:
            (size,) = _LENGTH.unpack_from(self.buffer)
            if len(self.buffer) < _LENGTH.size + size:
                break
            item = pickle.loads(self.buffer[_LENGTH.size : _LENGTH.size + size])  # noqa: S301 - our own fork wrote it
            del self.buffer[: _LENGTH.size + size]
            if item == _END:
                self.done = True
            else:
                items.append(item)
                self._follow(item)
        return items

    def _follow(self, item: Item) -> None:
        if isinstance(item, Blob):
            self.mid_blob = item.part is not None and not item.part.last
        elif isinstance(item, Skipped):
            self.mid_blob = False

    def ended(self) -> Iterator[Skipped]:
        os.close(self.fd)
        self.fd = -1
        _, status = os.waitpid(self.pid, 0)
        self.status = status
        if not self.done:
            code = os.waitstatus_to_exitcode(status)
            reason = f"a reader process stopped before its end (exit status {code})"
            yield Skipped("(object store)", reason, error=True)

    def stop(self) -> None:
        """Collect the worker; kill it first if the audit ends before it does."""
        if self.status is not None:
            return
        if self.fd != -1:
            os.close(self.fd)
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)
        os.waitpid(self.pid, 0)
        self.status = 0


def _taking(taken: int, runs: Sequence[bytes], places: Sequence[Sequence[int] | None]) -> Work:
    """The runs whose numbers this worker takes from the pipe ``taken``, one at a time, until
    the pipe is empty."""
    while len(number := os.read(taken, _NUMBER.size)) == _NUMBER.size:
        (index,) = _NUMBER.unpack(number)
        yield runs[index], places[index]


def _worker_main(
    repo: str,
    work: Work,
    max_size: int | None,
    screen: Screen,
    store: Store | None,
    fd: int,
) -> None:
    status = 1
    try:
        if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
            signal.signal(signal.SIGINT, signal.SIG_DFL)  # the audit's own process says ^C
        with os.fdopen(fd, "wb", buffering=1 << 16) as sink:
            try:
                items = read_runs(repo, work, max_size, store, screen.drops, forked=True)
                _screen_run(items, screen, sink)
            except Exception as exc:  # said, as one more thing not read, by the audit itself
                _send(sink, Skipped("(object store)", f"a reader failed: {exc!r}", error=True))
            _send(sink, _END)
        status = 0
    finally:
        os._exit(status)


def _screen_run(items: Iterator[Blob | Skipped | int], screen: Screen, sink: IO[bytes]) -> None:
    files = size = 0
    for item in items:
        if isinstance(item, int):  # a whole blob the reader screened out (runread)
            files, size = files + 1, size + item
        elif isinstance(item, Blob) and not screen.keep(item):
            counted = passed(item)
            files, size = files + counted.files, size + counted.bytes
        else:
            _send(sink, item)
            continue
        if size >= _REPORT_EVERY:
            _send(sink, Passed(files, size))
            sink.flush()  # for the progress line
            files = size = 0
    if files or size:
        _send(sink, Passed(files, size))


def _send(sink: IO[bytes], item: object) -> None:
    frame = pickle.dumps(item, protocol=pickle.HIGHEST_PROTOCOL)
    sink.write(_LENGTH.pack(len(frame)))
    sink.write(frame)
