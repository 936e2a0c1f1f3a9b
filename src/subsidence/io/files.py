"""Writing files so that a reader never sees half of one: the one atomic-write helper.

Every product file (GeoTIFF, GeoJSON, CSV, a document, a stored photo) is written to a temporary file in the
target's own folder and moved over the target with :func:`os.replace`, which is atomic on one file system. A write
that fails removes its temporary file and leaves the previous file (or none) in place.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO


@contextlib.contextmanager
def atomic_path(path: str | Path, *, suffix: str = ".part") -> Iterator[Path]:
    """A temporary path beside ``path`` to write to; it replaces ``path`` when the block succeeds."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=suffix, dir=target.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: str | Path, write: Callable[[IO[str]], None], *, encoding: str = "utf-8") -> Path:
    """Write text through ``write(fh)`` atomically (newline translation off, as CSV writers expect)."""
    with atomic_path(path) as tmp, open(tmp, "w", encoding=encoding, newline="") as fh:
        write(fh)
    return Path(path)


def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    """Write ``data`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)
