"""Planted programs: each records that it ran, so a test can prove that nothing ran it."""

from __future__ import annotations

import shlex
from pathlib import Path


class Traps:
    """Executables under ``root/traps`` that each touch ``root/markers/<name>`` when run."""

    def __init__(self, root: Path) -> None:
        self.bin = root / "traps"
        self.markers = root / "markers"
        self.bin.mkdir(parents=True, exist_ok=True)
        self.markers.mkdir(parents=True, exist_ok=True)

    def make(self, name: str, folder: Path | None = None) -> str:
        script = (folder or self.bin) / name
        marker = shlex.quote(str(self.markers / name))
        script.write_text(f"#!/bin/sh\ntouch {marker}\ncat >/dev/null 2>&1 </dev/null\n")
        script.chmod(0o755)
        return str(script)

    def fired(self) -> list[str]:
        return sorted(p.name for p in self.markers.iterdir())

    def reset(self) -> None:
        for marker in self.markers.iterdir():
            marker.unlink()
