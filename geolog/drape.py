"""Drape a road network on a DEM: elevation profiles, ascent, descent and grades.

(Formerly ``geolog.costing``, which still re-exports these names: the module
computes no cost — cost comes from profiles and rules.)

:func:`add_terrain` drapes every edge of a :class:`~geolog.network.Network` on a
:class:`~geolog.terrain.DEM`, all edges at once, with **way-level profiles**
(as GraphHopper smooths elevation per OSM way rather than per edge):

1. **segments and chains** — the two rows of a two-way road are one segment,
   stored in its way's drawing direction (rows with ``reversed == False``; a
   ``oneway=-1`` way has only reversed rows and is flipped back). The segments
   of one OSM way (``osmid``) that follow each other end to start form a
   *chain*: the whole way as one profile. OSM splits a road into many ways
   (at every bridge, lane or speed-limit change), so way chains are then
   joined end to end into **road chains** where they meet at a node no other
   segment touches, or where exactly two chain ends at a junction carry the
   same ``ref`` (else ``name``). Chains break where a way is cut (by the
   extract, a filter, or a missing ``reversed``/``osmid`` column: then every
   segment is its own chain — the per-edge method);
2. every segment is densified with :func:`shapely.segmentize` to at most half
   a DEM cell (in the DEM's grid units) and **all** points are sampled
   bilinearly in one call;
3. **the error model**: each sample's vertical error is
   ``sqrt(sigma_v² + (sigma_h · tan slope)²)`` from the DEM's product
   (:attr:`geolog.terrain.DEM.error`: SRTM3/SRTM1 after Rodriguez et al.
   2006, Copernicus GLO-30 from its product handbook, LiDAR after the USGS
   lidar base specification; or ``vertical_error_m``) and the terrain slope
   under the sample; samples closer than a cell share their error, so each
   counts for ``spacing / cell`` of an independent observation;
4. **the estimate** (:mod:`geolog._profile_fit`): along every road chain the
   profile is the penalised least-squares fit (a cubic smoothing spline,
   Whittaker–Henderson graduation on an uneven grid; Eilers 2003, "A
   perfect smoother") of the samples, with the prior that a road's grade
   changes slowly (a random walk of intensity :data:`GRADE_WANDER`); its
   smoothing length ``ell = (sigma² · cell / GRADE_WANDER) ** 0.25`` follows
   the DEM (≈ 220 m on SRTM3, ≈ 20 m on a 5 m LiDAR grid). Every **node is
   one unknown shared by all the roads that meet there**; where one road
   chain continues another at a node (turn ≤ 30°, each the other's best
   continuation: a carriageway split, a way ending at a junction) the
   smoothness prior spans the junction too; bridges and
   tunnels have no knots inside (they run straight between their end
   nodes) and no samples count on them; all roads are solved at once as one
   sparse system (scipy SuperLU), no loop over roads. The node elevations
   are the estimate at the node (column ``elevation``); the raw bilinear
   DEM sample is kept as ``elevation_dem``. Each edge's profile runs between
   its nodes' elevations, so per direction of travel exactly
   ``elev(v) − elev(u) = ascent_m − descent_m``, and the reverse row mirrors
   the forward one (ascents and descents swapped, grades negated);
5. **the uncertainty**: posterior draws of the same model (nodes observed
   like any sample) give the sd of every stretch's grade
   (``max_grade_sd``) and of the profile (``elevation_sd_m`` in
   :func:`elevation_profile`);
6. per direction of travel:

   * ``ascent_m`` / ``descent_m``: sums of the rises / falls of that profile;
   * ``max_grade``: the steepest stretch of ``max_grade_window_m`` (default
     the larger of two DEM cells and ``ell``: the shortest stretch the DEM
     supports; at least one cell) of the **estimated** profile among
     the stretches *nested* with the edge — inside it when the edge is longer
     than the window, containing it when shorter (the whole edge counts as a
     stretch too when it is long enough). Signed in the direction of travel.
     So a 5 m edge in the middle of a steady 6 % road reads 6 %, not the
     40 % of two raw samples a few metres apart on a steep hillside;
   * ``grade``: the signed mean. For edges at least ``max_grade_window_m``
     long it is ``(elev(v) − elev(u)) / length_m``. For **shorter edges** it is
     the mean grade of the estimated profile over the ``max_grade_window_m``
     stretch centred on the edge (shifted to fit inside the way; the whole way
     if the way is shorter): a DEM cannot measure the grade of a few metres,
     and ``(elev(v) − elev(u)) / length_m`` of a 5 m edge is the hillside's
     slope, not the road's. Their ``ascent_m``/``descent_m`` still honour the
     node elevations exactly. Bridges and tunnels: ``max_grade == grade``;
   * ``max_grade_sd``: the posterior sd of a ``max_grade_window_m``
     stretch's grade on the edge (the largest of its first, middle and last
     stretch; for a chain shorter than the window, two independent errors of
     its least certain point over the window);
   * ``max_grade_hi``: the cautious value, ``max_grade`` plus 1.96 times
     ``sqrt(max_grade_sd² + (2 sigma_v / window)²)`` in its own direction.
     The second term is what the DEM cannot resolve: the prior attenuates a
     ramp shorter than ``ell`` rather than ruling it out, and two samples'
     errors over the window bound what it may hide;
   * **chains shorter than the window** (a one-way piece where a dual
     carriageway splits or at a junction: three chain ends share its ``ref``,
     or its far end lies inside another road) have no stretch of their own.
     They borrow the roads that continue them: at each end node the chain —
     ending there or passing through, either way — whose heading continues
     best (a turn of at most 60°, measured over 30 m; same ``ref``/``name``
     preferred) lends its segments for about ``(max_grade_window_m +
     ell) / 2``; the short chain's ``grade`` and ``max_grade`` are
     measured on that longer virtual chain (the estimated profiles laid end to
     end) exactly as above. We follow the
     roads rather than a straight line along the piece's bearing: a piece
     that diverges 10° from its road on a 40 % hillside would read
     ``0.06·cos 10° + 0.40·sin 10° ≈ 13 %`` along a straight line; the roads
     around it read the road's 6 %. Without a continuation (a dead end, a
     crossover between carriageways at right angles) the chain keeps its own
     end-to-end grade;
   * ``grade_class`` (route reconnaissance classes of ``|max_grade|``) and
     ``terrain_filled`` (samples touched void-filled cells).

Nodes carry the estimate, not the raw sample, on purpose: two raw samples 30 m
apart on a hillside differ by the hillside's slope times the distance, and a
profile pinned to both reads a 27 % "ramp" the road does not have. One value
per node, shared by every road through it, keeps each route's
``ascent − descent`` equal to its end-to-end rise; ``elevation_dem`` keeps
the bilinear DEM sample for anyone who needs the raw reading.

The steps live in private modules: road chains (step 1) in
:mod:`geolog._road_chains`, densifying and sampling (2, 3) in
:mod:`geolog._drape_samples`, the estimate and its grades (4–6) in
:mod:`geolog._profile_estimate` with the sparse solver in
:mod:`geolog._profile_fit`; this module holds the public API.
"""

