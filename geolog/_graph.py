"""Routing graph: the CSR view of one weight column, plus the maps routing needs.

Private to :mod:`geolog.routing`. A :class:`RoutingGraph` is built once per
(network object, weight) in one vectorised pass and cached; it holds

- the canonical CSR arrays over node positions (min weight over parallel edges,
  the same matrix as ``net.csr(weight)``) and, per CSR entry, the edge row that
  realises that minimum, so a node path maps back to edge rows;
- per edge row: the positions of ``u`` and ``v``, the weight (``inf`` where the
  edge is unusable: weight or ``cost`` not finite, or negative), length,
  travel time, and the row of the opposite direction of the same road
  (``twin``, ``-1`` for one-way roads);
- (in ``_extra``, built on first use by :mod:`geolog.routing`) the strongly
  connected pieces of the usable edges and the snapping index over the
  routable ones (:mod:`geolog._snap`).

Edges whose ``cost`` column is ``inf`` (forbidden by the profile or a rule) are
unusable whatever the weight column, so a route by ``length_m`` or
``travel_time_s`` still obeys the rules.
"""

from __future__ import annotations

import logging
import threading
import weakref
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.sparse import csr_array

from . import _cache
from .errors import InputError

__all__ = ["RoutingGraph", "graph_for"]

logger = logging.getLogger(__name__)

_CACHE: dict[tuple[int, str], tuple[weakref.ref, RoutingGraph]] = {}
_LOCK = threading.Lock()


def _clear() -> None:
    with _LOCK:
        _CACHE.clear()


_cache.register("routing graphs", _clear, _CACHE.__len__)


@dataclass
class RoutingGraph:
    """CSR view of one weight column with the maps back to edge rows."""

    weight: str
    n: int
    node_ids: np.ndarray  # OSM node id per position
    # canonical CSR over node positions
    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray
    keys: np.ndarray  # u_pos * n + v_pos per CSR entry, sorted
    entry_row: np.ndarray  # edge row position realising each CSR entry
    # per edge row (positional, aligned with net.edges)
    upos: np.ndarray
    vpos: np.ndarray
    w: np.ndarray  # effective weight, inf where unusable
    length: np.ndarray  # metres
    time: np.ndarray  # seconds (NaN when the network has no travel_time_s)
    twin: np.ndarray  # row of the opposite direction, -1 if none
    usable: np.ndarray  # bool
    edge_labels: pd.Index
    node_lon: np.ndarray
    node_lat: np.ndarray
    _extra: dict[str, Any] = field(default_factory=dict, repr=False)

    def __getstate__(self) -> dict[str, Any]:
        """Pickled (a Dask worker process) without the weak reference to the network:
        the copy carries what was built from it (the turn graph), and builds no more."""
        state = self.__dict__.copy()
        state["_extra"] = {k: v for k, v in self._extra.items() if k != "net"}
        return state

    @property
    def csr(self) -> csr_array:
        """The n x n CSR matrix (cached)."""
        if "csr" not in self._extra:
            self._extra["csr"] = csr_array(
                (self.data, self.indices, self.indptr), shape=(self.n, self.n)
            )
        return self._extra["csr"]

    def rows_for_pairs(self, p: np.ndarray, q: np.ndarray) -> np.ndarray:
        """Edge rows realising the CSR entries (p -> q); -1 where there is none."""
        key = np.asarray(p, dtype=np.int64) * self.n + np.asarray(q, dtype=np.int64)
        i = np.searchsorted(self.keys, key)
        i = np.minimum(i, len(self.keys) - 1)
        ok = (len(self.keys) > 0) & (self.keys[i] == key)
        return np.where(ok, self.entry_row[i], -1)

    def entries_for_pairs(self, p: np.ndarray, q: np.ndarray) -> np.ndarray:
        """CSR entry indices of (p -> q); -1 where there is none."""
        key = np.asarray(p, dtype=np.int64) * self.n + np.asarray(q, dtype=np.int64)
        i = np.searchsorted(self.keys, key)
        i = np.minimum(i, len(self.keys) - 1)
        ok = (len(self.keys) > 0) & (self.keys[i] == key)
        return np.where(ok, i, -1)

    def with_sources(
        self,
        src_nodes: list[np.ndarray],
        src_costs: list[np.ndarray],
        data: np.ndarray | None = None,
    ) -> csr_array:
        """CSR of shape (n+m, n+m) with m virtual source nodes appended.

        Virtual node ``n + i`` has edges to ``src_nodes[i]`` with ``src_costs[i]``;
        nothing leads into it, so it is never an intermediate node.
        """
        m = len(src_nodes)
        counts = np.array([len(s) for s in src_nodes], dtype=np.int64)
        base = self.data if data is None else data
        nnz = len(self.indices)
        indptr = np.concatenate([self.indptr, nnz + np.cumsum(counts)]).astype(np.int32)
        indices = np.concatenate(
            [self.indices, *[np.asarray(s, dtype=np.int32) for s in src_nodes]]
        ).astype(np.int32)
        values = np.concatenate([base, *[np.asarray(c, dtype=float) for c in src_costs]])
        return csr_array((values, indices, indptr), shape=(self.n + m, self.n + m))


