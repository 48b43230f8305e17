"""The Prometheus text exposition format, read by prometheus_client's own parser.

A hand-written reader got escaped label values wrong (``msg="a\\nb"`` came out
as ``anb``); the reference parser unescapes, reads histograms and untyped
metrics, and refuses what Prometheus would refuse. A sample is keyed
``name{a="1",b="2"}`` with labels sorted, the key pfdrill's scrapes and its
Prometheus queries both produce (:func:`series_key`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from pfdrill.errors import InvalidInput

Series = dict[str, float]  # series key -> value


def series_key(name: str, labels: Mapping[str, str] | None = None) -> str:
    """``name{a="1",b="2"}`` with labels sorted, values escaped as the exposition writes them."""
    if not labels:
        return name
    inner = ",".join(f'{k}="{_escape(str(v))}"' for k, v in sorted(labels.items()))
    return f"{name}{{{inner}}}"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _families(text: str, source: str) -> list[Any]:
    """The metric families, read whole; InvalidInput naming ``source`` and the bad line."""
    try:
        return list(text_string_to_metric_families(text))
    except (ValueError, IndexError, KeyError, TypeError) as exc:
        # The parser says what is wrong but not where; find the line it stumbles on.
        line = _first_bad_line(text)
        lines = text.split("\n")
        detail = str(exc).strip() or type(exc).__name__
        raise InvalidInput(f"not Prometheus text exposition: {detail}", file=source,
                           line=line, text=lines[line - 1] if line else None) from None


def names(text: str, source: str = "<metrics>") -> dict[str, set[str]]:
    """Every metric name an exposition declares or samples (a counter also under its
    ``_total`` name), with the label names its samples carry."""
    out: dict[str, set[str]] = {}
    for family in _families(text, source):
        found = {family.name, f"{family.name}_total"} if family.type == "counter" else {family.name}
        found.update(sample.name for sample in family.samples)
        labels = {k for sample in family.samples for k in sample.labels}
        for name in found:
            out.setdefault(name, set()).update(labels)
    return out


def _first_bad_line(text: str) -> int | None:
    """The first line the parser refuses on its own (comments are checked in context)."""
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            list(text_string_to_metric_families(line + "\n"))
        except (ValueError, IndexError, KeyError, TypeError):
            return number
    return None


def samples(text: str, source: str = "<metrics>") -> Series:
    """Every sample of an exposition; InvalidInput naming ``source`` and the bad line."""
    return {series_key(sample.name, sample.labels): float(sample.value)
            for family in _families(text, source) for sample in family.samples}