from __future__ import annotations

import logging
import math
import os
import warnings
from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from . import _cache, _profile_fit
from ._drape_samples import interpolate_structure_nodes, sample_segments, structure_mask
from ._io import sha256_file
from ._profile_estimate import Model, borrow_context, estimate_shape
from ._road_chains import road_segments
from .errors import DEMError, GeologWarning, InputError
from .terrain import DEM

if TYPE_CHECKING:
    import geopandas as gpd

    from .network import Network

__all__ = [
    "add_terrain",
    "GRADE_WANDER",
    "steepest_stretch",
    "elevation_profile",
    "grade_classes",
    "GRADE_CLASSES",
    "GRADE_CLASS_BINS",
    "OBSTRUCTION_GRADE",
]

logger = logging.getLogger(__name__)

#: Route-reconnaissance grade classes (percent of |max_grade|) and their lower bounds.
GRADE_CLASSES = ("<5%", "5-7%", "7-10%", "10-14%", ">=14%")
GRADE_CLASS_BINS = (0.05, 0.07, 0.10, 0.14)
#: Grades from 7 % are obstructions to traffic in NATO route classification.
OBSTRUCTION_GRADE = 0.07


def grade_classes(max_grade: Any) -> pd.Categorical:
    """Route-reconnaissance grade classes of grades (fractions), by magnitude.

    ``'<5%'``, ``'5-7%'``, ``'7-10%'``, ``'10-14%'``, ``'>=14%'``; from 7 % a
    grade is an obstruction to traffic (NATO route classification, US Army
    FM 3-34.170 route reconnaissance).
    """
    g = np.abs(np.asarray(max_grade, dtype=float))
    codes = np.searchsorted(np.asarray(GRADE_CLASS_BINS), g, side="right")
    return pd.Categorical.from_codes(codes, categories=list(GRADE_CLASSES), ordered=True)


