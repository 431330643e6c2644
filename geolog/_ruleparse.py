"""Safe parsing and vectorised evaluation of rule conditions.

A condition is text such as ``max_grade > 0.12 and highway in ("track", "path")``.
It is parsed with ``ast.parse(mode="eval")`` and every node is checked against
a whitelist *before* anything is evaluated:

* ``Expression``; ``BoolOp`` with ``and`` / ``or``; ``UnaryOp`` ``not`` and
  unary ``-`` / ``+``;
* ``Compare`` with ``==, !=, <, <=, >, >=, in, not in`` (chains allowed);
  ``in`` / ``not in`` need a tuple or list of literals on the right;
* ``Name`` — an edge column (``true`` / ``false`` are literals);
* ``Constant`` — str, int, float, bool, None; tuples/lists of those;
* ``Call`` only to ``in_area`` with one area name (bare or quoted).

Everything else (attribute access, subscripts, other calls, lambdas,
comprehensions, f-strings, walrus, arithmetic …) raises :class:`RuleError`.
Evaluation walks the checked tree with numpy/pandas operations over whole
columns; nothing is ever passed to ``eval`` / ``exec`` / ``compile``.

Missing values compare cleanly: ``==``, ``<``, ``in`` … are False on a missing
value, ``!=`` and ``not in`` are True.
"""

from __future__ import annotations

import ast
import difflib
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .errors import RuleError

__all__ = ["Condition", "parse_condition", "evaluate", "MAX_CONDITION_CHARS"]

#: Longest condition text accepted (characters).
MAX_CONDITION_CHARS = 2000

_LITERAL_NAMES = {"true": True, "false": False, "True": True, "False": False}
_CMP = {
    ast.Eq: "==",
    ast.NotEq: "!=",
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
    ast.In: "in",
    ast.NotIn: "not in",
}
_ALLOWED_HELP = (
    "allowed: column names, numbers, quoted text, true/false/None, comparisons "
    "(== != < <= > >= in, not in), and/or/not, parentheses, in_area(name)"
)


@dataclass(frozen=True)
class Condition:
    """A parsed, whitelisted condition.

    Attributes
    ----------
    text
        The condition as written.
    tree
        The checked ``ast.Expression`` (``None`` for the always-true ``else``).
    names
        Column names it reads, with their 1-based column positions.
    areas
        Area names it passes to ``in_area``, with positions.
    """

    text: str
    tree: ast.Expression | None
    names: tuple[tuple[str, int], ...]
    areas: tuple[tuple[str, int], ...]


def _err(label: str, text: str, node: ast.AST | None, what: str) -> RuleError:
    pos = (
        f" at column {node.col_offset + 1}"
        if node is not None and hasattr(node, "col_offset")
        else ""
    )
    return RuleError(f"{label}: condition {text!r}{pos}: {what}")


def parse_condition(text: Any, *, label: str) -> Condition:
    """Parse and whitelist-check one condition.

    Parameters
    ----------
    text
        The condition (``str``; a YAML ``true``/``false`` also works).
    label
        Where the rule sits, for messages (``"priority[2]"``).

    Raises
    ------
    RuleError
        Bad syntax or any construct outside the whitelist; nothing is run.
    """
    if isinstance(text, bool):
        text = "true" if text else "false"
    if not isinstance(text, str):
        raise RuleError(
            f"{label}: the condition must be text such as \"highway == 'track'\", got {text!r}"
        )
    if len(text) > MAX_CONDITION_CHARS:
        raise RuleError(
            f"{label}: condition is {len(text)} characters long; the limit is {MAX_CONDITION_CHARS}"
        )
    if not text.strip():
        raise RuleError(
            f"{label}: the condition is empty; write one such as \"highway == 'track'\""
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SyntaxWarning)  # "0and": ours to judge, not to print
            tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as err:
        col = f" at column {err.offset}" if err.offset else ""
        raise RuleError(
            f"{label}: condition {text!r} is not valid{col}: {err.msg}. {_ALLOWED_HELP}"
        ) from None
    except (ValueError, RecursionError, MemoryError, OverflowError) as err:
        raise RuleError(
            f"{label}: condition {text!r} cannot be parsed ({type(err).__name__}); {_ALLOWED_HELP}"
        ) from None
    names: list[tuple[str, int]] = []
    areas: list[tuple[str, int]] = []
    try:
        _check(tree.body, label, text, names, areas)
    except RecursionError:
        raise RuleError(f"{label}: condition {text!r} is nested too deeply") from None
    return Condition(text, tree, tuple(names), tuple(areas))


