"""The one reader of user YAML and JSON (rules, areas, fleets, profiles), with resource limits.

Files come from strangers as often as from colleagues, so every read is bounded:

- at most :data:`MAX_BYTES` of text, which must be UTF-8;
- at most :data:`MAX_DEPTH` levels of nesting (deeper input would exhaust the
  parser's recursion);
- at most :data:`MAX_VALUES` values once YAML aliases are expanded, so a
  500-byte "billion laughs" file fails at once instead of filling memory;
- integers fit in 64 bits (a 400-digit number is a mistake, not a capacity).

Every failure is one line naming the file, the position and what to do, raised
as the caller's :class:`~geolog.errors.GeologError` subclass.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import yaml

from .errors import GeologError, InputError

__all__ = ["MAX_BYTES", "MAX_DEPTH", "MAX_VALUES", "read_text", "parse_yaml", "parse_json"]

#: Largest YAML/JSON text accepted (bytes).
MAX_BYTES = 20 * 2**20
#: Deepest nesting of lists/mappings accepted.
MAX_DEPTH = 64
#: Most values (scalars, lists, mappings) after expanding YAML aliases.
MAX_VALUES = 200_000
_INT64 = 2**63 - 1


def read_text(path: str | os.PathLike, *, what: str, error: type[GeologError] = InputError) -> str:
    """Read a UTF-8 text file of at most :data:`MAX_BYTES`.

    Parameters
    ----------
    path
        The file.
    what
        How to name it in messages (e.g. ``"rules file"``).
    error
        The exception class to raise.
    """
    p = Path(path)
    try:
        with open(p, "rb") as fh:
            data = fh.read(MAX_BYTES + 1)
    except OSError as err:
        raise error(f"{what}: cannot read {p} ({err.strerror or err}); check the path") from err
    if len(data) > MAX_BYTES:
        raise error(f"{what}: {p} is larger than {MAX_BYTES // 2**20} MB; is it the right file?")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise error(
            f"{what}: {p} is not UTF-8 text (byte 0x{data[err.start]:02x} at offset {err.start}); "
            "save it as UTF-8"
        ) from err


class _Limit(Exception):
    """A resource limit hit while composing; turned into the caller's error."""


class _BoundedLoader(yaml.SafeLoader):
    """PyYAML's safe loader with a nesting-depth limit and 64-bit integers."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                mark = self.peek_event().start_mark
                raise _Limit(
                    f"nested deeper than {MAX_DEPTH} levels at line {mark.line + 1}; flatten it"
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_yaml_int(self, node: Any) -> int:
        digits = sum(c.isdigit() for c in str(node.value))
        value = super().construct_yaml_int(node) if digits <= 20 else None
        if value is None or abs(value) > _INT64:
            raise _Limit(
                f"integer at line {node.start_mark.line + 1} does not fit in 64 bits "
                f"({str(node.value)[:24]}…); check the number"
            )
        return value


_BoundedLoader.add_constructor("tag:yaml.org,2002:int", _BoundedLoader.construct_yaml_int)


def _expanded_size(node: Any) -> int:
    """Number of values in ``node`` with every alias expanded (memoised, so linear)."""
    sizes: dict[int, int] = {}
    stack: list[tuple[Any, bool]] = [(node, False)]
    while stack:
        n, done = stack.pop()
        if id(n) in sizes:
            continue
        if isinstance(n, yaml.ScalarNode):
            sizes[id(n)] = 1
            continue
        kids = [k for pair in n.value for k in pair] if isinstance(n, yaml.MappingNode) else n.value
        if done:
            sizes[id(n)] = 1 + sum(sizes.get(id(k), 0) for k in kids)
            if sizes[id(n)] > MAX_VALUES:
                raise _Limit(
                    f"more than {MAX_VALUES:,} values once its aliases (*name) are expanded; "
                    "write the values out or use fewer aliases"
                )
        else:
            stack.append((n, True))
            stack.extend((k, False) for k in kids if id(k) not in sizes)
    return sizes[id(node)]


def parse_yaml(text: str, *, where: str, error: type[GeologError] = InputError) -> Any:
    """Parse YAML text safely (no Python tags) within the module's limits.

    Parameters
    ----------
    text
        The YAML.
    where
        What to name in messages (file path or ``"rules text"``).
    error
        The exception class to raise.
    """
    if len(text) > MAX_BYTES:
        raise error(f"{where}: larger than {MAX_BYTES // 2**20} MB of YAML")
    loader = _BoundedLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _expanded_size(node)
        return loader.construct_document(node)
    except _Limit as err:
        raise error(f"{where}: {err}") from None
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        what = " ".join(str(err.problem or err.context or "syntax error").split())
        raise error(f"{where}: not valid YAML{at}: {what}") from None
    except yaml.YAMLError as err:
        raise error(f"{where}: not valid YAML: {' '.join(str(err).split())}") from None
    finally:
        loader.dispose()


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > 20 or abs(value := int(text)) > _INT64:
        raise _Limit(f"integer {text[:24]}… does not fit in 64 bits; check the number")
    return value


def _no_constant(name: str) -> float:
    raise _Limit(f"{name} is not a JSON number")


def parse_json(
    text: str, *, where: str, error: type[GeologError] = InputError, kind: str = "JSON"
) -> Any:
    """Parse JSON text within the module's limits (size, depth, 64-bit integers).

    Parameters
    ----------
    text
        The JSON.
    where
        What to name in messages.
    error
        The exception class to raise.
    kind
        What the text should be, for messages (``"GeoJSON"``).
    """
    if len(text) > MAX_BYTES:
        raise error(f"{where}: larger than {MAX_BYTES // 2**20} MB of {kind}")
    deep = error(f"{where}: nested deeper than {MAX_DEPTH} levels; simplify the file")
    try:
        obj = json.loads(text, parse_int=_bounded_int, parse_constant=_no_constant)
    except RecursionError:
        raise deep from None
    except _Limit as err:
        raise error(f"{where}: {err}") from None
    except json.JSONDecodeError as err:
        raise error(
            f"{where}: not valid {kind} at line {err.lineno}, column {err.colno}: {err.msg}"
        ) from None
    if _depth(obj) > MAX_DEPTH:
        raise deep
    return obj


def _depth(obj: Any) -> int:
    """Nesting depth of lists and dicts, found without recursion."""
    deepest, stack = 0, [(obj, 1)]
    while stack:
        o, d = stack.pop()
        if isinstance(o, dict | list):
            deepest = max(deepest, d)
            stack.extend((v, d + 1) for v in (o.values() if isinstance(o, dict) else o))
    return deepest