def _coerce_dem(dem: Any) -> DEM:
    if isinstance(dem, DEM):
        return dem
    if isinstance(dem, (str, os.PathLike)) or (
        isinstance(dem, Sequence) and all(isinstance(p, (str, os.PathLike)) for p in dem)
    ):
        return DEM.open(dem)
    raise InputError(f"dem must be a geolog.DEM or path(s) to elevation tiles, got {type(dem)!r}")


def _with_error(dem: DEM, vertical_error_m: float | None) -> DEM:
    """The DEM with another vertical error (same arrays), or itself."""
    if vertical_error_m is None:
        return dem
    return DEM(
        dem.array,
        dem.transform,
        dem.crs,
        filled_mask=dem.filled_mask,
        source=dem.source,
        paths=dem.paths,
        vertical_error_m=vertical_error_m,
    )


def _cell_m(dem: DEM) -> float:
    return float(max(dem.cell_size_m))


#: Prior on how fast a road's grade changes (1/m): the grade is a random walk
#: that wanders by about ``sqrt(GRADE_WANDER * d)`` over ``d`` metres — 1 pp
#: over 100 m, 3 pp over a kilometre. Road design keeps grades steady between
#: vertical curves (a 40 t truck cannot take 12 % then 4 % then 12 %); hairpins
#: and junction ramps change faster, which the DEM's samples then show.
GRADE_WANDER = 1e-6


def _model(
    dem: DEM,
    *,
    smooth_window_m: float | None,
    max_grade_window_m: float | None,
) -> Model:
    """Prior, knots and window of the profile estimate, from the DEM's error model."""
    sigma = dem.error.vertical_error_m
    cx, cy = dem.cell_size_m
    cell = math.sqrt(cx * cy)
    if smooth_window_m is None:
        q = GRADE_WANDER
        ell = (sigma**2 * cell / q) ** 0.25
    else:
        ell = float(smooth_window_m)
        if not (ell >= 0 and math.isfinite(ell)):
            raise InputError(
                f"smooth_window_m must be a finite number >= 0, got {smooth_window_m!r}"
            )
        q = sigma**2 * cell / ell**4 if ell > 0 else 0.0
    # knots half a cell apart, or a quarter of the smoothing length where that is
    # longer (the estimate holds no detail finer); the smoothness prior spans
    # knots at least half a sample step apart (closer ones: a junction cluster)
    step = max(0.5 * min(cx, cy), ell / 4)
    gap = 0.25 * min(cx, cy)
    W = max(2 * _cell_m(dem), ell) if max_grade_window_m is None else float(max_grade_window_m)
    if not (W > 0 and math.isfinite(W)):
        raise InputError(f"max_grade_window_m must be > 0, got {max_grade_window_m!r}")
    if W < min(dem.cell_size_m) - 1e-9:
        raise InputError(
            f"max_grade_window_m={W:g} m is shorter than one DEM cell "
            f"({min(dem.cell_size_m):.1f} m): grades over it are below the DEM's resolution"
        )
    return Model(
        q=q, step=step, gap=gap, cell=cell, ell=ell, window=W, geographic=dem.crs.is_geographic
    )


