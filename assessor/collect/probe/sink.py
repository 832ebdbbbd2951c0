"""``--keep-records FILE``: raw audit records as JSON Lines, streamed page by page.

Lines go to a temporary file beside the target, renamed over it only when the probe finished:
a failed or timed-out probe leaves no partial file that could pass for the whole window.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import IO

from assessor.jsontypes import WireObject


class RecordSink:
    """Writes records as JSON Lines when a path is given; a no-op otherwise."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.lines = 0
        self._tmp: Path | None = None
        self._fh: IO[str] | None = None

    def __enter__(self) -> RecordSink:
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent)
            self._tmp = Path(tmp)
            self._fh = os.fdopen(fd, "w", encoding="utf-8")
        return self

    def write_page(self, records: Iterable[WireObject]) -> None:
        if self._fh is None:
            return
        lines = [json.dumps(r, separators=(",", ":"), ensure_ascii=False) for r in records]
        if lines:
            self._fh.write("\n".join(lines) + "\n")
            self.lines += len(lines)

    def commit(self) -> None:
        """Close and move the file into place (call once the probe succeeded)."""
        if self._fh is None or self._tmp is None or self.path is None:
            return
        self._fh.close()
        self._fh = None
        os.replace(self._tmp, self.path)
        self._tmp = None

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None
        if self._tmp is not None:
            self._tmp.unlink(missing_ok=True)
            self._tmp = None
