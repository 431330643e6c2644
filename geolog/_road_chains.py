"""Road chains: the rows of a road paired into segments, OSM ways joined into roads.

The first step of draping a network on a DEM (:mod:`geolog.drape`): the two
rows of a two-way road are one segment, stored in its way's drawing direction;
the segments of one OSM way that follow each other form a chain, and way
chains are joined end to end into road chains where they meet at a node no
other segment touches, or where exactly two chain ends at a junction carry
the same ``ref`` (else ``name``). All vectorised: pointer jumping, no loop
over roads.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely

from .errors import InputError

logger = logging.getLogger("geolog.drape")


def _canonical_flip(coords: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """True where an edge's reversed coordinate sequence sorts first.

    Compares (first point, second point) with (last point, second-to-last
    point) lexicographically, so a geometry and its reverse get opposite
    answers (closed loops included) and both rows of a road use one orientation.
    """
    a0, b0 = coords[starts], coords[ends]
    a1, b1 = coords[np.minimum(starts + 1, ends)], coords[np.maximum(ends - 1, starts)]
    keys_f = np.column_stack([a0, a1])
    keys_r = np.column_stack([b0, b1])
    diff = keys_r != keys_f
    first = np.argmax(diff, axis=1)
    rows = np.arange(len(starts))
    return diff.any(axis=1) & (keys_r[rows, first] < keys_f[rows, first])


def group_bounds(index: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    counts = np.bincount(index, minlength=n)
    if (counts == 0).any():
        raise InputError(f"{int((counts == 0).sum())} edges have an empty geometry")
    ends = np.cumsum(counts) - 1
    return ends - counts + 1, ends


@dataclass
class Segments:
    """Road segments (the rows of a two-way road share one), in way-chain order.

    A segment is stored in its way's drawing direction ("forward"). Segments
    of one OSM way that follow each other end to start form a chain.
    """

    row_seg: np.ndarray  # row -> segment
    row_fwd: np.ndarray  # row runs in the segment's forward (drawing) direction
    rep: np.ndarray  # segment -> representative row
    fu: np.ndarray  # segment -> first node id, forward
    fv: np.ndarray  # segment -> last node id, forward
    length: np.ndarray  # segment -> length (m)
    chain: np.ndarray  # segment -> chain (non-decreasing, 0..k-1)
    coords: np.ndarray  # forward vertex coordinates of all segments (lon, lat)
    cidx: np.ndarray  # vertex -> segment
    ident: np.ndarray  # segment -> road identity (ref, else name; -1 if neither)


def _reversed_flags(edges: pd.DataFrame, coords, starts, ends) -> np.ndarray:
    """Rows running against the way's drawing direction (column ``reversed``).

    Without a usable ``reversed`` column, a canonical orientation stands in
    (both rows of a road still share one segment; chains then rarely span
    more than one edge).
    """
    if "reversed" in edges.columns:
        try:
            return edges["reversed"].astype("boolean").fillna(False).to_numpy(dtype=bool)
        except (TypeError, ValueError):
            logger.debug("column 'reversed' is not boolean; using a canonical orientation")
    return _canonical_flip(coords, starts, ends)


def _road_identity(edges: pd.DataFrame) -> np.ndarray:
    """Integer road identity per row: its ``ref``, else its ``name``; -1 if neither."""
    ident = np.full(len(edges), -1, dtype=np.int64)
    offset = 0
    for col in ("name", "ref"):  # ref wins
        if col in edges.columns:
            val = edges[col]
            try:
                codes, uniques = pd.factorize(val, use_na_sentinel=True)
            except TypeError:  # unhashable values (lists): compare their text
                codes, uniques = pd.factorize(val.astype(str).where(val.notna()))
            ident = np.where(codes >= 0, codes + offset, ident)
            offset += len(uniques)
    return ident


def _pair_ends(key: np.ndarray, eligible: np.ndarray, partner: np.ndarray) -> None:
    """Pair eligible chain ends that are alone with one other end under the same key (in place)."""
    q = np.flatnonzero(eligible)
    if len(q) < 2:
        return
    q = q[np.argsort(key[q], kind="stable")]
    kq = key[q]
    start = np.r_[True, kq[1:] != kq[:-1]]
    gid = np.cumsum(start) - 1
    size = np.bincount(gid)
    a = np.flatnonzero(start & (size[gid] == 2))
    i, j = q[a], q[a + 1]
    ok = (i // 2) != (j // 2)  # never a way's two ends to each other
    partner[i[ok]], partner[j[ok]] = j[ok], i[ok]


def _list_rank(succ: np.ndarray, rounds: int) -> tuple[np.ndarray, np.ndarray]:
    """Pointer jumping: steps to the end of each copy's path, and that end."""
    idx = np.arange(len(succ))
    p = np.where(succ >= 0, succ, idx)
    r = (succ >= 0).astype(np.int64)
    for _ in range(rounds):
        r = r + r[p]
        p = p[p]
    return r, p