def add_terrain(
    net: Network,
    dem: DEM | str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    *,
    smooth_window_m: float | None = None,
    max_grade_window_m: float | None = None,
    vertical_error_m: float | None = None,
) -> Network:
    """Drape a network on a DEM: per-direction ascent, descent and grades.

    Each road's profile is *estimated* from the DEM samples along it, all roads
    in one sparse system, with the DEM's error model; see the module docstring
    for the method.

    Parameters
    ----------
    net
        The road network (not modified).
    dem
        A :class:`~geolog.terrain.DEM` or path(s) to open with :meth:`DEM.open`.
    smooth_window_m
        Smoothing length ``ell`` (metres) of the profile estimate; default from
        the DEM's error model, ``(sigma² × cell / GRADE_WANDER) ** 0.25``
        (≈ 220 m on SRTM3, ≈ 20 m on a 5 m LiDAR DEM). ``0`` keeps the raw
        samples (no estimate).
    max_grade_window_m
        Length (metres) of the stretch over which ``max_grade`` is measured
        (and over which edges shorter than it get their ``grade``); default
        the larger of two DEM cells and ``ell``: what the DEM resolves. It
        must be at least one cell.
    vertical_error_m
        The DEM's random vertical error (1 sigma, metres), instead of the
        product's published figure (``dem.error``).

    Returns
    -------
    Network
        A new Network. Nodes gain ``elevation`` (m, the estimated road
        elevation at the node, shared by every road through it) and
        ``elevation_dem`` (m, the bilinear DEM sample at the node,
        interpolated along bridges/tunnels for nodes only they touch); edges
        gain ``ascent_m``, ``descent_m`` (m, ≥ 0), ``grade``
        (signed mean, fraction), ``max_grade`` (steepest stretch, signed in the
        direction of travel, fraction), ``max_grade_sd`` (its posterior
        standard deviation, fraction, ≥ 0), ``max_grade_hi`` (cautious value:
        ``max_grade`` plus 1.96 sd in its own direction, the sd including
        what the DEM cannot resolve; see the module docstring),
        ``grade_class`` (ordered categorical, see :func:`grade_classes`) and ``terrain_filled`` (bool: the edge's samples
        touched void-filled cells). ``meta["terrain"]`` records the DEM source,
        its error model and these parameters.

    Raises
    ------
    DEMError
        If the DEM does not cover every node and edge (the message says how
        many fall outside).
    InputError
        A window is not a finite number (``max_grade_window_m`` shorter than
        one DEM cell), a bad ``vertical_error_m``, or the network has no edges.

    Examples
    --------
    >>> import warnings, geolog
    >>> net = geolog.read_osm(geolog.data.path("andorra"))
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", geolog.errors.GeologWarning)
    ...     hilly = net.with_terrain(geolog.DEM.open(geolog.data.dem_path("andorra")))
    >>> bool((hilly.edges["ascent_m"] >= 0).all())
    True
    >>> bool((hilly.edges["max_grade_hi"].abs() >= hilly.edges["max_grade"].abs()).all())
    True
    """
    dem = _with_error(_coerce_dem(dem), vertical_error_m)
    model = _model(dem, smooth_window_m=smooth_window_m, max_grade_window_m=max_grade_window_m)
    nodes, edges = net.nodes, net.edges
    if len(edges) == 0:
        raise InputError("the network has no edges to add terrain to")

    # nodes
    z_nodes, f_nodes = dem._sample(
        nodes["x"].to_numpy(dtype=float), nodes["y"].to_numpy(dtype=float)
    )
    u = nodes.index.get_indexer(edges["u"].to_numpy())
    v = nodes.index.get_indexer(edges["v"].to_numpy())
    if (u < 0).any() or (v < 0).any():
        raise InputError("some edges reference nodes missing from the nodes frame")
    lengths = edges["length_m"].to_numpy(dtype=float)
    structure = structure_mask(edges)

    # segments in way order; one densify + one sampling call for everything
    segs = road_segments(edges)
    p = sample_segments(segs, dem)
    seg_out = np.bincount(p.seg, weights=~np.isfinite(p.z_raw), minlength=len(p.length)) > 0
    rs, fwd = segs.row_seg, segs.row_fwd
    _check_coverage(dem, z_nodes, seg_out[rs] & ~structure, nodes, edges)

    z_nodes, interp = interpolate_structure_nodes(z_nodes, u, v, lengths, structure)
    fu = nodes.index.get_indexer(segs.fu)
    fv = nodes.index.get_indexer(segs.fv)
    sh = estimate_shape(p, z_nodes[fu], z_nodes[fv], structure[segs.rep], model, fu, fv)
    z_dem = z_nodes
    z_nodes = z_nodes.copy()
    z_nodes[fu], z_nodes[fv] = sh.z[p.starts], sh.z[p.ends]  # the estimate, shared by roads
    za, zb = z_nodes[u], z_nodes[v]
    seg_grade, seg_max_grade, seg_sd = borrow_context(
        p,
        sh,
        segs.fu,
        segs.fv,
        segs.ident,
        z_nodes[fu],
        z_nodes[fv],
        structure[segs.rep],
        model,
        geographic=dem.crs.is_geographic,
    )

    # back to each row's direction of travel
    ascent = np.where(fwd, sh.ascent[rs], sh.descent[rs])
    descent = np.where(fwd, sh.descent[rs], sh.ascent[rs])
    grade = np.where(fwd, seg_grade[rs], -seg_grade[rs])
    max_grade = np.where(fwd, seg_max_grade[rs], -seg_max_grade[rs])
    max_grade_sd = seg_sd[rs]
    # cautious: the posterior sd rests on the prior that grades change slowly; a ramp
    # shorter than the smoothing length is attenuated, not excluded, so the raw
    # samples' grade error over the window (two errors of sigma, 2 sigma / W) is added
    res_sd = 2 * dem.error.vertical_error_m / model.window if model.q > 0 else 0.0
    hi_sd = np.hypot(max_grade_sd, res_sd)
    max_grade_hi = max_grade + np.where(max_grade < 0, -1.0, 1.0) * model.z_hi * hi_sd
    # bridges and tunnels: the straight line between their end elevations
    dz = zb - za
    ascent = np.where(structure, np.maximum(dz, 0.0), ascent)
    descent = np.where(structure, np.maximum(-dz, 0.0), descent)
    filled = np.where(structure, f_nodes[u] | f_nodes[v], sh.filled[rs])

    new_edges = edges.assign(
        ascent_m=ascent,
        descent_m=descent,
        grade=grade,
        max_grade=max_grade,
        max_grade_sd=max_grade_sd,
        max_grade_hi=max_grade_hi,
        grade_class=grade_classes(max_grade),
        terrain_filled=filled.astype(bool),
    )
    new_nodes = nodes.assign(elevation=z_nodes, elevation_dem=z_dem)
    n_chains = int(segs.chain[-1]) + 1
    meta = _terrain_meta(
        net.meta,
        dem,
        model,
        n_chains=n_chains,
        n_segments=len(segs.rep),
        n_filled=int(filled.sum()),
        n_interpolated=int(interp.sum()),
    )
    logger.info(
        "terrain: %d edges, %d segments in %d way chains, %d samples, %d edges on filled cells",
        len(edges),
        len(segs.rep),
        n_chains,
        len(p.z_raw),
        int(filled.sum()),
    )
    return net.replace(nodes=new_nodes, edges=new_edges, meta=meta)


