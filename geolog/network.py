"""The :class:`Network`: nodes and directed edges, and the views built on them.

The edges frame is the truth (one row per direction of travel); the CSR
matrices, the networkx graph and the spatial index are views of it, built on
demand and cached on the object. A ``Network`` is treated as immutable:
methods return new networks (see :meth:`Network.replace`), never change the
caller's frames.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import logging
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Geod

from ._cache import track as _track_cache
from ._geometry import lonlat_arrays as _points_lonlat
from ._io import atomic_path, sha256_file  # sha256_file: public here since 0.1
from .errors import InputError

__all__ = ["Network", "load", "sha256_file"]

logger = logging.getLogger(__name__)

_FORMAT = "geolog-network/1"
_META_KEY = b"geolog"
_NODES_KEY = b"geolog.nodes"


_GEOD = Geod(ellps="WGS84")


def geodesic_lengths(coords: np.ndarray, index: np.ndarray, n: int) -> np.ndarray:
    """Geodesic lengths (metres, WGS84) of ``n`` lines, vectorised over all of them.

    ``coords`` are the lines' lon/lat vertices one after the other and ``index``
    the line each vertex belongs to (as from ``shapely.get_coordinates(...,
    return_index=True)``).
    """
    _, _, d = _GEOD.inv(coords[:-1, 0], coords[:-1, 1], coords[1:, 0], coords[1:, 1])
    d = np.where(index[1:] == index[:-1], d, 0.0)
    return np.bincount(index[:-1], weights=d, minlength=n)


def nodes_frame(ids: np.ndarray, x: np.ndarray, y: np.ndarray) -> gpd.GeoDataFrame:
    """The nodes GeoDataFrame of a Network: index ``osmid``, ``x``/``y`` in degrees, points."""
    return gpd.GeoDataFrame(
        {"x": x, "y": y},
        index=pd.Index(ids, name="osmid"),
        geometry=shapely.points(x, y),
        crs="EPSG:4326",
    )


class Network:
    """A directed road network: ``nodes`` and ``edges`` GeoDataFrames in EPSG:4326.

    Parameters
    ----------
    nodes
        Indexed by OSM node id (``osmid``), with ``x`` (longitude), ``y``
        (latitude) and a Point ``geometry``; after terrain is added also
        ``elevation`` (metres).
    edges
        One row per direction of travel with ``u``, ``v`` (node ids), ``osmid``
        (way id), the OSM tags, ``length_m`` (geodesic metres) and a LineString
        ``geometry`` running from ``u`` to ``v``.
    meta
        Provenance: geolog version, source files and hashes, network type,
        build options, and what later steps (terrain, rules) recorded.

    Examples
    --------
    >>> import geolog
    >>> net = geolog.read_osm(geolog.data.path("andorra"))
    >>> net.summary()["edges"] > 0
    True
    """

    def __init__(
        self,
        nodes: gpd.GeoDataFrame,
        edges: gpd.GeoDataFrame,
        meta: dict | None = None,
    ) -> None:
        missing = {"u", "v", "length_m", "geometry"} - set(edges.columns)
        if missing:
            raise InputError(f"edges frame lacks required columns {sorted(missing)}")
        if not {"x", "y"} <= set(nodes.columns):
            raise InputError("nodes frame needs 'x' (longitude) and 'y' (latitude) columns")
        self.nodes = nodes
        self.edges = edges
        from . import __version__

        self.meta = {"geolog_version": __version__, **(meta or {})}
        self._cache: dict[Any, Any] = {}
        _track_cache(self)  # geolog.clear_cache() empties it

    # ------------------------------------------------------------------ basics

    def __repr__(self) -> str:
        kind = self.meta.get("network_type", "?")
        # km of road counts a two-way road once (as summary() and `geolog info` do)
        km = self.edges.loc[self._segment_mask(), "length_m"].sum() / 1000
        directed = self.edges["length_m"].sum() / 1000
        return (
            f"<geolog.Network {kind}: {len(self.nodes):,} nodes, {len(self.edges):,} edges, "
            f"{km:,.1f} km of road ({directed:,.1f} directed km)>"
        )

    def __len__(self) -> int:
        return len(self.edges)

    def replace(
        self,
        *,
        nodes: gpd.GeoDataFrame | None = None,
        edges: gpd.GeoDataFrame | None = None,
        meta: dict | None = None,
    ) -> Network:
        """Return a new Network with some parts replaced (caches start fresh)."""
        return Network(
            self.nodes if nodes is None else nodes,
            self.edges if edges is None else edges,
            dict(self.meta) if meta is None else meta,
        )

    @property
    def node_ids(self) -> np.ndarray:
        """OSM node ids in the order of :attr:`nodes` (the CSR row order)."""
        return self.nodes.index.to_numpy()

    def node_positions(self, ids: Iterable[int] | np.ndarray) -> np.ndarray:
        """Positions (0 … n-1, the CSR rows) of OSM node ids.

        Raises
        ------
        InputError
            If an id is not a node of this network.
        """
        ids = np.asarray(ids, dtype=np.int64)
        pos = self.nodes.index.get_indexer(ids)
        if (pos < 0).any():
            bad = ids[pos < 0][:5].tolist()
            raise InputError(f"node ids {bad} are not in this network")
        return pos.astype(np.int64)

    def _uv_positions(self) -> tuple[np.ndarray, np.ndarray]:
        if "uv" not in self._cache:
            idx = self.nodes.index
            u = idx.get_indexer(self.edges["u"].to_numpy())
            v = idx.get_indexer(self.edges["v"].to_numpy())
            if (u < 0).any() or (v < 0).any():
                raise InputError("some edges reference nodes missing from the nodes frame")
            self._cache["uv"] = (u.astype(np.int64), v.astype(np.int64))
        return self._cache["uv"]

    # ------------------------------------------------------------------ CSR view

    def csr(self, weight: str | np.ndarray = "length_m"):
        """Sparse adjacency matrix over node positions for one cost.

        Rows and columns follow the order of :attr:`nodes`. Parallel edges keep
        their minimum weight (the shorter edge on a tie); edges whose weight is
        NaN, infinite or negative are left out (that is how rules forbid an
        edge). Cached per weight content, so rebuilding after a rule change is
        one vectorised pass.

        Parameters
        ----------
        weight
            Name of a numeric edge column (``"length_m"``, ``"travel_time_s"``,
            ``"cost"`` …), or an array of one weight per edge row.

        Returns
        -------
        scipy.sparse.csr_array
            ``n_nodes × n_nodes``; see :meth:`csr_edges` for which edge row each
            stored entry came from.
        """
        return self._csr(weight)[0]

    def csr_edges(self, weight: str | np.ndarray = "length_m") -> np.ndarray:
        """Edge row positions (``iloc``) behind each stored entry of :meth:`csr`.

        Aligned with ``csr(weight).data``: entry ``k`` of the matrix is edge
        ``net.edges.iloc[csr_edges(weight)[k]]``.
        """
        return self._csr(weight)[1]

    def _csr(self, weight: str | np.ndarray) -> tuple[Any, np.ndarray]:
        if isinstance(weight, str):
            if weight not in self.edges.columns:
                raise InputError(
                    f"no edge column {weight!r}; numeric columns are "
                    f"{', '.join(self.edges.select_dtypes('number').columns)}"
                )
            w = self.edges[weight].to_numpy(dtype=float, na_value=np.nan)
            name = weight
        else:
            w = np.asarray(weight, dtype=float)
            if w.shape != (len(self.edges),):
                raise InputError(
                    f"weights must have one value per edge ({len(self.edges)}), not {w.shape}"
                )
            name = None
        key = ("csr", name, hashlib.blake2b(w.tobytes(), digest_size=16).digest())
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        from scipy import sparse

        u, v = self._uv_positions()
        length = self.edges["length_m"].to_numpy(dtype=float)
        ok = np.flatnonzero(np.isfinite(w) & (w >= 0))
        order = ok[np.lexsort((length[ok], w[ok], v[ok], u[ok]))]
        r, c = u[order], v[order]
        first = np.r_[True, (r[1:] != r[:-1]) | (c[1:] != c[:-1])] if len(r) else np.ones(0, bool)
        order, r, c = order[first], r[first], c[first]
        n = len(self.nodes)
        indptr = np.r_[0, np.cumsum(np.bincount(r, minlength=n))].astype(np.int32)
        mat = sparse.csr_array((w[order], c.astype(np.int32), indptr), shape=(n, n))
        # Keep one version per column name (and a few anonymous weight arrays).
        stale = [k for k in self._cache if isinstance(k, tuple) and k[:2] == ("csr", name)]
        for k in stale if name is not None else stale[:-3]:
            del self._cache[k]
        self._cache[key] = (mat, order)
        return mat, order

    @property
    def restrictions(self) -> pd.DataFrame:
        """OSM turn restrictions read with the network (one row per from × to way pair).

        Columns ``relation``, ``from_way``, ``via_node`` (-1 for a via way),
        ``via_ways`` (``;``-joined way ids), ``to_way``, ``restriction``
        (``no_left_turn`` …), ``kind`` (``no`` / ``only``), ``vehicles``
        (``''`` = all vehicles, else e.g. ``hgv``) and ``except``. Routing
        obeys the ones binding the profile's vehicle class (see the README).
        """
        from ._restrictions import restrictions_frame

        return restrictions_frame(self.meta)

    # ------------------------------------------------------------------ topology

    def largest_component(self) -> Network:
        """The largest strongly connected component, as a new Network."""
        from scipy.sparse.csgraph import connected_components

        n_comp, labels = connected_components(
            self.csr("length_m"), directed=True, connection="strong"
        )
        if n_comp <= 1:
            return self.replace()
        big = np.argmax(np.bincount(labels))
        keep_nodes = labels == big
        u, v = self._uv_positions()
        keep_edges = keep_nodes[u] & keep_nodes[v]
        meta = dict(self.meta)
        meta["largest_component"] = True
        return Network(
            self.nodes[keep_nodes],
            self.edges[keep_edges].reset_index(drop=True),
            meta,
        )

    # ------------------------------------------------------------------ spatial

    def metric_crs(self):
        """A local UTM CRS for metric work on this network (pyproj.CRS)."""
        if "utm" not in self._cache:
            self._cache["utm"] = self.nodes.estimate_utm_crs()
        return self._cache["utm"]

    def nearest_edges(
        self,
        points: Any,
        *,
        profile: Any = None,
        rules: Any = None,
        weight: str = "cost",
    ) -> pd.DataFrame:
        """Snap points to their nearest edge, exactly as routing does.

        The same index and local metric frame as :func:`geolog.route` (see
        :mod:`geolog._snap`): fractions along the edge, distances and the
        snapped positions agree with what a route starting there uses. A
        point whose snapped position is within 1 m
        (:data:`geolog._snap.NODE_TOLERANCE_M`) of an edge end is snapped to
        that node.

        Parameters
        ----------
        points
            A ``(lat, lon)`` pair, a sequence of them, an ``(n, 2)`` array of
            ``(lat, lon)``, or shapely Points / a GeoSeries (x = longitude).
        profile, rules, weight
            With neither ``profile`` nor ``rules``: every edge may be snapped
            to. With either: only the edges a route can start and end on
            under them (the routable part, as :func:`geolog.route` snaps).

        Returns
        -------
        pandas.DataFrame
            One row per point: ``edge`` (row label in :attr:`edges`), ``twin``
            (label of the opposite-direction row of the same road segment, or
            -1 for a one-way road), ``distance_m`` (point to snapped position,
            metres), ``fraction`` (0–1 along the edge geometry in travel
            direction), ``node`` (OSM id of the node the point is snapped to,
            -1 when it lies inside the edge), ``lon``, ``lat`` (the snapped
            point).
        """
        lon, lat = _points_lonlat(points)
        if profile is not None or rules is not None:
            from . import routing

            return routing._nearest(
                self, np.column_stack([lat, lon]), profile=profile, rules=rules, weight=weight
            )
        from ._snap import edge_index

        if "snap_all" not in self._cache:
            self._cache["snap_all"] = edge_index(self)
        return self._snap_frame(self._cache["snap_all"].snap(lon, lat))

    def _snap_frame(self, s: dict[str, np.ndarray]) -> pd.DataFrame:
        """The :meth:`nearest_edges` table of a raw snap result (``geolog._snap``)."""
        rows = s["row"]
        ok = rows >= 0
        labels = self.edges.index.to_numpy()
        u, v = self._uv_positions()
        ids = self.nodes.index.to_numpy()
        r = np.where(ok, rows, 0)
        node = np.where(s["end"] == 1, ids[u[r]], np.where(s["end"] == 2, ids[v[r]], -1))
        twin = self._twins(r)
        return pd.DataFrame(
            {
                "edge": np.where(ok, labels[r], -1) if len(labels) else rows,
                "twin": np.where(ok, twin, -1),
                "distance_m": s["distance_m"],
                "fraction": s["fraction"],
                "node": np.where(ok, node, -1),
                "lon": s["lon"],
                "lat": s["lat"],
            }
        )

    def _twins(self, rows: np.ndarray) -> np.ndarray:
        """Row labels of the opposite-direction rows of edge rows ``rows`` (-1 if none)."""
        pos = self.twin_positions()[rows]
        out = np.full(len(rows), -1, dtype=np.int64)
        out[pos >= 0] = self.edges.index.to_numpy()[pos[pos >= 0]]
        return out

    def twin_positions(self) -> np.ndarray:
        """For every edge row, the position (``iloc``) of the row running the same segment the other way.

        Two rows are twins when they share the way, the pair of end nodes and
        the geometry's midpoint (direction-independent), and run in opposite
        directions; ``-1`` where a road is one-way. Vectorised and cached.
        """
        if "twins" in self._cache:
            return self._cache["twins"]
        e = self.edges
        n = len(e)
        u, v = e["u"].to_numpy(), e["v"].to_numpy()
        osmid = e["osmid"].to_numpy() if "osmid" in e else np.zeros(n, np.int64)
        mid = shapely.line_interpolate_point(e.geometry.to_numpy(), 0.5, normalized=True)
        key = pd.DataFrame(
            {
                "o": osmid,
                "a": np.minimum(u, v),
                "b": np.maximum(u, v),
                "x": np.round(shapely.get_x(mid), 6),
                "y": np.round(shapely.get_y(mid), 6),
            }
        )
        grp = key.groupby(list(key.columns), sort=False).ngroup().to_numpy()
        order = np.argsort(grp, kind="stable")
        g = grp[order]
        twins = np.full(n, -1, dtype=np.int64)
        size = np.bincount(grp)
        # The usual case: a group of two rows running opposite ways.
        first = np.flatnonzero((size[g] == 2) & np.r_[True, g[1:] != g[:-1]])
        i, j = order[first], order[first + 1]
        opposite = (u[i] == v[j]) & (v[i] == u[j])
        twins[i[opposite]], twins[j[opposite]] = j[opposite], i[opposite]
        self._cache["twins"] = twins
        return twins

    # ------------------------------------------------------------------ summary

    def summary(self) -> dict:
        """Counts, kilometres by highway class, bounding box.

        Returns
        -------
        dict
            ``network_type``, ``nodes``, ``edges`` (directed rows),
            ``segments`` (road segments, a two-way road counted once),
            ``length_km`` (of segments), ``km_by_highway`` (Series),
            ``oneway_edges``, ``bbox`` (min lon, min lat, max lon, max lat).
        """
        e = self.edges
        seg = e[self._segment_mask()]
        km = seg.groupby("highway")["length_m"].sum().sort_values(ascending=False) / 1000
        twin = self._has_twin()
        return {
            "network_type": self.meta.get("network_type"),
            "nodes": len(self.nodes),
            "edges": len(e),
            "segments": len(seg),
            "length_km": float(seg["length_m"].sum() / 1000),
            "km_by_highway": km.rename("km"),
            "oneway_edges": int((~twin).sum()),
            "bbox": tuple(float(b) for b in self.nodes.total_bounds),
        }

    def _street_count(self) -> np.ndarray:
        """Road segments meeting at each node (osmnx's ``street_count``; a loop counts twice)."""
        segment = self._segment_mask()
        u, v = self._uv_positions()
        n = len(self.nodes)
        return np.bincount(u[segment], minlength=n) + np.bincount(v[segment], minlength=n)

    def _segment_mask(self) -> np.ndarray:
        """One row per road segment: a one-way row, or the first row of a twin pair."""
        twins = self.twin_positions()
        return (twins < 0) | (np.arange(len(twins)) < twins)

    def _has_twin(self) -> np.ndarray:
        return self.twin_positions() >= 0

    # ------------------------------------------------------------------ identity

    def fingerprint(self) -> str:
        """SHA-256 of the network's content (nodes and edges, in order).

        Same input file and build options give the same fingerprint on any
        machine; any change to a value, a geometry or the row order changes it.
        """
        if "fingerprint" not in self._cache:
            h = hashlib.sha256()
            for frame in (self.nodes, self.edges):
                h.update(",".join(map(str, frame.columns)).encode())
                plain = frame.drop(columns=frame.geometry.name)
                h.update(pd.util.hash_pandas_object(plain, index=True).to_numpy().tobytes())
                h.update(b"".join(shapely.to_wkb(frame.geometry.to_numpy(), hex=False)))
            self._cache["fingerprint"] = h.hexdigest()
        return self._cache["fingerprint"]

    # ------------------------------------------------------------------ interop

    def to_networkx(self):
        """An osmnx-compatible ``networkx.MultiDiGraph``.

        Graph attribute ``crs``; node attributes ``x``, ``y`` (and every other
        node column); edge key, ``length`` (= ``length_m``, metres),
        ``geometry`` and every other edge column as attributes.
        """
        import networkx as nx

        G = nx.MultiDiGraph(crs="EPSG:4326", created_by="geolog", **_scalar_meta(self.meta))
        nodes = self.nodes.drop(columns=self.nodes.geometry.name)
        if "street_count" not in nodes:
            nodes["street_count"] = self._street_count()
        G.add_nodes_from(zip(nodes.index.tolist(), nodes.to_dict("records"), strict=True))
        e = self.edges
        keys = e.groupby(["u", "v"]).cumcount().to_numpy()
        attrs = pd.DataFrame(e.drop(columns=["u", "v"]))
        attrs["length"] = e["length_m"].to_numpy()
        records = attrs.to_dict("records")
        G.add_edges_from(zip(e["u"].tolist(), e["v"].tolist(), keys.tolist(), records, strict=True))
        return G

    @classmethod
    def from_osmnx(cls, G) -> Network:
        """Build a Network from an osmnx ``MultiDiGraph`` (the online path).

        Example: ``Network.from_osmnx(osmnx.graph_from_place("Andorra",
        network_type="drive", simplify=True))``. Projected graphs are brought
        back to EPSG:4326; edges without a geometry get the straight line
        between their nodes; list-valued attributes from osmnx's
        simplification keep their first value; ``length_m`` is recomputed as
        the geodesic length of the geometry.
        """
        from pyproj import CRS, Transformer

        if G.number_of_edges() == 0:
            raise InputError("the osmnx graph has no edges")
        ids = np.fromiter(G.nodes, dtype=np.int64, count=G.number_of_nodes())
        data = list(G.nodes(data=True))
        x = np.array([d["x"] for _, d in data], dtype=float)
        y = np.array([d["y"] for _, d in data], dtype=float)
        crs = CRS.from_user_input(G.graph.get("crs", "EPSG:4326"))
        tr = None
        if not crs.equals(CRS.from_epsg(4326)):
            tr = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
            x, y = tr.transform(x, y)
        nodes = nodes_frame(ids, x, y)
        rows = []
        geoms = []
        for u, v, d in G.edges(data=True):
            rec = {k: _first(val) for k, val in d.items() if k not in ("geometry", "length")}
            rec["u"], rec["v"] = u, v
            rows.append(rec)
            geoms.append(d.get("geometry"))
        edges = pd.DataFrame(rows)
        pos = nodes.index.get_indexer(edges["u"]), nodes.index.get_indexer(edges["v"])
        straight = shapely.linestrings(
            np.stack([np.c_[x[pos[0]], y[pos[0]]], np.c_[x[pos[1]], y[pos[1]]]], axis=1)
        )
        geom = np.array(geoms, dtype=object)
        has = np.array([g is not None for g in geoms])
        if tr is not None and has.any():
            geom[has] = shapely.transform(
                geom[has], lambda c: np.column_stack(tr.transform(c[:, 0], c[:, 1]))
            )
        geom[~has] = straight[~has]
        coords, index = shapely.get_coordinates(geom, return_index=True)
        edges["length_m"] = geodesic_lengths(coords, index, len(geom))
        if "osmid" in edges:
            edges["osmid"] = (
                pd.to_numeric(edges["osmid"], errors="coerce").fillna(-1).astype(np.int64)
            )
        cols = ["u", "v"] + [c for c in edges.columns if c not in ("u", "v")]
        edges = gpd.GeoDataFrame(edges[cols], geometry=geom, crs="EPSG:4326")
        return cls(nodes, edges, {"network_type": "osmnx", "sources": [{"graph": "osmnx"}]})

    # ------------------------------------------------------------------ persistence

    def save(self, path: str | os.PathLike) -> Path:
        """Write the network to one GeoParquet file, atomically.

        The edges are the GeoParquet table; the nodes table (GeoParquet bytes)
        and the metadata block (geolog version, sources and their SHA-256,
        network type, build options, terrain and rule parameters) ride in the
        file's key-value metadata. The file is written to a temporary name in
        the same folder and renamed, so a failure never leaves half a file
        over a good one.
        """
        import pyarrow.parquet as pq

        path = Path(path)
        table = _to_arrow(self.edges)
        nodes_buf = io.BytesIO()
        pq.write_table(_to_arrow(self.nodes, index=True), nodes_buf, compression="zstd")
        meta = dict(table.schema.metadata or {})
        meta[_META_KEY] = json.dumps(
            {"format": _FORMAT, **self.meta}, sort_keys=True, default=str
        ).encode()
        meta[_NODES_KEY] = base64.b64encode(nodes_buf.getvalue())
        table = table.replace_schema_metadata(meta)
        with atomic_path(path) as tmp:
            pq.write_table(table, tmp, compression="zstd")
        return path

    def plot(
        self,
        ax=None,
        *,
        column: str | None = None,
        color: str = "0.55",
        linewidth: float = 0.6,
        **kwargs,
    ):
        """A quick static map of the roads with matplotlib (each segment drawn once).

        Parameters
        ----------
        ax
            Matplotlib axes to draw on; a new figure if ``None``.
        column
            Edge column to colour by (e.g. ``"highway"``, ``"max_grade"``);
            a single ``color`` if ``None``.
        color, linewidth
            Line style; other keywords go to :meth:`geopandas.GeoDataFrame.plot`.

        Returns
        -------
        matplotlib.axes.Axes
            With the axis hidden and the aspect set so metres look square.
        """
        import matplotlib.pyplot as plt

        if ax is None:
            ax = plt.subplots(figsize=(8, 7))[1]
        seg = self.edges[self._segment_mask()]
        style = {"column": column} if column else {"color": color}
        seg.plot(ax=ax, linewidth=linewidth, **style, **kwargs)
        lat = float(np.mean(self.nodes["y"]))
        ax.set_aspect(1 / np.cos(np.radians(lat)))
        ax.set_axis_off()
        return ax

    # delegates to the modules that own these concepts -------------------------

    def with_terrain(self, dem, **kwargs) -> Network:
        """Add along-edge terrain from a DEM; see :func:`geolog.costing.add_terrain`."""
        from .costing import add_terrain

        return add_terrain(self, dem, **kwargs)

    def with_threats(self, zones, **kwargs) -> Network:
        """Add threat exposure columns and ``risk_cost``; see :func:`geolog.risk.with_threats`."""
        from .risk import with_threats

        return with_threats(self, zones, **kwargs)

    def with_visibility(self, viewshed) -> Network:
        """Add the metres and share of each edge in view; see :func:`geolog.risk.with_visibility`."""
        from .risk import with_visibility

        return with_visibility(self, viewshed)

    def apply(self, profile=None, rules=None) -> Network:
        """Apply a travel profile and route rules; see :func:`geolog.rules.apply`.

        ``profile=None`` takes the rules' ``profile:`` key, else ``"car"``.
        """
        from .rules import apply

        return apply(self, profile, rules)


def load(path: str | os.PathLike) -> Network:
    """Read a network written by :meth:`Network.save`.

    Raises
    ------
    InputError
        If the file is missing, not Parquet, or not a geolog network.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file")
    try:
        table = pq.read_table(path)
    except (pa.ArrowInvalid, OSError) as err:
        raise InputError(f"{path}: not a readable Parquet file ({err})") from err
    md = table.schema.metadata or {}
    if _META_KEY not in md or _NODES_KEY not in md:
        raise InputError(f"{path}: a Parquet file, but not a geolog network (no geolog metadata)")
    meta = json.loads(md[_META_KEY])
    if meta.pop("format", None) != _FORMAT:
        raise InputError(f"{path}: written by an incompatible geolog version")
    nodes = _from_arrow(pq.read_table(io.BytesIO(base64.b64decode(md[_NODES_KEY]))))
    edges = _from_arrow(table)
    return Network(nodes, edges, meta)


# ---------------------------------------------------------------------- helpers


def _to_arrow(frame: gpd.GeoDataFrame, *, index: bool = False):
    import pyarrow as pa

    table = frame.to_arrow(index=index, geometry_encoding="WKB")
    return pa.table(table)


def _from_arrow(table) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame.from_arrow(table)


def _first(value: Any) -> Any:
    if isinstance(value, list):
        return value[0] if value else None
    return value


def _scalar_meta(meta: dict) -> dict:
    return {f"geolog_{k}": v for k, v in meta.items() if isinstance(v, (str, int, float, bool))}
