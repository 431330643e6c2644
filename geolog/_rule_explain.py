"""What rules do: :func:`explain` tables, per-rule masks and why an edge is forbidden.

Public through :mod:`geolog.rules`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ._rule_eval import _compute, _Outcome, _resolve_profile
from ._ruleset import RuleSet, load_rules
from .profiles import Profile

if TYPE_CHECKING:
    from .network import Network


_REASONS = {
    "highway": "highway in forbid_highways",
    "access": "access tag forbids",
    "maxweight": "maxweight below vehicle weight",
    "climb": "max_grade above climbable grade",
    "descent": "descent steeper than allowed",
}


def _limits(prof: Profile) -> dict[str, float | None]:
    """The profile's limit behind each restriction that has one (grades, tonnes)."""
    return {"climb": prof.max_grade, "descent": prof.max_descent_grade, "maxweight": prof.weight_t}


def _explain_frame(net: Network, prof: Profile, out: _Outcome) -> pd.DataFrame:
    km = net.edges["length_m"].to_numpy(dtype=float) / 1000.0
    rows = []
    limits = _limits(prof)
    for i, (reason, mask) in enumerate(out.base["forbidden"].items()):
        cond = _REASONS[reason]
        if limits.get(reason) is not None:
            cond += f" ({limits[reason]:g})"
        rows.append(
            {
                "section": "profile",
                "index": i,
                "condition": cond,
                "action": "forbid",
                "value": 0.0,
                "edges_matched": int(mask.sum()),
                "km_affected": float(km[mask].sum()),
                "edges_forbidden": int(mask.sum()),
            }
        )
    for s, eff, zeroed in out.applied:
        rows.append(
            {
                "section": s.section,
                "index": s.index,
                "condition": "else" if s.kind == "else" else f"{s.kind} {s.condition.text}",
                "action": s.action,
                "value": s.value,
                "edges_matched": int(eff.sum()),
                "km_affected": float(km[eff].sum()),
                "edges_forbidden": int(zeroed.sum()),
            }
        )
    df = pd.DataFrame(
        rows,
        columns=[
            "section",
            "index",
            "condition",
            "action",
            "value",
            "edges_matched",
            "km_affected",
            "edges_forbidden",
        ],
    )
    blocked = (out.priority <= 0) | (out.speed_kph <= 0)
    df.attrs.update(
        {
            "profile": prof.name,
            "edges": len(out.priority),
            "forbidden_edges": int(blocked.sum()),
            "all_forbidden": bool(len(blocked) and blocked.all()),
            "maxspeed_invalid": out.base["maxspeed_invalid"],
            "distance_influence": out.distance_influence,
        }
    )
    return df


def explain(rules: Any, net: Network, *, profile: Any = None) -> pd.DataFrame:
    """Which edges each rule touches, and how many km.

    Parameters
    ----------
    rules
        Anything :func:`load_rules` accepts.
    net
        The network (with terrain columns if the rules read them).
    profile
        Profile name/path/dict; default: the rules' ``profile`` or ``"car"``.

    Returns
    -------
    pandas.DataFrame
        One row per profile restriction (``section == "profile"``) and per
        rule: ``section``, ``index``, ``condition``, ``action``, ``value``,
        ``edges_matched`` (edges the rule took effect on — for ``else_if`` /
        ``else`` only those not matched earlier in the chain), ``km_affected``
        (their length, km) and ``edges_forbidden`` (edges it brought to 0).
        ``df.attrs`` holds totals: ``edges``, ``forbidden_edges``,
        ``all_forbidden``, ``maxspeed_invalid``, ``profile``.

    Examples
    --------
    >>> import geolog
    >>> net = geolog.read_osm(geolog.data.path("andorra"))
    >>> table = geolog.explain({"speed": [{"if": "surface == 'gravel'", "limit_to": 30}]}, net)
    >>> list(table.columns)[:4]
    ['section', 'index', 'condition', 'action']
    """
    rs = load_rules(rules)
    prof = _resolve_profile(profile, rs)
    return _explain_frame(net, prof, _compute(net, prof, rs))


def rule_masks(rules: Any, net: Network, *, profile: Any = None) -> pd.DataFrame:
    """Per edge, which rule took effect on it.

    Parameters
    ----------
    rules
        Anything :func:`load_rules` accepts.
    net
        The network.
    profile
        As in :func:`explain`.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``net.edges``, one boolean column per rule, named by its
        label (``"priority[0]"``); ``df.attrs["forbids"]`` lists the labels of
        rules that bring an edge's priority or speed to 0.
    """
    rs = load_rules(rules)
    prof = _resolve_profile(profile, rs)
    out = _compute(net, prof, rs)
    df = pd.DataFrame({s.label: eff for s, eff, _ in out.applied}, index=net.edges.index)
    df.attrs["forbids"] = [s.label for s, _, zeroed in out.applied if zeroed.any()]
    return df


def edge_reasons(net: Network, rows: Any, *, profile: Any = None, rules: Any = None) -> list[str]:
    """Why edges are forbidden under a profile and rules ('' where usable).

    Parameters
    ----------
    net
        The network (raw, or with the same profile already applied).
    rows
        Edge row positions (``iloc``) to explain.
    profile, rules
        As in :func:`apply`.

    Returns
    -------
    list of str
        One string per row, e.g. ``"profile 'car': access tag forbids"`` or
        ``"rule priority[0] (max_grade > 0.1)"``; several reasons are joined
        with ``"; "``.
    """
    rs = load_rules(rules)
    prof = _resolve_profile(profile, rs)
    out = _compute(net, prof, rs)
    rows = np.asarray(rows, dtype=np.int64)
    limits = _limits(prof)
    labels, masks = [], []
    for reason, mask in out.base["forbidden"].items():
        lim = limits.get(reason)
        labels.append(
            f"profile {prof.name!r}: {_REASONS[reason]}"
            + (f" ({lim:g})" if lim is not None else "")
        )
        masks.append(mask[rows])
    labels.append(f"profile {prof.name!r}: speed 0 (its surface / smoothness / track tables)")
    masks.append(out.base["speed_kph"][rows] <= 0)
    for s, _eff, zeroed in out.applied:
        cond = "else" if s.kind == "else" else s.condition.text
        labels.append(f"rule {s.label} ({cond})")
        masks.append(zeroed[rows])
    hit = np.column_stack(masks) if masks else np.zeros((len(rows), 0), dtype=bool)
    out = [""] * len(rows)
    for i in np.flatnonzero(hit.any(axis=1)):  # only the forbidden rows need words
        out[i] = "; ".join(labels[k] for k in np.flatnonzero(hit[i]))
    return out


def _blocked_message(net: Network, prof: Profile, out: _Outcome, rs: RuleSet) -> str:
    table = _explain_frame(net, prof, out)
    culprits = table[table["edges_forbidden"] > 0].sort_values("edges_forbidden", ascending=False)
    parts = []
    for _, r in culprits.head(4).iterrows():
        where = "profile" if r["section"] == "profile" else f"{r['section']}[{r['index']}]"
        parts.append(f"{where} '{r['condition']}' forbids {r['edges_forbidden']:,}")
    detail = "; ".join(parts) if parts else "every edge ends with priority or speed 0"
    return (
        f"rules {rs.source} with profile {prof.name!r} forbid every edge of the network "
        f"({len(out.priority):,} edges): {detail}. Loosen these rules (see geolog.explain)."
    )