def _terrain_meta(
    meta: dict[str, Any],
    dem: DEM,
    model: Model,
    *,
    n_chains: int,
    n_segments: int,
    n_filled: int,
    n_interpolated: int,
) -> dict[str, Any]:
    """``meta`` plus what :func:`add_terrain` did (``meta["terrain"]``) and the DEM files."""
    meta = dict(meta)
    meta["terrain"] = {
        "dem_source": dem.source,
        "dem_paths": list(dem.paths),
        "dem_crs": dem.crs.to_string(),
        "dem_cell_m": [round(c, 3) for c in dem.cell_size_m],
        "sample_spacing": f"<= half a DEM cell ({0.5 * min(dem.res):.6g} grid units)",
        "dem_error": dem.error.as_dict(),
        "method": (
            "road profiles estimated by penalised least squares (cubic smoothing spline / "
            "Whittaker-Henderson, Eilers 2003) along road chains, all roads in one banded "
            "sparse system; nodes fixed at their elevations, bridges/tunnels straight"
        ),
        "grade_wander_per_m": model.q,
        "smooth_window_m": model.ell,
        "knot_spacing_m": round(model.step, 3),
        "max_grade_window_m": model.window,
        "max_grade": "steepest stretch of max_grade_window_m of the estimated profile "
        "nested with the edge (inside it, or containing it if shorter)",
        "max_grade_sd": f"posterior sd of a max_grade_window_m stretch's grade on the edge "
        f"(largest among its stretches; {_profile_fit.N_DRAWS} posterior draws)",
        "max_grade_hi": f"max_grade + {model.z_hi} sqrt(max_grade_sd^2 + (2 sigma / "
        "max_grade_window_m)^2): the posterior sd plus what the DEM cannot resolve",
        "grade": "(elev(v) - elev(u)) / length; edges shorter than max_grade_window_m: "
        "mean of the estimated profile over the max_grade_window_m stretch centred on the edge",
        "short_chains": "chains shorter than max_grade_window_m take grade and max_grade "
        "from a virtual chain extended along the best-continuing road at each end "
        "(turn <= 60 deg, same ref/name preferred)",
        "node_elevation": "elevation: the estimate, one value per node shared by every road "
        "through it; elevation_dem: the raw bilinear sample (bridge/tunnel-only nodes "
        "interpolated along the structure)",
        "way_chains": n_chains,
        "segments": n_segments,
        "structures": "bridge/tunnel edges: straight line between end elevations",
        "edges_on_filled_cells": n_filled,
        "structure_nodes_interpolated": n_interpolated,
    }
    if dem.paths:
        meta["sources"] = _with_dem_sources(meta.get("sources", []), dem.paths)
    return meta


