"""The one validator of loaded documents: every field present must have the type its TypedDict
declares (``document.py``), checked once at load, so no renderer meets ``wall_s: null`` or a
string where a number belongs and each can trust the types it reads.

Presence is looser than type: a file written by an older gilwise may lack a field added since
(``NotRequired``), and a row that was never measured carries only its first block, so what must
be present is said by the caller (``document.ROW_FIELDS``); nested records (a ``Summary``, an
interpreter) must carry all their required keys. A JSON integer is a valid float; a boolean is
never a number, and NaN or Infinity is not one either.
"""

from __future__ import annotations

import functools
import math
import types
import typing
from dataclasses import dataclass
from typing import Any, Literal, NotRequired, Union, get_args, get_origin, is_typeddict


class FieldTypeError(ValueError):
    """``field`` (a dotted path: ``wall_s.median``) holds a value of the wrong type; ``found``
    says what it holds in JSON's words (``null``, ``a string 'fast'``)."""

    def __init__(self, field: str, expected: str, found: object) -> None:
        self.field, self.expected, self.found = field, expected, _json_name(found)
        super().__init__(f"field {field}: expected {expected}, found {self.found}")


def check_fields(value: dict[str, Any], record: type, path: str = "", nested: bool = False) -> None:
    """Raise :class:`FieldTypeError` for the first field of ``value`` that ``record`` (a
    TypedDict) types otherwise; ``nested``: its required keys must be present too."""
    for name, (annotation, required) in _fields(record).items():
        field = f"{path}{name}"
        if name not in value:
            if nested and required:
                raise FieldTypeError(field, _describe(annotation), _MISSING)
            continue
        _check(value[name], annotation, field)


class _Missing:
    pass


_MISSING = _Missing()


@functools.cache
def _fields(record: type) -> dict[str, tuple[Any, bool]]:
    hints = typing.get_type_hints(record, include_extras=True)
    fields = {}
    for name, annotation in hints.items():
        optional = get_origin(annotation) is NotRequired
        fields[name] = (get_args(annotation)[0] if optional else annotation, not optional)
    return fields


def _check(value: object, annotation: Any, field: str) -> None:
    if not _matches(value, annotation, field):
        raise FieldTypeError(field, _describe(annotation), value)


def _matches(value: object, annotation: Any, field: str) -> bool:
    origin = get_origin(annotation)
    if annotation is Any:
        return True
    if annotation is None or annotation is type(None):
        return value is None
    if origin in (Union, types.UnionType):
        return any(_matches(value, option, field) for option in get_args(annotation))
    if origin is Literal:
        return value in get_args(annotation)
    if origin is list:
        if not isinstance(value, list):
            return False
        (item,) = get_args(annotation)
        for index, element in enumerate(value):
            _check(element, item, f"{field}[{index}]")
        return True
    if is_typeddict(annotation):
        if not isinstance(value, dict):
            return False
        check_fields(value, annotation, f"{field}.", nested=True)
        return True
    if annotation is float:  # JSON has no NaN or Infinity (Python's json module reads them)
        return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if annotation is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, annotation)


def _describe(annotation: Any) -> str:
    origin = get_origin(annotation)
    if annotation is None or annotation is type(None):
        return "null"
    if origin in (Union, types.UnionType):
        return " or ".join(_describe(option) for option in get_args(annotation))
    if origin is Literal:
        return "one of " + ", ".join(repr(v) for v in get_args(annotation))
    if origin is list:
        return "a list"
    if is_typeddict(annotation):
        return "an object"
    return {float: "a finite number", int: "an integer", str: "a string", bool: "true or false"}.get(
        annotation, getattr(annotation, "__name__", str(annotation))
    )


def _json_name(value: object) -> str:
    if value is _MISSING:
        return "nothing (the field is missing)"
    if value is None:
        return "null"
    kind = {bool: "a boolean", int: "a number", float: "a number", str: "a string", list: "a list"}
    name = kind.get(type(value), "an object")
    shown = repr(value) if not isinstance(value, list | dict) else ""
    return f"{name} {shown[:40]}".rstrip()


def check_measured_row(row: dict[str, Any], rule: MeasuredRowRule, path: str = "") -> None:
    """A measured row (status ok, rounds done) has the figures the renderers read as numbers:
    the median of each of the rule's ``summaries`` (when present) and each of its ``numbers``;
    its ``positive`` summaries (a wall time) hold only values above zero. Nulls there are for
    rows never measured."""
    if row.get("status") != "ok" or not row.get("rounds"):
        return
    for name in rule.summaries:
        value = row.get(name)
        if isinstance(value, dict) and value.get("median") is None:
            raise FieldTypeError(f"{path}{name}.median", "a number (the row was measured)", None)
    for name in rule.numbers:
        if row.get(name) is None:
            raise FieldTypeError(f"{path}{name}", "a number (the row was measured)", row.get(name, _MISSING))
    for name in rule.positive:
        summary = row.get(name)
        if isinstance(summary, dict):
            for key, found in [("median", summary.get("median")), *enumerate(summary.get("values", []))]:
                if isinstance(found, int | float) and found <= 0:
                    where = f"{path}{name}.{key}" if key == "median" else f"{path}{name}.values[{key}]"
                    raise FieldTypeError(where, "a time above zero", found)


@dataclass(frozen=True)
class MeasuredRowRule:
    """What :func:`check_measured_row` asks of a measured row, by field name."""

    summaries: tuple[str, ...]
    numbers: tuple[str, ...]
    positive: tuple[str, ...]
