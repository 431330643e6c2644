"""Atomic file writes: a temporary file beside the target, renamed over it when complete.

Every file geolog writes (networks, rasters, briefings, plans, converted OSM
files) goes through :func:`atomic_path`, so a failure half-way never leaves a
half file over a good one. The temporary file is named
``.<name>.geolog-<pid>-<random><suffix>``; a write killed before it could clean
up (``SIGKILL``, power loss) leaves one behind, and the next write of the same
file removes it once its process is gone.
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .errors import InputError

__all__ = [
    "atomic_path",
    "atomic_write_text",
    "check_writable",
    "read_osm_cached",
    "sha256_file",
]

_TMP_TAG = ".geolog-"


def check_writable(path: str | os.PathLike, *, mkdir: bool = False) -> Path:
    """Check, before any work, that ``path`` can be written; returns it as a :class:`Path`.

    Parameters
    ----------
    path
        The file to write (it may exist: it is replaced).
    mkdir
        Accept a missing parent folder if it can be created.

    Raises
    ------
    InputError
        ``path`` is a folder, or its folder is missing (with ``mkdir=False``),
        not a folder, or not writable.
    """
    path = Path(path)
    if path.is_dir():
        raise InputError(f"cannot write {path}: it is a folder; give a file name")
    folder = path.parent
    if not folder.exists():
        if mkdir:
            existing = next((p for p in folder.parents if p.exists()), Path("."))
            if os.access(existing, os.W_OK | os.X_OK):
                return path
        raise InputError(f"cannot write {path}: folder {folder} does not exist; create it first")
    if not folder.is_dir():
        raise InputError(f"cannot write {path}: {folder} is not a folder")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise InputError(f"cannot write {path}: folder {folder} is not writable")
    return path


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except OSError:  # exists but belongs to someone else
        return True
    return True


def _remove_stale(path: Path) -> None:
    """Delete temporary files of earlier writes of ``path`` whose process has died."""
    pat = re.compile(re.escape(f".{path.name}{_TMP_TAG}") + r"(\d+)-")
    try:
        entries = list(path.parent.iterdir())
    except OSError:
        return
    for p in entries:
        m = pat.match(p.name)
        if m and int(m.group(1)) != os.getpid() and not _pid_alive(int(m.group(1))):
            p.unlink(missing_ok=True)


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

    Raises
    ------
    InputError
        The folder is missing (``mkdir=False``) or not writable, ``path`` is a
        folder, or the disk is full; ``path`` is left as it was.
    """
    path = check_writable(path, mkdir=mkdir)
    if mkdir:
        path.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale(path)
    try:
        fd, tmp = tempfile.mkstemp(
            prefix=f".{path.name}{_TMP_TAG}{os.getpid()}-", suffix=suffix, dir=path.parent
        )
    except OSError as err:
        raise InputError(f"cannot write {path}: {err.strerror}") from err
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; outputs are meant to be shared
        os.replace(tmp, path)
    except OSError as err:
        Path(tmp).unlink(missing_ok=True)
        if err.errno in (errno.ENOSPC, errno.EDQUOT, errno.EACCES, errno.EROFS, errno.EFBIG):
            raise InputError(
                f"cannot write {path}: {err.strerror}; {path.name} was left unchanged"
            ) from err
        raise
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: str | os.PathLike, text: str, *, mkdir: bool = True) -> Path:
    """Write ``text`` as UTF-8 to ``path`` atomically; returns the path."""
    with atomic_path(path, mkdir=mkdir) as tmp:
        with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
    return Path(path)


def file_format(path: str | os.PathLike, formats: Mapping[str, str], what: str) -> str:
    """The lower-case suffix of ``path`` if it is one of ``formats``, else an InputError.

    ``what`` names the thing being written (``"a route"``) in the message,
    which lists the suffixes that work.
    """
    suffix = Path(path).suffix.lower()
    if suffix not in formats:
        raise InputError(
            f"cannot write {what} as {Path(path).name!r}: use one of {', '.join(formats)}"
        )
    return suffix


def sha256_file(path: str | os.PathLike) -> str:
    """SHA-256 hex digest of a file, read in 1 MiB blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def read_osm_cached(
    path: str | os.PathLike, read: Callable[..., Any], *args: Any, what: str, hint: str = ""
) -> Any:
    """``read(resolved path, (mtime, size), *args)`` for an OSM file read on the side.

    The file's modification time and size go into the call so a cached
    ``read`` reads a changed file again. A missing file, or one pyosmium cannot
    read (``RuntimeError``), is an :class:`InputError` naming ``what`` the file
    was read for (``hint`` follows the "no such file" message).
    """
    p = Path(path)
    if not p.is_file():
        raise InputError(f"{p}: no such OSM file for {what}{hint}")
    st = p.stat()
    try:
        return read(str(p.resolve()), (st.st_mtime, st.st_size), *args)
    except RuntimeError as err:
        raise InputError(f"{p}: pyosmium cannot read it for {what} ({err})") from err