def _build(net: Any, weight: str) -> RoutingGraph:
    nodes, edges = net.nodes, net.edges
    if weight not in edges.columns:
        raise InputError(
            f"the network has no edge column {weight!r} to route on; "
            f"apply a profile first (net.apply(...)) or choose one of "
            f"{', '.join(c for c in edges.columns if c not in ('geometry',))}"
        )
    n = len(nodes)
    node_index = pd.Index(nodes.index)
    upos = node_index.get_indexer(edges["u"].to_numpy())
    vpos = node_index.get_indexer(edges["v"].to_numpy())
    if (upos < 0).any() or (vpos < 0).any():
        raise InputError("the network has edges whose u or v is not in its nodes table")
    w = pd.to_numeric(edges[weight], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    usable = np.isfinite(w) & (w >= 0)
    if "cost" in edges.columns and weight != "cost":
        c = pd.to_numeric(edges["cost"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        usable &= np.isfinite(c) & (c >= 0)
    w = np.where(usable, w, np.inf)
    length = edges["length_m"].to_numpy(dtype=float)
    if "travel_time_s" in edges.columns:
        time = pd.to_numeric(edges["travel_time_s"], errors="coerce").to_numpy(
            dtype=float, na_value=np.nan
        )
    else:
        time = np.full(len(edges), np.nan)

    # the network's CSR view of the effective weight: min weight (then shortest)
    # usable row per (u, v) pair, and the edge row behind every entry
    mat = net.csr(w)
    rows = net.csr_edges(w)
    key = upos[rows].astype(np.int64) * n + vpos[rows]
    twin = net.twin_positions()

    return RoutingGraph(
        weight=weight,
        n=n,
        node_ids=node_index.to_numpy(),
        indptr=mat.indptr,
        indices=mat.indices,
        data=mat.data,
        keys=key,
        entry_row=rows,
        upos=upos.astype(np.int64),
        vpos=vpos.astype(np.int64),
        w=w,
        length=length,
        time=time,
        twin=twin,
        usable=usable,
        edge_labels=edges.index,
        node_lon=nodes["x"].to_numpy(dtype=float),
        node_lat=nodes["y"].to_numpy(dtype=float),
        _extra={"net": weakref.ref(net)},  # for the turn graph (geolog._turns)
    )


def graph_for(net: Any, weight: str) -> RoutingGraph:
    """Return the cached :class:`RoutingGraph` of ``net`` for ``weight``.

    The cache is keyed by the network object (networks are immutable by
    convention: ``replace`` returns a new one) and dropped when it is collected.
    """
    key = (id(net), weight)
    with _LOCK:
        hit = _CACHE.get(key)
        if hit is not None and hit[0]() is net:
            return hit[1]
    g = _build(net, weight)
    with _LOCK:
        try:
            ref = weakref.ref(net, lambda _r, k=key, c=_CACHE: c.pop(k, None))  # c: at exit too
        except TypeError:  # not weak-referenceable: do not cache
            return g
        _CACHE[key] = (ref, g)
    logger.debug("built routing graph for %r: %d nodes, %d entries", weight, g.n, len(g.keys))
    return g
