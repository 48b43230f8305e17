"""``policy-config``: the watcher's live configuration, parsed strictly.

Every key is optional (a missing key takes its default) but every present
key must be known and valid: a typo such as ``enforcment_mode`` would
otherwise silently leave enforcement as it was, so the whole ConfigMap is
refused and the last good configuration stays in force.

What the tuning keys do in the reference fabric:

- ``cache_size``: entries of the LRU cache of verified certificate
  signatures (0 turns it off). Validity times are still checked per request.
- ``performance_mode`` (``enabled``/``disabled``): when enabled, permit
  decisions from the policy adapter are also cached for one second, which
  takes the adapter round trip off most requests.
- ``async_processing``: decision log lines go through a background writer
  instead of being written on the request path.
- ``batch_size``: how many queued log lines that writer flushes at once.
- ``adapter_failure_mode`` (``fail_closed``/``fail_open``) and
  ``adapter_timeout_ms``: what a failed or slow adapter call means.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Callable, Mapping
from typing import Any

from pfdrill.model import metrics


class EnforcementMode(enum.Enum):
    ENFORCE = "enforce"
    MONITOR = "monitor"
    SHADOW = "shadow"
    DISABLED = "disabled"
    BREAK_GLASS = "break_glass"


class FailureMode(enum.Enum):
    FAIL_CLOSED = "fail_closed"
    FAIL_OPEN = "fail_open"


assert tuple(m.value for m in EnforcementMode) == metrics.ENFORCEMENT_MODES
assert tuple(m.value for m in FailureMode) == metrics.ADAPTER_FAILURE_MODES

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


class ConfigRefused(ValueError):
    """A policy-config that must not be applied; the message names the key."""


def _enum(kind: type[enum.Enum]) -> Callable[[str], Any]:
    def parse(text: str) -> Any:
        value = text.strip().lower()
        for member in kind:
            if member.value == value:
                return member
        raise ValueError(f"expected one of {', '.join(m.value for m in kind)}")
    return parse


def _bool(text: str) -> bool:
    value = text.strip().lower()
    if value in ("true", "enabled", "on", "yes", "1"):
        return True
    if value in ("false", "disabled", "off", "no", "0"):
        return False
    raise ValueError("expected true/false (or enabled/disabled)")


def _int_range(low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text.strip())
        except ValueError:
            raise ValueError("expected an integer") from None
        if not low <= value <= high:
            raise ValueError(f"expected an integer in {low}..{high}")
        return value
    return parse


def _log_level(text: str) -> str:
    value = text.strip().upper()
    if value not in LOG_LEVELS:
        raise ValueError(f"expected one of {', '.join(LOG_LEVELS)}")
    return value


_PARSERS: dict[str, Callable[[str], Any]] = {
    "enforcement_mode": _enum(EnforcementMode),
    "performance_mode": _bool,
    "cache_size": _int_range(0, 1_000_000),
    "batch_size": _int_range(1, 100_000),
    "async_processing": _bool,
    "high_assurance_mode": _bool,
    "log_level": _log_level,
    "adapter_failure_mode": _enum(FailureMode),
    "adapter_timeout_ms": _int_range(1, 60_000),
}


@dataclasses.dataclass(frozen=True)
class PolicyConfig:
    enforcement_mode: EnforcementMode = EnforcementMode.ENFORCE
    performance_mode: bool = False
    cache_size: int = 1024
    batch_size: int = 100
    async_processing: bool = False
    high_assurance_mode: bool = False
    log_level: str = "INFO"
    adapter_failure_mode: FailureMode = FailureMode.FAIL_CLOSED
    adapter_timeout_ms: int = 250

    @classmethod
    def parse(cls, data: Mapping[str, str]) -> PolicyConfig:
        """Build from ConfigMap data; ConfigRefused naming the first bad key."""
        unknown = sorted(set(data) - set(_PARSERS))
        if unknown:
            raise ConfigRefused(f"unknown key(s) {', '.join(unknown)} (known: {', '.join(_PARSERS)})")
        values: dict[str, Any] = {}
        for key, parse in _PARSERS.items():
            if key in data:
                try:
                    values[key] = parse(data[key])
                except ValueError as exc:
                    raise ConfigRefused(f"{key}={data[key].strip()!r}: {exc}") from None
        return cls(**values)

    def to_dict(self) -> dict[str, str]:
        """Back to ConfigMap data (strings), the inverse of :meth:`parse`."""
        out: dict[str, str] = {}
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if isinstance(v, enum.Enum):
                out[f.name] = str(v.value)
            elif isinstance(v, bool):
                out[f.name] = "enabled" if f.name == "performance_mode" and v else (
                    "disabled" if f.name == "performance_mode" else str(v).lower())
            else:
                out[f.name] = str(v)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, str]) -> PolicyConfig:
        return cls.parse(data)
