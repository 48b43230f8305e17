"""Fault parameters: each fault declares them, :meth:`ParamSpec.resolve` checks them.

Values arrive as numbers from drill files and Python, and as strings from the
CLI (``--param fraction=0.5``) and from chaostoolkit (``${var}`` substitution
yields strings), so numeric parameters accept both. Every refusal is one
line naming the fault, the parameter and what is acceptable; nothing has
touched the cluster when it is raised.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping

from pfdrill.errors import InvalidInput
from pfdrill.model.drill import ParamValue


@dataclasses.dataclass(frozen=True)
class Param:
    """One parameter: either a choice among words or a number within bounds."""

    name: str
    help: str
    default: ParamValue | None = None  # None: required unless the fault says otherwise
    choices: tuple[str, ...] = ()
    low: float | None = None
    high: float | None = None
    low_open: bool = False  # True: ``low`` itself is not allowed
    integer: bool = False

    @property
    def numeric(self) -> bool:
        return not self.choices

    def describe_range(self) -> str:
        if self.choices:
            return "one of " + ", ".join(self.choices)
        kind = "an integer" if self.integer else "a number"
        if self.low is None and self.high is None:
            return kind
        lo = "(" if self.low_open else "["
        low = "-inf" if self.low is None else f"{self.low:g}"
        high = "inf)" if self.high is None else f"{self.high:g}]"
        return f"{kind} in {lo}{low}, {high}"

    def check(self, fault: str, value: ParamValue) -> ParamValue:
        """The value, normalised (numbers as float/int); InvalidInput naming the parameter."""
        if self.choices:
            text = str(value).strip().lower() if not isinstance(value, bool) else ""
            if text not in self.choices:
                raise InvalidInput(f"fault {fault}: parameter {self.name}={value!r} is not "
                                   f"{self.describe_range()}")
            return text
        number = _number(value)
        if number is None or (self.integer and not float(number).is_integer()):
            raise InvalidInput(f"fault {fault}: parameter {self.name}={value!r} is not "
                               f"{self.describe_range()}")
        too_low = self.low is not None and (number <= self.low if self.low_open else number < self.low)
        too_high = self.high is not None and number > self.high
        if too_low or too_high:
            raise InvalidInput(f"fault {fault}: parameter {self.name}={value!r} is out of range: "
                               f"expected {self.describe_range()}")
        return int(number) if self.integer else float(number)


def _number(value: ParamValue) -> float | None:
    if isinstance(value, bool):
        return None  # True is not 1 here: a flag given for a number is a mistake
    if isinstance(value, (int, float)):
        number = float(value)
    else:
        try:
            number = float(str(value).strip())
        except ValueError:
            return None
    return number if math.isfinite(number) else None


@dataclasses.dataclass(frozen=True)
class ParamSpec:
    params: tuple[Param, ...] = ()

    def names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.params)

    def get(self, name: str) -> Param | None:
        return next((p for p in self.params if p.name == name), None)

    def resolve(self, fault: str, given: Mapping[str, ParamValue]) -> dict[str, ParamValue]:
        """Every parameter with its checked value or default (absent: not in the result)."""
        unknown = sorted(set(given) - set(self.names()))
        if unknown:
            known = ", ".join(self.names()) or "none"
            raise InvalidInput(f"fault {fault}: unknown parameter(s) {', '.join(unknown)} "
                               f"(known: {known})")
        out: dict[str, ParamValue] = {}
        for p in self.params:
            if p.name in given:
                out[p.name] = p.check(fault, given[p.name])
            elif p.default is not None:
                out[p.name] = p.default
        return out


def parse_assignments(items: list[str] | tuple[str, ...], what: str = "--param") -> dict[str, ParamValue]:
    """``["fraction=0.5", "mode=flip"]`` → a mapping of strings (checked later by the fault)."""
    out: dict[str, ParamValue] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise InvalidInput(f"{what} {item!r}: expected NAME=VALUE")
        out[name.strip()] = value.strip()
    return out
