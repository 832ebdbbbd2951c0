"""Files written whole or not at all (temp file + rename), and pretty JSON fast."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from pydantic_core import to_json


@contextmanager
def atomic_writer(path: str | os.PathLike[str]) -> Iterator[IO[str]]:
    """A text file handle on a temp file beside ``path``, renamed over it only if the block completes,
    so no half file is ever seen (and an existing file survives a failure)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            yield fh
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text_atomic(path: str | os.PathLike[str], text: str) -> None:
    """Write text to a temp file beside the target and rename it over, so no half file is ever seen."""
    with atomic_writer(path) as fh:
        fh.write(text)


def dumps_pretty(document: Any) -> str:
    """``json.dumps(document, indent=2, ensure_ascii=False)``, byte for byte, about ten times faster
    (pydantic-core's serializer; the json module falls back to pure Python when indenting)."""
    return to_json(document, indent=2).decode("utf-8")


def write_json_atomic(path: str | os.PathLike[str], document: Any) -> None:
    write_text_atomic(path, dumps_pretty(document) + "\n")