def _is_literal(node: ast.AST) -> bool:
    if isinstance(node, ast.Constant):
        return node.value is None or type(node.value) in (str, int, float, bool)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        return isinstance(node.operand, ast.Constant) and type(node.operand.value) in (int, float)
    if isinstance(node, ast.Name):
        return node.id in _LITERAL_NAMES
    return False


#: Friendly names of the Python syntax a rule may not use.
_NOT_ALLOWED = {
    "Attribute": "attribute access (a.b)",
    "Subscript": "subscripts (a[b])",
    "Lambda": "lambda",
    "BinOp": "arithmetic",
    "JoinedStr": "f-strings",
    "NamedExpr": "':=' assignment",
    "ListComp": "comprehensions",
    "SetComp": "comprehensions",
    "DictComp": "comprehensions",
    "GeneratorExp": "comprehensions",
    "IfExp": "'x if c else y'",
    "Tuple": "a tuple here",
    "List": "a list here",
    "Set": "a set",
    "Dict": "a dict",
    "Starred": "'*'",
    "Await": "await",
    "Yield": "yield",
    "YieldFrom": "yield",
    "Slice": "slices",
}


def _check_compare(node: ast.Compare, label: str, text: str, names: list, areas: list) -> None:
    """Comparisons: no 'is'; 'in' / 'not in' only with a list of literals on the right."""
    operands = [node.left, *node.comparators]
    for i, op in enumerate(node.ops):
        if type(op) not in _CMP:
            raise _err(
                label,
                text,
                node,
                f"comparison {type(op).__name__} is not allowed (no 'is'); use == or !=",
            )
        if isinstance(op, ast.In | ast.NotIn):
            right = operands[i + 1]
            if not isinstance(right, ast.Tuple | ast.List) or not all(
                _is_literal(e) for e in right.elts
            ):
                raise _err(
                    label,
                    text,
                    right,
                    f'\'{_CMP[type(op)]}\' needs a list of literals on the right, e.g. highway in ("track", "path")',
                )
    for i, operand in enumerate(operands):
        if isinstance(operand, ast.Tuple | ast.List):
            # only as the right side of in / not in (checked above)
            if i == 0 or not isinstance(node.ops[i - 1], ast.In | ast.NotIn):
                raise _err(label, text, operand, "a list can only follow 'in' / 'not in'")
            continue
        _check(operand, label, text, names, areas)


def _check_call(node: ast.Call, label: str, text: str, areas: list) -> None:
    """Calls: only ``in_area(name)``; the area name is recorded in ``areas``."""
    if isinstance(node.func, ast.Attribute):
        raise _err(
            label,
            text,
            node,
            f"attribute access and method calls are not allowed; {_ALLOWED_HELP}",
        )
    if not (isinstance(node.func, ast.Name) and node.func.id == "in_area"):
        raise _err(
            label,
            text,
            node,
            f"function calls are not allowed except in_area(name); {_ALLOWED_HELP}",
        )
    if node.keywords or len(node.args) != 1:
        raise _err(
            label, text, node, "in_area takes exactly one area name, e.g. in_area(flood_zone)"
        )
    arg = node.args[0]
    if isinstance(arg, ast.Name):
        areas.append((arg.id, arg.col_offset + 1))
    elif isinstance(arg, ast.Constant) and isinstance(arg.value, str):
        areas.append((arg.value, arg.col_offset + 1))
    else:
        raise _err(
            label,
            text,
            arg,
            "in_area takes an area name (bare or quoted), e.g. in_area(flood_zone)",
        )


def _check(node: ast.AST, label: str, text: str, names: list, areas: list) -> None:
    """Raise RuleError unless ``node`` (recursively) is in the whitelist."""
    if isinstance(node, ast.BoolOp):
        if not isinstance(node.op, ast.And | ast.Or):  # pragma: no cover - only And/Or exist
            raise _err(label, text, node, "only 'and' / 'or' are allowed")
        for v in node.values:
            _check(v, label, text, names, areas)
        return
    if isinstance(node, ast.UnaryOp):
        if not isinstance(node.op, ast.Not | ast.USub | ast.UAdd):
            raise _err(
                label,
                text,
                node,
                f"operator {type(node.op).__name__} is not allowed; {_ALLOWED_HELP}",
            )
        _check(node.operand, label, text, names, areas)
        return
    if isinstance(node, ast.Compare):
        _check_compare(node, label, text, names, areas)
        return
    if isinstance(node, ast.Call):
        _check_call(node, label, text, areas)
        return
    if isinstance(node, ast.Name):
        if node.id not in _LITERAL_NAMES:
            if node.id.startswith("__"):
                raise _err(label, text, node, f"name {node.id!r} is not allowed")
            names.append((node.id, node.col_offset + 1))
        return
    if isinstance(node, ast.Constant):
        if node.value is not None and type(node.value) not in (str, int, float, bool):
            raise _err(
                label,
                text,
                node,
                f"literal {node.value!r} is not allowed; use numbers, quoted text, true/false or None",
            )
        return
    what = type(node).__name__
    friendly = _NOT_ALLOWED.get(what, what)
    raise _err(label, text, node, f"{friendly} is not allowed; {_ALLOWED_HELP}")


