"""Reading the object store on every core. Each run of the audit's plan (sources.listing) is
read by its own `git cat-file --batch` in a forked worker, which screens what it reads
(sources.screen) and sends on only what could hold a key, plus counts of the rest. With one
run, or where there is no fork, the run is read here, unscreened.

Workers share nothing: each gets its run, and sends length-prefixed pickles of the items it
built down a pipe of its own. Whatever happens to a worker, the audit goes on and says what
was not read.
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
from sgai_guard.sources.runread import read_run
from sgai_guard.sources.screen import Screen, passed

Item = Blob | Skipped | Passed
_LENGTH = struct.Struct("<I")
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
) -> Iterator[Item]:
    """Every object of every run; order within a run is kept, runs interleave. ``started``
    is called once the reader processes exist: a thread started before a fork would be
    copied into a worker in whatever state it was in. With a ``store``, objects are inflated
    in the readers' own processes (sources.runread); ``offsets``: each run's objects' places
    in the store's only pack, when the listing told them (listing.Hints)."""
    places = list(offsets) if offsets is not None else [None] * len(runs)
    if len(runs) < 2 or not hasattr(os, "fork"):
        started()
        for run, place in zip(runs, places, strict=True):  # nothing is screened out here
            items = read_run(repo, run, max_size, store, offsets=place)
            yield from (item for item in items if not isinstance(item, int))
        return
    screen = Screen()  # built once, before the fork: each worker inherits it
    screen.warm()
    workers = [
        _Worker.start(repo, run, max_size, screen, store, place)
        for run, place in zip(runs, places, strict=True)
    ]
    started()
    try:
        yield from _gather(workers)
    finally:
        for worker in workers:
            worker.stop()


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
        run: bytes,
        max_size: int | None,
        screen: Screen,
        store: Store | None,
        offsets: Sequence[int] | None = None,
    ) -> _Worker:
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # the worker: never returns into the caller's stack
            os.close(read_end)
            _worker_main(repo, (run, offsets), max_size, screen, store, write_end)
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


def _worker_main(
    repo: str,
    work: tuple[bytes, Sequence[int] | None],
    max_size: int | None,
    screen: Screen,
    store: Store | None,
    fd: int,
) -> None:
    run, offsets = work
    status = 1
    try:
        if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
            signal.signal(signal.SIGINT, signal.SIG_DFL)  # the audit's own process says ^C
        with os.fdopen(fd, "wb", buffering=1 << 16) as sink:
            try:
                items = read_run(
                    repo, run, max_size, store, screen.drops, forked=True, offsets=offsets
                )
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
