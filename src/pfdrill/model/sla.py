"""SLA budgets per phase, with defaults per severity and timing profile.

A drill file may override any budget; what it leaves out comes from
:data:`DEFAULT_BUDGETS` for the drill's expected severity and profile. The
defaults are data: the ``drill`` profile compresses the runbook's windows to
seconds, ``production`` keeps them (rates over 5m, ``for: 1m``).

Besides the phase budgets there is ``resolve``: the incident SLA, injection
→ steady state restored (MTTR), which the "Incident resolved within SLA"
success criterion is judged against.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Mapping

from pfdrill.errors import InvalidInput
from pfdrill.model.codec import Record
from pfdrill.model.severity import Severity
from pfdrill.model.timeline import Phase


class TimingProfile(enum.Enum):
    """The named timing profiles: their alerting timings are :mod:`pfdrill.obs.profile`'s."""

    DRILL = "drill"
    PRODUCTION = "production"

    @classmethod
    def parse(cls, text: str) -> TimingProfile:
        for member in cls:
            if member.value == text.strip().lower():
                return member
        raise InvalidInput(
            f"unknown timing profile {text!r}: expected one of {', '.join(m.value for m in cls)}"
        )


@dataclasses.dataclass(frozen=True)
class SlaBudgets(Record):
    """Seconds allowed per phase (keyed by :class:`Phase` value) and for resolution."""

    phases: dict[str, float]
    resolve: float

    def budget(self, phase: Phase) -> float:
        return self.phases[phase.value]

    def merged(self, overrides: Mapping[str, float]) -> SlaBudgets:
        """These budgets with ``overrides`` (phase names and/or ``resolve``) applied."""
        phases = dict(self.phases)
        resolve = self.resolve
        for key, value in overrides.items():
            if key == "resolve":
                resolve = float(value)
            else:
                phases[Phase(key).value] = float(value)
        return SlaBudgets(phases=phases, resolve=resolve)


def _budgets(detect: float, resolve: float, **phases: float) -> SlaBudgets:
    base = {
        Phase.PREFLIGHT: 90.0,
        Phase.INJECT: 60.0,
        Phase.DETECT: detect,
        Phase.CLASSIFY: 60.0,
        Phase.RESPOND: 180.0,
        Phase.MITIGATE: 60.0,
        Phase.RECOVER: 180.0,
        Phase.CRITERIA: 120.0,
        Phase.RESTORE: 120.0,
    }
    merged = {p.value: v for p, v in base.items()}
    merged.update(phases)
    return SlaBudgets(phases=merged, resolve=resolve)


# Detection budgets leave room above the theoretical bound of the drill rules
# (scrape 1 s + evaluation 1 s + `for` 5-10 s + Alertmanager group_wait); the
# production ones above the runbook's 5m rate windows and `for: 1m`.
DEFAULT_BUDGETS: dict[TimingProfile, dict[Severity, SlaBudgets]] = {
    TimingProfile.DRILL: {
        Severity.SEV1: _budgets(detect=45.0, resolve=420.0),
        Severity.SEV2: _budgets(detect=60.0, resolve=540.0),
        Severity.SEV3: _budgets(detect=90.0, resolve=720.0),
        Severity.SEV4: _budgets(detect=120.0, resolve=900.0),
        Severity.NONE: _budgets(detect=120.0, resolve=900.0),
    },
    TimingProfile.PRODUCTION: {
        Severity.SEV1: _budgets(detect=420.0, resolve=3600.0, classify=300.0, mitigate=900.0,
                                recover=1800.0),
        Severity.SEV2: _budgets(detect=600.0, resolve=4 * 3600.0, classify=600.0,
                                mitigate=1800.0, recover=3600.0),
        Severity.SEV3: _budgets(detect=900.0, resolve=24 * 3600.0, classify=900.0,
                                mitigate=3600.0, recover=3600.0),
        Severity.SEV4: _budgets(detect=1800.0, resolve=72 * 3600.0, classify=1800.0,
                                mitigate=3600.0, recover=3600.0),
        Severity.NONE: _budgets(detect=1800.0, resolve=72 * 3600.0),
    },
}


def default_budgets(profile: TimingProfile, severity: Severity) -> SlaBudgets:
    return DEFAULT_BUDGETS[profile][severity]


BUDGET_KEYS: tuple[str, ...] = (*(p.value for p in Phase), "resolve")
