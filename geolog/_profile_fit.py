"""Road profiles estimated from DEM samples: one penalised least-squares fit for all roads.

Model (a cubic smoothing spline, i.e. Whittaker–Henderson graduation with a
second-difference penalty on an uneven grid; Eilers 2003, "A perfect
smoother", Anal. Chem. 75:3631; its Bayesian reading, Wahba 1978 / 1983, is an
integrated random walk — the Kalman/RTS smoother of the same state model gives
the same mean):

* along a road, the grade changes as a random walk: ``z''`` is white noise of
  intensity ``q`` (1/m); over a distance ``d`` the grade wanders by about
  ``sqrt(q d)``;
* each DEM sample ``y_i`` is the road's elevation plus an error of ``sigma_i``
  (the DEM's vertical error, plus its horizontal error times the terrain's
  slope); samples a fraction of a cell apart share their error, so each
  sample counts for ``spacing / cell`` of an independent observation.

Minimising ``sum w_i (y_i - z(s_i))² + (1/q) ∫ z''² ds`` over piecewise-linear
profiles on *knots* (every node of the road, and regular knots between them)
is one sparse symmetric system for all roads at once. The smoothing length
is ``ell = (sigma² cell / q) ** 0.25``.

Every node is one unknown shared by all roads that meet there (a junction
has one elevation), and second differences also span the junctions where one
chain continues another (``joints``); bridges and tunnels have no knots inside, so they run
straight between their end nodes. The matrix is block-banded (one band per
road) with couplings at junctions: it is factorised once by SuperLU with a
symmetric minimum-degree ordering. The uncertainty: ``draws`` posterior
draws of the profile error, ``A⁻¹ Mᵀ s`` where ``M`` is the whitened design
(``A = MᵀM``) and ``s`` random signs (perturbation sampling, Papandreou &
Yuille 2010, "Gaussian sampling by local perturbations": the draws have
covariance ``A⁻¹``, the posterior covariance; signs instead of Gaussian noise
keep the covariance, which is all the draws are used for).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import splu

__all__: list[str] = []

#: posterior draws used for the uncertainty of grades (fixed seed: reproducible)
N_DRAWS = 16
_SEED = 20030901


@dataclass
class Fit:
    """Fitted profile on knot slots (global axis ``G``) and posterior error draws."""

    G: np.ndarray  # slot -> global position along its chain (sorted)
    z: np.ndarray  # slot -> fitted elevation (m)
    draws: np.ndarray  # slot x N_DRAWS posterior error draws (m), float32
    node_z: np.ndarray  # node unknown -> fitted elevation (m)


def knots(
    c_G0: np.ndarray,
    c_len: np.ndarray,
    G_nodes: np.ndarray,
    ch_nodes: np.ndarray,
    id_nodes: np.ndarray,
    struct_lo: np.ndarray,
    struct_hi: np.ndarray,
    step: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Knot slots of every chain: its nodes and regular knots ``step`` apart.

    A node is one unknown wherever it appears (``id_nodes``, ``0..n-1``): roads
    meeting at a junction share it. Regular knots closer than ``step / 2`` to
    a node, or on a bridge/tunnel (``[struct_lo, struct_hi]`` on the global
    axis), are left out; each is its own unknown (numbered after the nodes).
    Returns slot positions, chains and unknown ids, sorted by position.
    """
    order = np.lexsort((G_nodes, ch_nodes))
    gn, cn, idn = G_nodes[order], ch_nodes[order], id_nodes[order]
    keep = np.r_[True, (gn[1:] != gn[:-1]) | (cn[1:] != cn[:-1])]
    gn, cn, idn = gn[keep], cn[keep], idn[keep]
    nreg = np.maximum(np.ceil(c_len / step).astype(np.int64) - 1, 0)
    rc = np.repeat(np.arange(len(c_len)), nreg)
    j = np.arange(len(rc)) - np.repeat(np.cumsum(nreg) - nreg, nreg) + 1
    gr = c_G0[rc] + j * step
    i = np.searchsorted(gn, gr)
    last = len(gn) - 1
    near = np.minimum(
        np.abs(gr - gn[np.clip(i - 1, 0, last)]), np.abs(gn[np.clip(i, 0, last)] - gr)
    )
    keep = near >= 0.5 * step
    if len(struct_lo):
        o = np.argsort(struct_lo)
        lo, hi = struct_lo[o], np.maximum.accumulate(struct_hi[o])
        k = np.searchsorted(lo, gr, side="right") - 1
        keep &= ~((k >= 0) & (gr <= hi[np.maximum(k, 0)]))
    n_nodes = int(id_nodes.max()) + 1 if len(id_nodes) else 0
    G = np.r_[gn, gr[keep]]
    C = np.r_[cn, rc[keep]]
    ids = np.r_[idn, n_nodes + np.arange(int(keep.sum()))]
    order = np.argsort(G, kind="stable")
    return G[order], C[order], ids[order]