def _with_dem_sources(sources: list[dict[str, Any]], paths: Sequence[str]) -> list[dict[str, Any]]:
    """The network's source files plus the DEM tiles (name, role, SHA-256), each once."""
    sources = list(sources)
    for path in paths:
        entry = {"file": os.path.basename(path), "role": "dem"}
        if os.path.exists(path):
            entry["sha256"] = sha256_file(path)
        if entry not in sources:
            sources.append(entry)
    return sources


def _check_coverage(
    dem: DEM,
    z_nodes: np.ndarray,
    edge_outside: np.ndarray,
    nodes: gpd.GeoDataFrame,
    edges: gpd.GeoDataFrame,
) -> None:
    node_out = ~np.isfinite(z_nodes)
    if not node_out.any() and not edge_outside.any():
        return
    w, s, e, n = (round(b, 4) for b in nodes.total_bounds)
    db = tuple(round(b, 4) for b in dem.bounds)
    if node_out.all():
        raise DEMError(
            f"DEM {dem.source} (bounds {db}) does not cover the network at all "
            f"(network bbox {w}, {s}, {e}, {n}); use the tile(s) covering the network"
        )
    raise DEMError(
        f"DEM {dem.source} (bounds {db}) covers the network only partly: "
        f"{int(node_out.sum())} of {len(nodes)} nodes ({100 * node_out.mean():.1f} %) and "
        f"{int(edge_outside.sum())} of {len(edges)} edges ({100 * edge_outside.mean():.1f} %) "
        f"fall outside its data (network bbox {w}, {s}, {e}, {n}); add the neighbouring "
        "tiles (DEM.open([...]) mosaics them) or clip the network to the DEM"
    )