# ----------------------------------------------------------------------------- evaluation


@dataclass
class _Col:
    values: np.ndarray  # float64 (num), bool (bool) or object (text)
    kind: str  # "num" | "bool" | "text"
    name: str


@dataclass
class _Const:
    value: Any


def column_kind(series: pd.Series) -> str:
    """'bool', 'num' or 'text' for a frame column."""
    dt = series.dtype
    if pd.api.types.is_bool_dtype(dt):
        return "bool"
    if pd.api.types.is_numeric_dtype(dt):
        return "num"
    return "text"


def closest(name: str, candidates: list[str], n: int = 3) -> list[str]:
    """The closest valid names (difflib, then case-insensitive prefix)."""
    out = difflib.get_close_matches(name, candidates, n=n, cutoff=0.6)
    if not out:
        low = name.lower()
        out = [c for c in candidates if c.lower().startswith(low[:3])][:n]
    return out


_FALSY_TEXT = {"no", "false", "0", "none", ""}


def _to_mask(v: _Col | _Const, n: int, err: Callable[[str], RuleError]) -> np.ndarray:
    if isinstance(v, _Const):
        if isinstance(v.value, bool):
            return np.full(n, v.value)
        raise err(f"the literal {v.value!r} is not a yes/no test; compare a column with it")
    if v.kind == "bool":
        return v.values
    if v.kind == "text":
        # OSM truthiness: tagged and not "no"/"false"/"0"
        s = pd.Series(v.values, dtype=object)
        return (s.notna() & ~s.astype(str).str.lower().isin(_FALSY_TEXT)).to_numpy(dtype=bool)
    raise err(f"column {v.name!r} holds numbers, not yes/no; compare it, e.g. {v.name} > 0")


def _as_numeric(v: _Col) -> np.ndarray:
    if v.kind == "num":
        return v.values
    if v.kind == "bool":
        return v.values.astype(float)
    return pd.to_numeric(pd.Series(v.values, dtype=object), errors="coerce").to_numpy(dtype=float)


def _num_const(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _compare(
    op: str, a: _Col | _Const, b: _Col | _Const, n: int, err: Callable[[str], RuleError]
) -> np.ndarray:
    import operator

    fn = {
        "==": operator.eq,
        "!=": operator.ne,
        "<": operator.lt,
        "<=": operator.le,
        ">": operator.gt,
        ">=": operator.ge,
    }[op]
    if isinstance(a, _Const) and isinstance(b, _Const):
        try:
            return np.full(n, bool(fn(a.value, b.value)))
        except TypeError:
            raise err(f"cannot compare {a.value!r} {op} {b.value!r}") from None
    if isinstance(a, _Const):  # put the column on the left
        flip = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}
        return _compare(flip.get(op, op), b, a, n, err)
    # a is a column
    if isinstance(b, _Const):
        val = b.value
        if val is None:
            if op not in ("==", "!="):
                raise err(f"cannot order {a.name!r} against None; use == None or != None")
            missing = (
                pd.isna(pd.Series(a.values, dtype=object)).to_numpy()
                if a.kind == "text"
                else (np.isnan(a.values) if a.kind == "num" else np.zeros(n, bool))
            )
            return missing if op == "==" else ~missing
        if isinstance(val, str):
            if a.kind != "text":
                raise err(
                    f"column {a.name!r} holds {'numbers' if a.kind == 'num' else 'true/false'}; compare it with a number, not the text {val!r}"
                )
            s = pd.Series(a.values, dtype=object)
            present = s.notna().to_numpy()
            out = np.zeros(n, dtype=bool)
            if present.any():
                vals = s[present].astype(str).to_numpy(dtype=object)
                out[present] = fn(vals, val).astype(bool)
            return out | ~present if op == "!=" else out
        # number or bool literal
        x = _as_numeric(a)
        with np.errstate(invalid="ignore"):
            res = fn(x, float(val))
        return np.asarray(res, dtype=bool)
    # column vs column
    if a.kind == "text" and b.kind == "text":
        sa = pd.Series(a.values, dtype=object)
        sb = pd.Series(b.values, dtype=object)
        both = (sa.notna() & sb.notna()).to_numpy()
        out = np.zeros(n, dtype=bool)
        if both.any():
            out[both] = fn(
                sa[both].astype(str).to_numpy(dtype=object),
                sb[both].astype(str).to_numpy(dtype=object),
            ).astype(bool)
        return out | ~both if op == "!=" else out
    xa, xb = _as_numeric(a), _as_numeric(b)
    with np.errstate(invalid="ignore"):
        return np.asarray(fn(xa, xb), dtype=bool)


