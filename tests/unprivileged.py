"""What root is never denied, made real for tests that run as root (as CI does): a child
process without the capabilities that override file permissions, so chmod means what it says.
No mocking: the scanner meets a real EACCES."""

from __future__ import annotations

import ctypes
import os
from collections.abc import Callable

import pytest

_PR_CAPBSET_DROP = 24
_CAP_DAC_OVERRIDE, _CAP_DAC_READ_SEARCH = 1, 2


def drop_privileges() -> Callable[[], None] | None:
    """A preexec_fn that removes permission overrides from the child when running as root;
    None for an ordinary user, who is already denied what chmod denies."""
    if os.geteuid() != 0:
        return None

    def drop() -> None:
        libc = ctypes.CDLL(None, use_errno=True)
        for cap in (_CAP_DAC_OVERRIDE, _CAP_DAC_READ_SEARCH):
            if libc.prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
                raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")

    return drop


needs_root = pytest.mark.skipif(
    os.geteuid() != 0, reason="giving a checkout to another user needs root"
)