@lru_cache(maxsize=4)
def _open_quiet(paths: tuple[str, ...]) -> DEM:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GeologWarning)  # reported when the network was built
        return DEM.open(list(paths))


_cache.register_function("opened DEMs", _open_quiet)


def elevation_profile(
    net_or_edges: Network | gpd.GeoDataFrame,
    edge_ids: Sequence[Any],
    *,
    dem: DEM | None = None,
    smooth_window_m: float | None = None,
    vertical_error_m: float | None = None,
) -> pd.DataFrame:
    """Distance–elevation profile along a sequence of edges (e.g. a route).

    The profile is computed exactly as :func:`add_terrain` computes ascent and
    descent (same densification, the same estimate over the whole roads the
    edges belong to, nodes fixed, straight bridges/tunnels), so its rises sum
    to the edges' ``ascent_m``.

    Parameters
    ----------
    net_or_edges
        A Network with terrain, or its edges frame (then the profile ends at
        the raw DEM samples at the nodes). Pass the whole frame: the edges'
        ways give the smoothing its context.
    edge_ids
        Row labels of ``edges``, in travel order.
    dem
        The DEM; default: re-open the files recorded in ``net.meta["terrain"]``.
    smooth_window_m
        Smoothing length; default the one recorded in ``net.meta["terrain"]``.
    vertical_error_m
        The DEM's vertical error; default the one recorded in ``net.meta["terrain"]``.

    Returns
    -------
    pandas.DataFrame
        ``distance_m`` (from the start of the first edge), ``elevation_m``,
        ``elevation_sd_m`` (posterior sd of the estimated road elevation, m:
        the DEM's error left after the estimate; a band of ± 2 sd holds the
        road with about 95 % probability), ``edge`` (row label), ``lon``,
        ``lat``; joints between edges appear once.

    Raises
    ------
    InputError
        Unknown edge labels.
    DEMError
        No DEM given and none recorded, or the DEM does not cover the edges.
    """
    meta = getattr(net_or_edges, "meta", {}) or {}
    edges = getattr(net_or_edges, "edges", net_or_edges)
    terrain = meta.get("terrain", {})
    ids = list(edge_ids)
    cols = ["distance_m", "elevation_m", "elevation_sd_m", "edge", "lon", "lat"]
    if not ids:
        return pd.DataFrame({c: [] for c in cols})
    missing = [i for i in ids if i not in edges.index]
    if missing:
        raise InputError(f"edge ids {missing[:5]} are not rows of the edges frame")
    if dem is None:
        paths = tuple(terrain.get("dem_paths") or ())
        if not paths:
            raise DEMError(
                "no DEM recorded on this network; pass dem=geolog.DEM.open(...) "
                "or build the network with net.with_terrain(dem)"
            )
        dem = _open_quiet(paths)
    if vertical_error_m is None and "dem_error" in terrain:
        vertical_error_m = terrain["dem_error"]["vertical_error_m"]
    dem = _with_error(dem, vertical_error_m)
    if smooth_window_m is None:
        smooth_window_m = terrain.get("smooth_window_m")
    model = _model(
        dem,
        smooth_window_m=smooth_window_m,
        max_grade_window_m=terrain.get("max_grade_window_m"),
    )
    pos = edges.index.get_indexer(ids)
    segs = road_segments(edges)
    want = segs.row_seg[pos]
    # the whole network: roads share their junctions, so every road is context
    p = sample_segments(segs, dem)
    local = np.full(len(segs.rep), -1, dtype=np.int64)
    local[p.segs] = np.arange(len(p.segs))
    structure = structure_mask(edges)[segs.rep[p.segs]]
    ground = ~structure[p.seg]
    if (~np.isfinite(p.z_raw[ground])).any():
        raise DEMError(f"DEM {dem.source} does not cover all of edges {ids[:5]}…")
    z_start, z_end = p.z_raw[p.starts], p.z_raw[p.ends]
    nodes = getattr(net_or_edges, "nodes", None)
    col = "elevation_dem" if model.q > 0 else "elevation"
    if nodes is not None and col in nodes.columns:
        zn = nodes[col]
        z_start = zn.reindex(segs.fu[p.segs]).to_numpy(dtype=float)
        z_end = zn.reindex(segs.fv[p.segs]).to_numpy(dtype=float)
    sh = estimate_shape(p, z_start, z_end, structure, model, segs.fu[p.segs], segs.fv[p.segs])
    if (~np.isfinite(sh.z[np.isin(p.seg, local[want])])).any():
        raise DEMError(f"DEM {dem.source} does not cover all of edges {ids[:5]}…")
    # the requested rows, each in its direction of travel
    ls = local[want]
    fwd = segs.row_fwd[pos]
    cnt = p.ends[ls] - p.starts[ls] + 1
    r = np.repeat(np.arange(len(ids)), cnt)
    k = np.arange(len(r)) - np.repeat(np.cumsum(cnt) - cnt, cnt)
    i = np.where(fwd[r], p.starts[ls][r] + k, p.ends[ls][r] - k)
    L = p.length[ls]
    s = np.where(fwd[r], p.s[i], L[r] - p.s[i])
    z, x, y = sh.z[i], p.x[i], p.y[i]
    if not dem.crs.is_geographic:
        from pyproj import Transformer

        tr = Transformer.from_crs(dem.crs.to_wkt(), "EPSG:4326", always_xy=True)
        x, y = tr.transform(x, y)
    lengths = edges["length_m"].to_numpy(dtype=float)[pos]
    offset = np.r_[0.0, np.cumsum(lengths)][:-1]
    keep = np.ones(len(r), dtype=bool)
    keep[(np.cumsum(cnt) - cnt)[1:]] = False  # the joint is the previous edge's last point
    label = np.asarray(edges.index[pos])[r]
    return pd.DataFrame(
        {
            "distance_m": (s + offset[r])[keep],
            "elevation_m": z[keep],
            "elevation_sd_m": sh.sd[i][keep],
            "edge": label[keep],
            "lon": np.asarray(x)[keep],
            "lat": np.asarray(y)[keep],
        }
    )