def _isin(
    a: _Col | _Const, items: list, negate: bool, n: int, err: Callable[[str], RuleError]
) -> np.ndarray:
    if isinstance(a, _Const):
        try:
            hit = a.value in items
        except TypeError:  # pragma: no cover - literals are hashable/comparable
            hit = False
        return np.full(n, hit != negate)
    strs = [i for i in items if isinstance(i, str)]
    nums = [float(i) for i in items if _num_const(i) or isinstance(i, bool)]
    if a.kind == "text":
        s = pd.Series(a.values, dtype=object)
        hit = s.isin(strs).to_numpy(dtype=bool) if strs else np.zeros(n, bool)
        if nums:
            x = _as_numeric(a)
            hit |= np.isin(x, nums)
        if None in items:
            hit |= s.isna().to_numpy()
    else:
        if strs:
            raise err(
                f"column {a.name!r} holds {'numbers' if a.kind == 'num' else 'true/false'}; its list must hold numbers, not {strs[0]!r}"
            )
        x = _as_numeric(a)
        hit = np.isin(x, nums)
        if None in items and a.kind == "num":
            hit |= np.isnan(x)
    return ~hit if negate else hit


def _literal_value(node: ast.AST) -> Any:
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        return _LITERAL_NAMES[node.id]
    # unary minus/plus on a number (checked by _is_literal)
    v = node.operand.value
    return -v if isinstance(node.op, ast.USub) else v


def evaluate(
    cond: Condition,
    columns: Callable[[str], _Col],
    area_mask: Callable[[str], np.ndarray],
    n: int,
    *,
    label: str,
) -> np.ndarray:
    """Evaluate a checked condition to a boolean mask over ``n`` edges.

    Parameters
    ----------
    cond
        From :func:`parse_condition`.
    columns
        Returns the :class:`_Col` for a column name (names were validated).
    area_mask
        Returns the boolean in-area mask for an area name.
    n
        Number of edges.
    label
        Rule position for messages.

    Raises
    ------
    RuleError
        Type mismatches (text column compared with a number-only operator …).
    """
    if cond.tree is None:
        return np.ones(n, dtype=bool)

    def err(what: str) -> RuleError:
        return RuleError(f"{label}: condition {cond.text!r}: {what}")

    def value(node: ast.AST) -> _Col | _Const:
        if _is_literal(node):
            return _Const(_literal_value(node))
        if isinstance(node, ast.Name):
            return columns(node.id)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
            inner = value(node.operand)
            if isinstance(inner, _Const):
                if not _num_const(inner.value):
                    raise err(f"cannot negate {inner.value!r}")
                return _Const(-inner.value if isinstance(node.op, ast.USub) else inner.value)
            if inner.kind != "num":
                raise err(f"cannot negate column {inner.name!r} (it holds {inner.kind})")
            return _Col(
                -inner.values if isinstance(node.op, ast.USub) else inner.values, "num", inner.name
            )
        return _Col(mask(node), "bool", ast.unparse(node))

    def mask(node: ast.AST) -> np.ndarray:
        if isinstance(node, ast.BoolOp):
            parts = [mask(v) for v in node.values]
            out = parts[0].copy()
            for p in parts[1:]:
                if isinstance(node.op, ast.And):
                    out &= p
                else:
                    out |= p
            return out
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return ~mask(node.operand)
        if isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
            out = np.ones(n, dtype=bool)
            for i, op in enumerate(node.ops):
                sym = _CMP[type(op)]
                left = value(operands[i])
                if sym in ("in", "not in"):
                    items = [_literal_value(e) for e in operands[i + 1].elts]
                    out &= _isin(left, items, sym == "not in", n, err)
                else:
                    out &= _compare(sym, left, value(operands[i + 1]), n, err)
            return out
        if isinstance(node, ast.Call):
            arg = node.args[0]
            name = arg.id if isinstance(arg, ast.Name) else arg.value
            return area_mask(name)
        return _to_mask(value(node), n, err)

    try:
        result = mask(cond.tree.body)
    except RecursionError:
        raise err("nested too deeply") from None
    except (TypeError, ValueError) as e:
        if isinstance(e, RuleError):
            raise
        raise err(f"cannot be evaluated ({e})") from None
    return np.asarray(result, dtype=bool)
