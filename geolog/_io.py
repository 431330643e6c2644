"""Atomic file writes: a temporary file beside the target, renamed over it when complete.

Every file geolog writes (networks, rasters, briefings, plans, converted OSM
files) goes through :func:`atomic_path`, so a failure half-way never leaves a
half file over a good one.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import InputError

__all__ = ["atomic_path", "atomic_write_text"]


@contextmanager
def atomic_path(
    path: str | os.PathLike, *, suffix: str = ".tmp", mkdir: bool = True
) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; it replaces ``path`` only if the block succeeds.

    Parameters
    ----------
    path
        The file to write.
    suffix
        End of the temporary name (some writers pick the format from it, e.g.
        ``".osm.pbf"``).
    mkdir
        Create the parent folder if missing; with ``False`` a missing folder is
        an :class:`~geolog.errors.InputError`.
    """
    path = Path(path)
    if path.is_dir():
        raise InputError(f"{path} is a folder; give a file name")
    if mkdir:
        path.parent.mkdir(parents=True, exist_ok=True)
    elif not path.parent.exists():
        raise InputError(f"cannot write {path}: folder {path.parent} does not exist")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; outputs are meant to be shared
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: str | os.PathLike, text: str, *, mkdir: bool = True) -> Path:
    """Write ``text`` as UTF-8 to ``path`` atomically; returns the path."""
    with atomic_path(path, mkdir=mkdir) as tmp:
        with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
    return Path(path)