def _join_chains(
    fu: np.ndarray, fv: np.ndarray, chain: np.ndarray, ident: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Join way chains end to end into road chains.

    Two way chains are joined where they meet at a node that no other segment
    touches (a way split for a bridge, a lane or a speed-limit change), or
    where exactly two chain ends at a junction carry the same road identity
    (``ref``, else ``name``). Each chain is a pair of directed copies (copy id
    = the end it enters by: ``2c`` forward, ``2c + 1`` backward); a copy's
    successor is the partner of the end it leaves by. Paths are ordered by
    pointer jumping; a ring is cut at its lowest chain.

    Returns the new segment order, which segments are flipped, and road-chain ids.
    """
    m = len(fu)
    k = int(chain[-1]) + 1
    first = np.r_[True, chain[1:] != chain[:-1]]
    cf = np.flatnonzero(first)
    cl = np.r_[cf[1:] - 1, m - 1]
    _, inv = np.unique(np.r_[fu, fv], return_inverse=True)
    deg = np.bincount(inv)
    end_node = np.empty(2 * k, dtype=np.int64)
    end_node[0::2], end_node[1::2] = inv[:m][cf], inv[m:][cl]
    ends_at = np.bincount(end_node, minlength=len(deg))
    partner = np.full(2 * k, -1, dtype=np.int64)
    through = (deg[end_node] == 2) & (ends_at[end_node] == 2)
    _pair_ends(end_node, through, partner)
    end_ident = np.repeat(ident[cf], 2)
    named = (partner < 0) & (end_ident >= 0)
    _pair_ends(end_node * (int(ident.max(initial=0)) + 1) + end_ident, named, partner)

    succ = partner[np.arange(2 * k) ^ 1]
    rounds = max(1, int(math.ceil(math.log2(2 * k + 1)))) + 1
    r, p = _list_rank(succ, rounds)
    ring = succ[p] >= 0
    if ring.any():  # cut each ring before its lowest chain's forward copy (after its backward one)
        cid = np.arange(2 * k) // 2
        q = np.where(succ >= 0, succ, np.arange(2 * k))
        low = cid.copy()
        for _ in range(rounds):
            low = np.minimum(low, low[q])
            q = q[q]
        cut = ring & (
            ((succ // 2 == low) & (succ % 2 == 0)) | ((cid == low) & (np.arange(2 * k) % 2 == 1))
        )
        succ = np.where(cut, -1, succ)
        r, p = _list_rank(succ, rounds)
    # one of the two mirror paths per road: the one ending at the lower copy id
    d = 2 * np.arange(k)
    d = np.where(p[d + 1] < p[d], d + 1, d)
    order = np.lexsort((-r[d], p[d]))
    d = d[order]
    cnew = np.cumsum(np.r_[True, p[d][1:] != p[d][:-1]]) - 1
    back = d % 2 == 1
    c = d // 2
    cnt = cl[c] - cf[c] + 1
    rep_c = np.repeat(np.arange(k), cnt)
    kk = np.arange(m) - np.repeat(np.cumsum(cnt) - cnt, cnt)
    seg_order = np.where(back[rep_c], cl[c][rep_c] - kk, cf[c][rep_c] + kk)
    return seg_order, back[rep_c], cnew[rep_c]


def road_segments(edges: pd.DataFrame, *, join: bool = True) -> Segments:
    """Pair the rows of each road segment and order the segments along their ways.

    Two rows are one segment when, in the way's drawing direction, they share
    the way, both end nodes, the vertex count and the middle vertex (exact:
    a reverse row's geometry is the exact reverse). Segments are sorted by
    (way, position of their first row) — the drawing order, as
    :func:`geolog.read_osm` writes segments of a way consecutively in file
    order — and a chain breaks wherever the next segment does not start where
    the previous one ended (a way cut by the extract or by a filter).
    """
    n = len(edges)
    coords, idx = shapely.get_coordinates(edges.geometry.to_numpy(), return_index=True)
    starts, ends = group_bounds(idx, n)
    u = edges["u"].to_numpy(dtype=np.int64)
    v = edges["v"].to_numpy(dtype=np.int64)
    rev = _reversed_flags(edges, coords, starts, ends)
    if "osmid" in edges.columns:
        way = pd.to_numeric(edges["osmid"], errors="coerce").fillna(-1).to_numpy(dtype=np.int64)
    else:
        way = np.full(n, -1, dtype=np.int64)
    fu, fv = np.where(rev, v, u), np.where(rev, u, v)
    cnt = ends - starts + 1
    k = (cnt - 1) // 2
    mid = np.where(rev, ends - k, starts + k)
    xm, ym = coords[mid, 0], coords[mid, 1]
    pos = np.arange(n)
    keys = (way, fu, fv, cnt, xm, ym)
    order = np.lexsort((pos, rev) + keys[::-1])
    new = np.zeros(n, dtype=bool)
    new[:1] = True
    for key in keys:
        ks = key[order]
        new[1:] |= ks[1:] != ks[:-1]
    grp = np.empty(n, dtype=np.int64)
    grp[order] = np.cumsum(new) - 1
    first = order[new]  # per group: its forward row if any, else the first reverse row
    sorder = np.lexsort((first, way[first]))
    rep = first[sorder]
    m = len(rep)
    rank = np.empty(m, dtype=np.int64)
    rank[sorder] = np.arange(m)
    row_seg = rank[grp]
    fu_s, fv_s, way_s = fu[rep], fv[rep], way[rep]
    brk = np.ones(m, dtype=bool)
    brk[1:] = (way_s[1:] != way_s[:-1]) | (fu_s[1:] != fv_s[:-1]) | (way_s[1:] < 0)
    chain = np.cumsum(brk) - 1
    ident = _road_identity(edges)[rep]
    if join:
        seg_order, flip, chain = _join_chains(fu_s, fv_s, chain, ident)
        newpos = np.empty(m, dtype=np.int64)
        newpos[seg_order] = np.arange(m)
        rep, row_seg, ident = rep[seg_order], newpos[row_seg], ident[seg_order]
        fu_s, fv_s = (
            np.where(flip, fv_s[seg_order], fu_s[seg_order]),
            np.where(flip, fu_s[seg_order], fv_s[seg_order]),
        )
    else:
        flip = np.zeros(m, dtype=bool)
    back = rev[rep] != flip  # coordinates run against the segment's (chain) direction
    c = cnt[rep]
    cidx = np.repeat(np.arange(m), c)
    kk = np.arange(len(cidx)) - np.repeat(np.cumsum(c) - c, c)
    src = np.where(back[cidx], ends[rep][cidx] - kk, starts[rep][cidx] + kk)
    return Segments(
        row_seg=row_seg,
        row_fwd=~rev != flip[row_seg],
        rep=rep,
        fu=fu_s,
        fv=fv_s,
        length=edges["length_m"].to_numpy(dtype=float)[rep],
        chain=chain,
        coords=coords[src],
        cidx=cidx,
        ident=ident,
    )
