"""The one registry of geolog's caches, and :func:`clear_cache` that empties them all.

geolog caches what is costly to rebuild and cannot change: a network's views
(CSR matrices, spatial index, twins — on the :class:`~geolog.Network`
itself), the routing graph of each costed network, whole costed networks
(:func:`geolog.rules.apply`), area masks of rule sets, opened DEMs and the
bundled profiles. Each cache registers here under a name, with the function
that empties it and, where it can say, its size; :func:`clear_cache` calls
them all. Call it to free memory, or after editing a file a cache read (a
bundled profile, a DEM tile rewritten in place).

New caches use :class:`LRU` (a bounded, registered mapping), :func:`register`
(any cache with a clear function), :func:`register_function` (a
``functools`` cache) or
:func:`track` (objects carrying a ``_cache`` dict).
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

__all__ = [
    "LRU",
    "clear_cache",
    "register",
    "register_function",
    "registered",
    "sizes",
    "track",
]

_CLEARERS: dict[str, tuple[Callable[[], None], Callable[[], int] | None]] = {}

#: geolog's own caches; each registers when its module is first imported
#: (until then it is empty, and clearing it by name does nothing).
KNOWN = (
    "network views",
    "routing graphs",
    "costed networks",
    "rule area masks",
    "rule dicts",
    "bundled profiles",
    "bundled profile files",
    "opened DEMs",
    "mobility thresholds",
    "base maps",
    "source checksums",
    "land-cover tables",
    "land-cover reads",
    "off-road surfaces",
)
_TRACKED: weakref.WeakSet = weakref.WeakSet()


def register(name: str, clear: Callable[[], None], size: Callable[[], int] | None = None) -> None:
    """Register a cache under ``name``: ``clear()`` empties it, ``size()`` counts entries.

    Registering the same name again replaces the entry (a module reloaded).
    """
    _CLEARERS[name] = (clear, size)


def register_function(name: str, fn: Any) -> Any:
    """Register a ``functools.cache`` / ``lru_cache`` function under ``name``; return it."""
    register(name, fn.cache_clear, lambda: fn.cache_info().currsize)
    return fn


class LRU:
    """A bounded least-recently-used mapping, registered under ``name``.

    Parameters
    ----------
    name
        The name :func:`registered` and :func:`sizes` report.
    maxsize
        Entries kept; the least recently used is dropped beyond it.
    """

    def __init__(self, name: str, maxsize: int) -> None:
        self.maxsize = int(maxsize)
        self._data: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()
        register(name, self.clear, self.__len__)

    def get(self, key: Hashable) -> Any:
        """The value stored under ``key`` (now the most recent), or ``None``."""
        with self._lock:
            if key not in self._data:
                return None
            self._data.move_to_end(key)
            return self._data[key]

    def put(self, key: Hashable, value: Any) -> Any:
        """Store ``value`` under ``key``, dropping the oldest beyond ``maxsize``; return it."""
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.maxsize:
                self._data.popitem(last=False)
        return value

    def clear(self) -> None:
        """Forget every entry."""
        with self._lock:
            self._data.clear()

    def __len__(self) -> int:
        return len(self._data)


def track(obj: Any) -> None:
    """Have :func:`clear_cache` empty ``obj._cache`` (a dict) while ``obj`` is alive."""
    _TRACKED.add(obj)


def _clear_tracked() -> None:
    for obj in list(_TRACKED):
        obj._cache.clear()


def _tracked_size() -> int:
    return sum(len(obj._cache) for obj in list(_TRACKED))


register("network views", _clear_tracked, _tracked_size)


def registered() -> list[str]:
    """Names of the registered caches (those whose modules are imported)."""
    return list(_CLEARERS)


def sizes() -> dict[str, int | None]:
    """Entries per registered cache (``None`` where a cache cannot count them)."""
    return {name: (size() if size else None) for name, (_, size) in _CLEARERS.items()}


def clear_cache(*names: str) -> None:
    """Empty every geolog cache: network views, routing graphs, costed networks, areas, DEMs.

    Results stay correct without calling it (cached objects never change);
    call it to free memory, or after changing a file in place that a cache
    read (a DEM tile, a bundled profile).

    Parameters
    ----------
    *names
        Empty only these caches (names as in ``geolog._cache.registered()``,
        e.g. ``"costed networks"``); none given: all of them.

    Raises
    ------
    InputError
        A name that is not a registered cache.

    Examples
    --------
    >>> import geolog
    >>> geolog.clear_cache()
    >>> geolog.clear_cache("costed networks", "rule area masks")
    """
    unknown = [n for n in names if n not in _CLEARERS and n not in KNOWN]
    if unknown:
        from .errors import InputError

        raise InputError(
            f"no cache named {unknown[0]!r}; the caches are: "
            + ", ".join(map(repr, dict.fromkeys([*KNOWN, *_CLEARERS])))
        )
    for name, (clear, _) in list(_CLEARERS.items()):
        if not names or name in names:
            clear()
