"""The :class:`MatchResult` of :func:`geolog.match`: matched edges with times, fixes, breaks."""

from __future__ import annotations

import json
import os
from functools import cached_property
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import shapely

from ._io import atomic_write_text, file_format
from ._snap import cut_lines
from ._track_hmm import HMMResult
from ._track_io import seconds

__all__ = ["MatchResult", "MATCH_FORMATS"]

#: Formats :meth:`MatchResult.to_file` writes, by suffix.
MATCH_FORMATS = {
    ".geojson": "GeoJSON: one feature per matched edge (times ISO 8601)",
    ".json": "GeoJSON (as .geojson)",
    ".gpkg": "GeoPackage: layers edges (matched edges) and fixes (the trace, matched)",
    ".gpx": "GPX: the matched edges as a track, the fixes as waypoints",
    ".kml": "KML: the matched edges and the fixes, in folders",
    ".parquet": "GeoParquet: the matched edges",
    ".csv": "CSV: the matched edges without geometry",
}


class MatchResult:
    """A GPS trace matched onto a road network (see :func:`geolog.match`).

    Attributes
    ----------
    vehicle
        The vehicle matched.
    fixes : pandas.DataFrame
        One row per fix of the trace (cleaned): ``time``, ``lat``, ``lon``,
        ``used`` (False for fixes thinned out as too close to the previous
        one, or with no road within ``radius_m``), ``edge`` (label, -1 if not
        used), ``fraction``, ``distance_m`` (fix to road, metres),
        ``confidence`` (0-1), ``segment``, and ``matched_lat`` / ``matched_lon``.
    breaks : pandas.DataFrame
        Where the match broke and restarted: ``kind`` (``off network``: fixes
        with no road within ``radius_m``; ``no route``: no road between two
        fixes the vehicle could have driven in the time between),
        ``from_time``, ``to_time``, ``first_fix``, ``last_fix``.
    gaps : pandas.DataFrame
        Gaps in the trace (from :func:`geolog.tracking.clean_trace`).
    cleaning : dict
        Fixes dropped while cleaning (duplicates, jumps, re-ordered).
    params : dict
        ``sigma_m``, ``beta_m``, ``radius_m``, ``max_candidates``, ``profile``.
    """

    def __init__(
        self,
        net: Any,
        g: Any,
        trace: pd.DataFrame,
        used: np.ndarray,
        hmm: HMMResult,
        params: dict,
    ) -> None:
        self._net = net
        self._g = g
        self._hmm = hmm
        self.vehicle = str(trace["vehicle"].iloc[0])
        self.params = params
        self.cleaning = dict(trace.attrs.get("cleaning", {}).get(self.vehicle, {}))
        self.gaps = pd.DataFrame(trace.attrs.get("gaps", []))
        self._time = trace["time"].reset_index(drop=True)
        t_s = seconds(self._time)
        self._used_all = used  # positions into the trace of the fixes given to the HMM
        self._fix_index = used[hmm.fix]
        self._build_fixes(trace, t_s)
        self._timing(t_s)
        self.breaks = self._breaks_frame()

    # ------------------------------------------------------------------ construction
    def _build_fixes(self, trace: pd.DataFrame, t_s: np.ndarray) -> None:
        h, n = self._hmm, len(trace)
        fx = pd.DataFrame(
            {"time": self._time, "lat": trace["lat"].to_numpy(), "lon": trace["lon"].to_numpy()}
        )
        fx["used"] = False
        fx["edge"] = -1
        fx["fraction"] = np.nan
        fx["distance_m"] = np.nan
        fx["confidence"] = np.nan
        fx["segment"] = -1
        i = self._fix_index
        fx.loc[i, "used"] = True
        labels = self._net.edges.index.to_numpy()
        fx.loc[i, "edge"] = labels[h.row] if len(h.row) else []
        fx.loc[i, "fraction"] = h.frac
        fx.loc[i, "distance_m"] = h.dist_m
        fx.loc[i, "confidence"] = h.confidence
        fx.loc[i, "segment"] = h.segment
        pts = shapely.line_interpolate_point(self._g_lines(h.row), h.frac, normalized=True)
        ll = shapely.get_coordinates(pts)
        fx["matched_lat"] = np.nan
        fx["matched_lon"] = np.nan
        if len(ll):
            fx.loc[i, "matched_lon"] = ll[:, 0]
            fx.loc[i, "matched_lat"] = ll[:, 1]
        self.fixes = fx
        self._t_used = t_s[i]
        self._n = n

    def _g_lines(self, rows: np.ndarray) -> np.ndarray:
        return self._net.edges.geometry.to_numpy()[rows]

    def _timing(self, t_s: np.ndarray) -> None:
        """Entry and exit time of every path piece, interpolated along the path."""
        h, g = self._hmm, self._g
        plen = (h.piece_f1 - h.piece_f0) * g.length[h.piece_row]
        entry = np.full(len(plen), np.nan)
        exit_ = np.full(len(plen), np.nan)
        for s in np.unique(h.piece_seg):
            pm = h.piece_seg == s
            cum0 = np.cumsum(plen[pm]) - plen[pm]
            fm = h.segment == s
            fp = h.fix_piece[fm]
            # position of each fix along the segment's path (metres)
            at = (
                cum0[fp - np.flatnonzero(pm)[0]]
                + (h.frac[fm] - h.piece_f0[fp]) * g.length[h.piece_row[fp]]
            )
            at = np.maximum.accumulate(at)
            entry[pm] = np.interp(cum0, at, self._t_used[fm])
            exit_[pm] = np.interp(cum0 + plen[pm], at, self._t_used[fm])
        self._entry_s, self._exit_s, self._plen = entry, exit_, plen

    def _breaks_frame(self) -> pd.DataFrame:
        rows = []
        for b in self._hmm.breaks:
            a, z = self._fix_index_of(b["first_fix"]), self._fix_index_of(b["last_fix"])
            rows.append(
                {
                    "kind": b["kind"],
                    "from_time": self._time.iloc[a],
                    "to_time": self._time.iloc[z],
                    "first_fix": a,
                    "last_fix": z,
                }
            )
        cols = ["kind", "from_time", "to_time", "first_fix", "last_fix"]
        return pd.DataFrame(rows, columns=cols)

    def _fix_index_of(self, k: int) -> int:
        return int(self._used_all[k])

    # ------------------------------------------------------------------ outputs
    @cached_property
    def edges(self):
        """The matched path, one row per edge driven in order (GeoDataFrame).

        ``edge`` (label), the network's edge columns (``u``, ``v``,
        ``highway``, ``name``, ``grade``, ``length_m`` of the whole edge …;
        the profile's ``speed_kph`` and ``travel_time_s`` renamed
        ``profile_speed_kph`` and ``profile_travel_time_s``), then
        ``segment``, ``fraction_start`` / ``fraction_end`` (part driven),
        ``traversed_m``, ``entry_time`` / ``exit_time`` (UTC),
        ``duration_s``, ``speed_kph`` (observed: traversed_m / duration),
        ``confidence`` (0-1: the lowest confidence of the fixes on or
        around the edge) and the geometry of the part driven.
        """
        import geopandas as gpd

        h, net = self._hmm, self._net
        e = net.edges.iloc[h.piece_row]
        out = pd.DataFrame(e.drop(columns=e.geometry.name)).reset_index(names="edge")
        out = out.rename(
            columns={"speed_kph": "profile_speed_kph", "travel_time_s": "profile_travel_time_s"}
        )
        if "profile_speed_kph" not in out.columns:
            out["profile_speed_kph"] = np.nan
        t0 = self._time.iloc[0]
        dur = self._exit_s - self._entry_s
        out["segment"] = h.piece_seg
        out["fraction_start"] = h.piece_f0
        out["fraction_end"] = h.piece_f1
        out["traversed_m"] = self._plen
        out["entry_time"] = t0 + pd.to_timedelta(self._entry_s, unit="s")
        out["exit_time"] = t0 + pd.to_timedelta(self._exit_s, unit="s")
        out["duration_s"] = dur
        with np.errstate(invalid="ignore", divide="ignore"):
            out["speed_kph"] = np.where(dur > 0, self._plen / dur * 3.6, np.nan)
        out["confidence"] = self._piece_confidence()
        idx = self._edge_index()
        geoms = cut_lines(idx.geoms_m[h.piece_row], h.piece_f0, h.piece_f1, idx.frame)
        return gpd.GeoDataFrame(out, geometry=geoms, crs="EPSG:4326")

    def _edge_index(self):
        from ._snap import metric_edges

        frame, geoms_m = metric_edges(self._net)
        return SimpleNamespace(frame=frame, geoms_m=geoms_m)

    def _piece_confidence(self) -> np.ndarray:
        h = self._hmm
        n = len(h.piece_row)
        if n == 0:
            return np.zeros(0)
        lo = np.full(n, 1.0)
        np.minimum.at(lo, h.fix_piece, h.confidence)
        # pieces between two fixes: the lower of the fixes either side
        after = np.searchsorted(h.fix_piece, np.arange(n), side="left")
        before = np.clip(after - 1, 0, len(h.fix_piece) - 1)
        after = np.clip(after, 0, len(h.fix_piece) - 1)
        has = np.zeros(n, bool)
        has[h.fix_piece] = True
        between = np.minimum(h.confidence[before], h.confidence[after])
        return np.where(has, lo, between)

    @cached_property
    def geometry(self) -> shapely.MultiLineString:
        """The matched path as a MultiLineString (one line per segment), lon/lat."""
        e = self.edges
        lines = []
        for _, part in e.groupby("segment", sort=True):
            xy = shapely.get_coordinates(part.geometry.to_numpy())
            keep = (
                np.r_[True, np.any(np.abs(np.diff(xy, axis=0)) > 1e-12, axis=1)] if len(xy) else []
            )
            xy = xy[keep]
            if len(xy) >= 2:
                lines.append(shapely.LineString(xy))
        return shapely.MultiLineString(lines)

    def summary(self) -> dict:
        """Headline numbers (JSON-ready dict)."""
        e = self.edges
        used = self.fixes["used"]
        span = (self._time.iloc[-1] - self._time.iloc[0]).total_seconds()
        return {
            "vehicle": self.vehicle,
            "fixes": int(self._n),
            "fixes_used": int(used.sum()),
            "start": self._time.iloc[0].isoformat(),
            "end": self._time.iloc[-1].isoformat(),
            "duration_s": float(span),
            "matched_km": float(e["traversed_m"].sum() / 1000.0),
            "edges": int(len(e)),
            "segments": int(e["segment"].nunique()),
            "breaks": int(len(self.breaks)),
            "gaps": int(len(self.gaps)),
            "mean_distance_m": float(self.fixes.loc[used, "distance_m"].mean()),
            "mean_confidence": float(self.fixes.loc[used, "confidence"].mean()),
        }

    def to_frame(self):
        """The matched edges as a GeoDataFrame (same as :attr:`edges`, a copy)."""
        return self.edges.copy()

    def to_file(self, path: str | os.PathLike) -> Path:
        """Write the matched trace atomically; the format comes from the suffix.

        ``.geojson`` / ``.json`` and ``.parquet`` (the matched edges),
        ``.gpkg``, ``.kml`` and ``.gpx`` (the matched edges, and the fixes as
        points), through :func:`geolog.export.write_layers`; ``.csv`` (the
        edges without geometry). Times are ISO 8601 (UTC).
        """
        import geopandas as gpd

        from .export import write_layers

        fmt = file_format(path, MATCH_FORMATS, "a matched trace")
        p = Path(path)
        frame = self.to_frame()
        if fmt == ".csv":
            for c in ("entry_time", "exit_time"):
                frame[c] = frame[c].map(lambda x: x.isoformat() if pd.notna(x) else None)
            return atomic_write_text(
                p, pd.DataFrame(frame.drop(columns="geometry")).to_csv(index=False)
            )
        layers = {"edges": frame}
        if fmt in (".gpkg", ".kml", ".gpx"):
            fx = self.fixes
            layers["fixes"] = gpd.GeoDataFrame(
                fx, geometry=gpd.points_from_xy(fx["lon"], fx["lat"]), crs="EPSG:4326"
            )
        vehicle = self.summary().get("vehicle", "")
        return write_layers(
            layers, p, name=f"matched trace {vehicle}".strip(), formats=MATCH_FORMATS,
            what="a matched trace",
        )  # fmt: skip

    def to_geojson(self) -> str:
        """GeoJSON text of the matched edges."""
        frame = self.to_frame()
        for c in ("entry_time", "exit_time"):
            frame[c] = frame[c].map(lambda x: x.isoformat() if pd.notna(x) else None)
        return json.dumps(json.loads(frame.to_json(drop_id=True)))

    def to_map(self, *, min_loss_s: float = 30.0):
        """Offline folium map: the trace, the matched route coloured by speed, delay hot spots.

        Layers from :mod:`geolog.maps` (``trace_layer``, ``matched_layer``,
        ``delay_layer``); every name is escaped.
        """
        from ._map_tracking import tracking_map

        return tracking_map(self, min_loss_s=min_loss_s)

    def __repr__(self) -> str:
        s = self.summary()
        return (
            f"MatchResult({s['vehicle']!r}: {s['fixes']} fixes, {s['edges']} edges, "
            f"{s['matched_km']:.1f} km, {s['segments']} segment(s), {s['breaks']} break(s))"
        )
