"""Parsing git's `--raw -z` diff output (diff-index, diff-tree, diff-tree --stdin)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import NamedTuple

from sgai_guard.models import ZERO_OIDS

GITLINK = "160000"  # a submodule: its "blob" is a commit in another repository


class RawEntry(NamedTuple):
    commit: str | None
    old_mode: str
    new_mode: str
    old_oid: str
    new_oid: str
    status: str
    path: str

    @property
    def has_new(self) -> bool:
        return self.new_oid not in ZERO_OIDS and self.new_mode != GITLINK

    @property
    def has_old(self) -> bool:
        return self.old_oid not in ZERO_OIDS and self.old_mode != GITLINK


def parse_raw(output: bytes) -> Iterator[RawEntry]:
    """Entries of a `--raw -z --no-renames` stream; bare tokens name the commit that follows."""
    tokens = output.split(b"\0")
    commit: str | None = None
    index = 0
    while index < len(tokens):
        token = tokens[index]
        if token.startswith(b":") and index + 1 < len(tokens):
            old_mode, new_mode, old_oid, new_oid, status = token[1:].decode().split(" ")[:5]
            path = os.fsdecode(tokens[index + 1])
            yield RawEntry(commit, old_mode, new_mode, old_oid, new_oid, status[:1], path)
            index += 2
            continue
        if token:
            commit = token.decode().split(" ")[0]
        index += 1
