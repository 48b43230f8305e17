"""The steady-state baselines the sink publishes as ``pfdrill_baseline{signal=...}``.

Kept in a small JSON file next to the journal so a restarted sink still
publishes what was measured; rendered in Prometheus' text format for
``/metrics``.
"""

from __future__ import annotations

import json
import math
import os
import threading
from collections.abc import Mapping
from pathlib import Path

from pfdrill.errors import InvalidInput
from pfdrill.model import metrics


def validate(values: Mapping[str, object]) -> dict[str, float | None]:
    """Check ``{signal: value or None}``; ``None`` withdraws a baseline."""
    out: dict[str, float | None] = {}
    for name, value in values.items():
        if name not in metrics.BASELINE_SIGNALS:
            raise InvalidInput(f"unknown baseline signal {name!r} "
                               f"(expected {', '.join(metrics.BASELINE_SIGNALS)})")
        if value is None:
            out[name] = None
            continue
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise InvalidInput(f"baseline {name} must be a finite number, not {value!r}")
        if value < 0 or (name == "latency_mean_seconds" and value == 0):
            raise InvalidInput(f"baseline {name} must be {'> 0' if value == 0 else '>= 0'}")
        out[name] = float(value)
    return out


class BaselineStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._values: dict[str, float] = {}
        if path.exists():
            try:
                loaded = json.loads(path.read_text(encoding="utf-8"))
                self._values = {k: v for k, v in validate(loaded).items() if v is not None}
            except (ValueError, InvalidInput):
                self._values = {}  # a damaged file only loses the last published baseline

    def values(self) -> dict[str, float]:
        with self._lock:
            return dict(self._values)

    def update(self, values: Mapping[str, object]) -> dict[str, float]:
        checked = validate(values)
        with self._lock:
            for name, value in checked.items():
                if value is None:
                    self._values.pop(name, None)
                else:
                    self._values[name] = value
            snapshot = dict(self._values)
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(json.dumps(snapshot), encoding="utf-8")
            os.replace(tmp, self.path)
        return snapshot

    def exposition(self) -> str:
        """``/metrics`` in the Prometheus text format."""
        lines = [f"# HELP {metrics.BASELINE.name} {metrics.BASELINE.help}",
                 f"# TYPE {metrics.BASELINE.name} gauge"]
        for name, value in sorted(self.values().items()):
            lines.append(f'{metrics.BASELINE.name}{{signal="{name}"}} {value!r}')
        return "\n".join(lines) + "\n"
