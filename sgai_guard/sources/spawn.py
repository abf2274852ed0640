"""Running git without the subprocess module, for the commit hook's quick path only: the
subprocess import (with threading, signal and selectors) costs more than the rest of a clean
commit hook together. Same hardening as every other git process (sources.gitargs and
hardening): the same command line and environment, git from PATH's absolute folders, a process
group of its own, the same timeout. It runs in the current folder (where git runs a hook).
"""

from __future__ import annotations

import _signal  # type: ignore[import-not-found]  # no stub; see _IGNORED_BY_PYTHON
import os
import select
import time

from sgai_guard.sources import gitargs, hardening

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

_READ = 1 << 20
# Python ignores these; git gets them back at their defaults, as subprocess restores them.
# `_signal` (built in, loaded at start-up) rather than `signal`, which imports enum.
_IGNORED_BY_PYTHON = tuple(
    getattr(_signal, name) for name in ("SIGPIPE", "SIGXFZ", "SIGXFSZ") if hasattr(_signal, name)
)
_TOO_MUCH = b"(more than the limit)"


def git(
    args: Sequence[str],
    keep_env: Sequence[str],
    stdin: bytes = b"",
    extra_config: Sequence[str] = (),
    limit: int = 1 << 30,
) -> tuple[int, bytes]:
    """git's exit status and standard output (its standard error is read and dropped: the
    caller falls back to the full path, which says what went wrong). Past ``limit`` bytes of
    output, git is stopped and the status is -1. StalledError after the timeout; either way
    git and everything it started are killed."""
    argv = gitargs.git_argv(args, extra_config)
    env = hardening.git_env(keep=keep_env)
    pipes = _Pipes()
    try:
        actions: list[tuple[int, ...]]
        actions = [(os.POSIX_SPAWN_DUP2, fd, n) for n, fd in enumerate(pipes.theirs)]
        actions += [(os.POSIX_SPAWN_CLOSE, fd) for fd in _inheritable()]
        try:
            pid = os.posix_spawn(
                gitargs.executable(),
                argv,
                env,
                file_actions=actions,
                setsid=True,
                setsigdef=_IGNORED_BY_PYTHON,
            )
        finally:
            pipes.close_theirs()
        try:
            out = pipes.exchange(stdin, time.monotonic() + gitargs.timeout(), limit)
        except BaseException:
            _kill(pid)
            raise
        if out is _TOO_MUCH:
            _kill(pid)
            return -1, b""
        if out is None:
            _kill(pid)
            from sgai_guard.errors import StalledError  # noqa: PLC0415 - enum, only now

            raise StalledError(gitargs.stalled(args, os.curdir))
    finally:
        pipes.close_ours()
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]), out


def _inheritable() -> list[int]:
    """Descriptors above 2 that git would inherit (ones this process was started with): closed
    in git, as subprocess's close_fds does. Python's own are close-on-exec already."""
    try:
        fds = [int(name) for name in os.listdir("/proc/self/fd")]
    except OSError:  # no /proc: the few there could be are looked at one by one
        fds = list(range(3, 256))
    out = []
    for fd in fds:
        try:
            if fd > 2 and os.get_inheritable(fd):
                out.append(fd)
        except OSError:  # closed, or the listing's own descriptor
            continue
    return out


class _Pipes:
    """git's standard input, output and error: the ends git gets, and ours, each closed once."""

    def __init__(self) -> None:
        self.theirs: list[int] = []
        self.ours: list[int] = []  # stdin's write end, stdout's and stderr's read ends
        try:
            for n in range(3):
                read, write = os.pipe()
                self.theirs.append(read if n == 0 else write)
                self.ours.append(write if n == 0 else read)
        except OSError:
            self.close_theirs()
            self.close_ours()
            raise

    def close_theirs(self) -> None:
        for fd in self.theirs:
            os.close(fd)
        self.theirs = []

    def close_ours(self) -> None:
        for fd in self.ours:
            if fd >= 0:
                os.close(fd)
        self.ours = []

    def exchange(self, stdin: bytes, deadline: float, limit: int) -> bytes | None:
        """Writes ``stdin`` while reading both outputs to their end; None past the deadline,
        _TOO_MUCH past ``limit`` bytes of output."""
        in_w, out_r, err_r = self.ours
        pending = memoryview(stdin)
        poller = select.poll()
        poller.register(in_w, select.POLLOUT)
        poller.register(out_r, select.POLLIN)
        poller.register(err_r, select.POLLIN)
        os.set_blocking(in_w, False)
        chunks: list[bytes] = []
        size = 0
        while any(fd >= 0 for fd in self.ours):
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            for fd, _event in poller.poll(left * 1000):
                if fd == in_w:
                    pending = _feed(in_w, pending)
                    done = not pending
                else:
                    data = os.read(fd, _READ)
                    if fd == out_r:
                        chunks.append(data)
                        size += len(data)
                        if size > limit:
                            return _TOO_MUCH
                    done = not data
                if done:
                    poller.unregister(fd)
                    self.ours[self.ours.index(fd)] = -1
                    os.close(fd)
        return b"".join(chunks)


def _feed(fd: int, pending: memoryview) -> memoryview:
    """What is left to write after one write; nothing when git stopped reading."""
    if not pending:
        return pending
    try:
        return pending[os.write(fd, pending) :]
    except BrokenPipeError:
        return pending[:0]


def _kill(pid: int) -> None:
    import contextlib  # noqa: PLC0415 - only when git must be stopped
    import signal  # noqa: PLC0415

    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