def _observation_matrix(KG, ids, n, G_obs, ch_obs, lo_k, hi_k):
    """Rows: each observation as linear interpolation between its two knot slots."""
    k = np.searchsorted(KG, G_obs, side="right") - 1
    k = np.clip(k, lo_k[ch_obs], np.maximum(hi_k[ch_obs] - 1, lo_k[ch_obs]))
    k1 = np.minimum(k + 1, hi_k[ch_obs])
    span = KG[k1] - KG[k]
    t = np.divide(G_obs - KG[k], span, out=np.zeros_like(G_obs), where=span > 0)
    t = np.clip(t, 0.0, 1.0)
    m = len(G_obs)
    return np.r_[np.arange(m), np.arange(m)], np.r_[ids[k], ids[k1]], np.r_[1 - t, t]


def _penalty(KG, KC, ids, lo_k, hi_k, min_gap, *, floor_m: float = 1.0):
    """Second divided differences at every slot, over neighbours at least ``min_gap`` away.

    Each slot's stencil reaches past slots closer than ``min_gap`` (a cluster
    of junction nodes, a short bridge) to the nearest slots on its chain at
    least that far on each side, so close knots neither blow up the divided
    differences nor escape the smoothness prior; where the chain ends sooner
    (a roundabout, a short link) the stencil takes the chain's end if it is
    at least ``floor_m`` away. A row weighs the length the slot stands for
    (half the distance between its adjacent slots), so the rows add up to
    ``∫ z''² ds``. The chain's end slots get no row: natural ends.
    """
    ns = len(KG)
    k = np.arange(ns)
    first, last = lo_k[KC], hi_k[KC]
    lft = np.searchsorted(KG, KG - min_gap, side="right") - 1
    rgt = np.searchsorted(KG, KG + min_gap, side="left")
    lft = np.where(lft >= first, lft, first)  # past the chain's start: its start
    rgt = np.where(rgt <= last, rgt, last)
    ok = (KG - KG[lft] >= floor_m) & (KG[rgt] - KG >= floor_m)
    prev = np.where(k > first, KG[np.maximum(k - 1, 0)], KG)
    nxt = np.where(k < last, KG[np.minimum(k + 1, ns - 1)], KG)
    mid, lft, rgt = k[ok], lft[ok], rgt[ok]
    h0 = KG[mid] - KG[lft]
    h1 = KG[rgt] - KG[mid]
    a = 2 / (h0 * (h0 + h1))
    b = -2 / (h0 * h1)
    c = 2 / (h1 * (h0 + h1))
    r = np.arange(len(mid))
    cols = np.r_[ids[lft], ids[mid], ids[rgt]]
    return (np.r_[r, r, r], cols, np.r_[a, b, c]), 0.5 * (nxt - prev)[ok]


def _joint_penalty(KG, ids, lo_k, hi_k, KC, gap, ga, fa, gb, fb, *, floor_m: float = 1.0):
    """Second differences across junctions where one road's chain continues another's.

    For each pair, the node (one unknown) and the knots at least ``gap``
    into each chain; rows as in :func:`_penalty`, weighing the length between.
    """

    def inward(g, fwd):
        k = np.clip(np.searchsorted(KG, g), 0, len(KG) - 1)  # the node's slot (exact)
        first, last = lo_k[KC[k]], hi_k[KC[k]]
        nb_f = np.minimum(np.searchsorted(KG, g + gap, side="left"), last)
        nb_b = np.maximum(np.searchsorted(KG, g - gap, side="right") - 1, first)
        nb = np.where(fwd, nb_f, nb_b)
        return k, nb, np.abs(KG[nb] - KG[k])

    ka, na, h0 = inward(ga, fa)
    kb, nb, h1 = inward(gb, fb)
    ok = (h0 >= floor_m) & (h1 >= floor_m) & (ids[ka] == ids[kb])
    ka, na, nb, h0, h1 = ka[ok], na[ok], nb[ok], h0[ok], h1[ok]
    a = 2 / (h0 * (h0 + h1))
    b = -2 / (h0 * h1)
    c = 2 / (h1 * (h0 + h1))
    r = np.arange(len(ka))
    cols = np.r_[ids[na], ids[ka], ids[nb]]
    return (np.r_[r, r, r], cols, np.r_[a, b, c]), 0.5 * (h0 + h1)


