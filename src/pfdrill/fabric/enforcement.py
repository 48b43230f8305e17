"""Enforcement modes: what a pipeline finding means for the request.

One :class:`ModeRule` per :class:`~pfdrill.fabric.policy.EnforcementMode`:

==============  ========  ========================================  =====================
mode            decides   request with a finding                    grep words logged
==============  ========  ========================================  =====================
enforce         yes       rejected (403)                            REJECT POLICY_VIOLATION
monitor         yes       allowed, violation counted and logged     VIOLATION POLICY_VIOLATION
shadow          yes       allowed, would-deny logged                WOULD_REJECT POLICY_VIOLATION
break_glass     yes       allowed, override logged                  BREAK_GLASS OVERRIDE
disabled        no        allowed, nothing decided ("unenforced")   BYPASS
==============  ========  ========================================  =====================

Every break_glass line carries ``BREAK_GLASS``, every disabled line
``BYPASS``; each finding adds its check's own words (``FORBIDDEN``,
``AUTH_FAILED``, ``UNAUTHORIZED``...), and a fail-open permit adds ``BYPASS``.
"""

from __future__ import annotations

import dataclasses

from pfdrill.fabric.decision import Finding
from pfdrill.fabric.policy import EnforcementMode


@dataclasses.dataclass(frozen=True)
class Verdict:
    allow: bool
    outcome: str  # a metrics.DECISION_OUTCOMES value
    level: str
    tags: tuple[str, ...]
    status: int

    def to_dict(self) -> dict[str, object]:
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class ModeRule:
    decides: bool
    rejects: bool
    finding_outcome: str
    finding_level: str
    finding_tags: tuple[str, ...]
    always_tags: tuple[str, ...] = ()
    clean_level: str = "INFO"

    def verdict(self, finding: Finding | None) -> Verdict:
        if not self.decides:
            return Verdict(True, "unenforced", self.clean_level, self.always_tags, 200)
        if finding is None:
            return Verdict(True, "allow", self.clean_level, self.always_tags, 200)
        tags = _unique((*self.always_tags, *self.finding_tags, *finding.tags))
        return Verdict(not self.rejects, self.finding_outcome, self.finding_level, tags,
                       403 if self.rejects else 200)


def _unique(tags: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(tags))


MODES: dict[EnforcementMode, ModeRule] = {
    EnforcementMode.ENFORCE: ModeRule(
        decides=True, rejects=True, finding_outcome="reject", finding_level="WARNING",
        finding_tags=("REJECT", "POLICY_VIOLATION")),
    EnforcementMode.MONITOR: ModeRule(
        decides=True, rejects=False, finding_outcome="would_reject", finding_level="WARNING",
        finding_tags=("VIOLATION", "POLICY_VIOLATION")),
    EnforcementMode.SHADOW: ModeRule(
        decides=True, rejects=False, finding_outcome="would_reject", finding_level="INFO",
        finding_tags=("WOULD_REJECT", "POLICY_VIOLATION")),
    EnforcementMode.BREAK_GLASS: ModeRule(
        decides=True, rejects=False, finding_outcome="would_reject", finding_level="WARNING",
        finding_tags=("OVERRIDE", "POLICY_VIOLATION"), always_tags=("BREAK_GLASS",),
        clean_level="WARNING"),
    EnforcementMode.DISABLED: ModeRule(
        decides=False, rejects=False, finding_outcome="unenforced", finding_level="WARNING",
        finding_tags=(), always_tags=("BYPASS",), clean_level="WARNING"),
}


def verdict(mode: EnforcementMode, finding: Finding | None) -> Verdict:
    return MODES[mode].verdict(finding)
