"""Reading a user-supplied text file (profile, manifest): bounded in size, UTF-8, one clear error."""

from __future__ import annotations

from pathlib import Path


def read_user_text(path: Path, what: str, limit: int, error: type[Exception], encoding: str = "utf-8") -> str:
    """The file's text, or ``error`` naming the file: too large (over ``limit`` bytes), unreadable
    or not UTF-8. ``what`` names the file's role in the messages ("profile", "the manifest")."""
    try:
        if path.stat().st_size > limit:
            raise error(f"{path}: {what} is larger than {limit // (1 << 20)} MiB")
        return path.read_text(encoding=encoding)
    except OSError as err:
        raise error(f"{path}: cannot read {what} ({err.strerror})") from None
    except UnicodeDecodeError:
        raise error(f"{path}: {what} is not UTF-8 text") from None