def fit(
    KG: np.ndarray,
    KC: np.ndarray,
    ids: np.ndarray,
    prior_z: np.ndarray,
    G_obs: np.ndarray,
    ch_obs: np.ndarray,
    y: np.ndarray,
    w: np.ndarray,
    *,
    q: float,
    gap: float,
    joints: tuple[np.ndarray, ...] | None = None,
    draws: int = N_DRAWS,
    prior_sd: float = 100.0,
) -> Fit:
    """Penalised least-squares profile of all chains at once, and posterior error draws.

    ``w`` are observation weights (1/m²), ``q`` the grade-change intensity
    (1/m), ``gap`` the smallest knot spacing a second difference spans (m). ``prior_z`` (per node unknown) is a weak prior (``prior_sd``
    metres) that only matters where nothing else is known (a lone bridge).
    Posterior draws use the perturbation trick (Papandreou & Yuille 2010):
    ``x = A⁻¹ r`` with ``Cov(r) = A`` has covariance ``A⁻¹``; ``A`` is
    factorised once (SuperLU, symmetric mode) for the mean and all draws.
    """
    n_nodes = len(prior_z)
    n = int(ids.max()) + 1 if len(ids) else n_nodes
    n = max(n, n_nodes)
    ns = len(KG)
    first = np.r_[True, KC[1:] != KC[:-1]]
    lastf = np.r_[first[1:], True]
    nch = int(KC.max()) + 1 if ns else 0
    lo_k = np.zeros(nch, dtype=np.int64)
    hi_k = np.zeros(nch, dtype=np.int64)
    lo_k[KC[first]] = np.flatnonzero(first)
    hi_k[KC[lastf]] = np.flatnonzero(lastf)
    # the whitened design M (observations, penalty rows, weak prior): A = MᵀM
    br, bc, bv = _observation_matrix(KG, ids, n, G_obs, ch_obs, lo_k, hi_k)
    (pr, pc, pv), c = _penalty(KG, KC, ids, lo_k, hi_k, gap)
    if joints is not None and len(joints[0]):
        (jr, jc, jv), jw = _joint_penalty(KG, ids, lo_k, hi_k, KC, gap, *joints)
        pr, pc, pv, c = np.r_[pr, jr + len(c)], np.r_[pc, jc], np.r_[pv, jv], np.r_[c, jw]
    ridge = np.r_[np.full(n_nodes, prior_sd**-2), np.full(n - n_nodes, 1e-9)]
    prior = np.r_[np.nan_to_num(prior_z), np.zeros(n - n_nodes)]
    sw, sc, sr = np.sqrt(w), np.sqrt(c / q), np.sqrt(ridge)
    m_obs, m_pen = len(w), len(c)
    M = sp.csr_matrix(
        (
            np.r_[bv * sw[br], pv * sc[pr], sr],
            (np.r_[br, pr + m_obs, np.arange(n) + m_obs + m_pen], np.r_[bc, pc, np.arange(n)]),
        ),
        shape=(m_obs + m_pen + n, n),
    )
    Mt = M.T.tocsr()
    A = (Mt @ M).tocsc()
    rhs = Mt @ np.r_[sw * y, np.zeros(m_pen), sr * prior]
    lu = splu(A, permc_spec="MMD_AT_PLUS_A", diag_pivot_thresh=0.0, options={"SymmetricMode": True})
    # draws: r = Mᵀ s with random signs s has covariance MᵀM = A (the same second
    # moments as Gaussian noise, which is all the draws are used for, and cheaper to
    # generate); one solve for the mean and all draws
    rows = M.shape[0]
    bits = np.frombuffer(np.random.default_rng(_SEED).bytes(-(-rows * draws // 8)), np.uint8)
    signs = np.unpackbits(bits)[: rows * draws].reshape(rows, draws).astype(np.float64) * 2 - 1
    sol = lu.solve(np.column_stack([rhs, Mt @ signs]))
    x, X = sol[:, 0], sol[:, 1:]
    return Fit(KG, x[ids], X[ids].astype(np.float32), x[:n_nodes])
