"""Screening blobs where they are read, so that only those the detector could find something in
travel on to the engine: a keyword, UTF-16 text or a container. The rest are counted (models.
Passed) and dropped; the engine would have found nothing in them either.
"""

from __future__ import annotations

from sgai_guard.detection.detect import Detector
from sgai_guard.detection.magic import last_bytes, magic, zip_end
from sgai_guard.models import Blob, Passed
from sgai_guard.sources import objectstream


class Screen:
    def __init__(self, detector: Detector | None = None) -> None:
        self.detector = detector or Detector()
        self._container = False  # the large blob now read in pieces is a container
        self._tail = b""  # else its last bytes so far: it may end as a zip does

    def warm(self) -> None:
        """Ready the keyword searches for bulk work before the readers fork (see
        Prefilter.warm): compiled once, shared by every reader."""
        self.detector.prefilter.warm()
        objectstream.warm()

    def drops(self, data: bytes) -> bool:
        """True when a whole blob of ``data`` needs no scan (``keep`` would say False)."""
        return magic(data) is None and not self.detector.could_find(data)

    def keep(self, blob: Blob) -> bool:
        """True when ``blob`` must be scanned. A container read in pieces is kept whole:
        the engine puts its pieces back together to open it."""
        part = blob.part
        if part is not None:
            if part.first:
                self._container, self._tail = magic(blob.data) is not None, b""
            if not self._container:
                self._tail = last_bytes(self._tail, blob.data[: part.end])
            if self._container or (part.last and zip_end(self._tail)):
                return True  # (a zip behind a large program: the engine says it was not read)
        elif magic(blob.data) is not None:
            return True
        return blob.message or self.detector.could_find(blob.data)


def passed(blob: Blob) -> Passed:
    """What the engine would have counted for a blob it scans (see engine.scan)."""
    part = blob.part
    if part is None:
        return Passed(1, len(blob.data))
    return Passed(1 if part.first else 0, part.end)