def steepest_stretch(
    profile: pd.DataFrame, stretch_m: float, *, step_m: float = 5.0
) -> tuple[float, float]:
    """Steepest climb over ``stretch_m`` metres of a distance–elevation profile.

    Parameters
    ----------
    profile
        A frame with ``distance_m`` (non-decreasing) and ``elevation_m``, e.g.
        from :func:`elevation_profile` or :meth:`geolog.routing.Route.profile`.
    stretch_m
        Length of the stretch (metres, > 0).
    step_m
        Spacing of the stretch starts tried (metres).

    Returns
    -------
    tuple of float
        The grade (fraction, rise over ``stretch_m``; negative if the profile
        only descends) and the distance (m) where that stretch starts. A
        profile shorter than ``stretch_m`` gives its end-to-end grade.

    Raises
    ------
    InputError
        ``stretch_m`` or ``step_m`` not > 0, or an empty profile.
    """
    if not (stretch_m > 0 and step_m > 0):
        raise InputError(f"stretch_m and step_m must be > 0, got {stretch_m!r}, {step_m!r}")
    d = profile["distance_m"].to_numpy(dtype=float)
    z = profile["elevation_m"].to_numpy(dtype=float)
    if len(d) == 0:
        raise InputError("the profile is empty")
    span = d[-1] - d[0]
    if span <= stretch_m:
        return (float((z[-1] - z[0]) / span) if span > 0 else 0.0), float(d[0])
    t = np.r_[np.arange(d[0], d[-1] - stretch_m, step_m), d[-1] - stretch_m]
    g = (np.interp(t + stretch_m, d, z) - np.interp(t, d, z)) / stretch_m
    i = int(np.argmax(g))
    return float(g[i]), float(t[i])
