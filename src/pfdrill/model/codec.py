"""Turn frozen-dataclass records into JSON-able data and back, driven by their type hints.

Drill records nest deeply (a result holds phases, a timeline, evidence...);
writing ``to_dict``/``from_dict`` by hand for each would be a few hundred
lines of copy-paste where one forgotten field silently drops evidence. The
codec covers exactly the shapes records use: dataclasses, enums, ``tuple[X, ...]``,
fixed tuples, ``dict[str, X]``, ``X | None``, ``Literal``-free scalars and ``Any``.

Records inherit :class:`Record` to get ``to_dict``/``from_dict`` methods.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import types
import typing
from typing import Any, Self, TypeVar

T = TypeVar("T")

_SCALARS = (str, int, float, bool)


def encode(value: Any) -> Any:
    """A JSON-able copy of ``value`` (dataclass → dict, enum → value, tuple → list)."""
    if isinstance(value, enum.Enum):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (tuple, list)):
        return [encode(v) for v in value]
    if isinstance(value, dict):
        return {str(k): encode(v) for k, v in value.items()}
    return value


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def decode(tp: Any, data: Any) -> Any:
    """Rebuild a value of type ``tp`` from what :func:`encode` produced."""
    if tp is Any or tp is object:
        return data
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(tp)
        if data is None and type(None) in args:
            return None
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return decode(arg, data)
            except (TypeError, ValueError, KeyError) as exc:
                errors.append(str(exc))
        raise ValueError(f"{data!r} matches none of {tp}: {'; '.join(errors)}")
    if origin is tuple:
        args = typing.get_args(tp)
        if not isinstance(data, (list, tuple)):
            raise TypeError(f"expected a list for {tp}, got {type(data).__name__}")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(decode(args[0], v) for v in data)
        if len(args) != len(data):
            raise ValueError(f"expected {len(args)} items for {tp}, got {len(data)}")
        return tuple(decode(a, v) for a, v in zip(args, data, strict=True))
    if origin is dict:
        _, vt = typing.get_args(tp)
        if not isinstance(data, dict):
            raise TypeError(f"expected a mapping for {tp}, got {type(data).__name__}")
        return {str(k): decode(vt, v) for k, v in data.items()}
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return tp(data)
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        if not isinstance(data, dict):
            raise TypeError(f"expected a mapping for {tp.__name__}, got {type(data).__name__}")
        hints = _hints(tp)
        kwargs = {}
        for f in dataclasses.fields(tp):
            if f.name in data:
                kwargs[f.name] = decode(hints[f.name], data[f.name])
            elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise KeyError(f"{tp.__name__}: missing field {f.name!r}")
        return tp(**kwargs)
    if tp is float:
        if isinstance(data, bool) or not isinstance(data, (int, float)):
            raise TypeError(f"expected a number, got {data!r}")
        return float(data)
    if tp in _SCALARS:
        if not isinstance(data, tp) or (tp is int and isinstance(data, bool)):
            raise TypeError(f"expected {tp.__name__}, got {data!r}")
        return data
    raise TypeError(f"codec cannot decode type {tp!r}")


class Record:
    """Mixin for frozen dataclasses: ``to_dict``/``from_dict`` through the codec."""

    def to_dict(self) -> dict[str, Any]:
        out = encode(self)
        assert isinstance(out, dict)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        result: Self = decode(cls, data)
        return result
