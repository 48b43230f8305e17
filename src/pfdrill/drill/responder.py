"""What the automated responder tells the runbook: ``SEVERITY``, ``INCIDENT_ID``, ``ROOT_CAUSE``...

The runbook's bash reads these variables (the seed runbook's incident report
heredoc uses ``$DURATION``, ``$IMPACT``, ``$ROOT_CAUSE``, ``$ACTIONS_TAKEN``,
``$LESSONS_LEARNED``, ``$FOLLOW_UP_ACTIONS``). In a drill nobody types them,
so they are derived from what the drill itself observed: the root cause is the
diagnosis from the alerts that fired and the classifier's reasons — which is
exactly why the "root cause" criterion can check it against the injected
fault instead of echoing the drill file back.
"""

from __future__ import annotations

import dataclasses

from pfdrill.model.evidence import AlertEvidence, Classification, SectionEvidence
from pfdrill.model.severity import Severity


@dataclasses.dataclass(frozen=True)
class ResponderView:
    drill: str
    incident_id: str
    expected: Severity
    classification: Classification | None
    alerts: tuple[AlertEvidence, ...]
    sections: tuple[SectionEvidence, ...]
    since_injection_s: float | None
    mttd_s: float | None


def severity(view: ResponderView) -> Severity:
    """The severity the responder declares: the classified one, else what the drill expects."""
    if view.classification is not None and view.classification.severity is not Severity.NONE:
        return view.classification.severity
    return view.expected


def root_cause(view: ResponderView) -> str:
    fired = [a.alert for a in view.alerts if a.notified_at is not None or a.firing_at is not None]
    reasons = list(view.classification.reasons) if view.classification else []
    if not fired and not reasons:
        return "undetermined: no alert fired and the classifier found nothing"
    parts = []
    if fired:
        parts.append("alerts " + ", ".join(dict.fromkeys(fired)))
    if reasons:
        parts.append("signals: " + "; ".join(reasons))
    return "Diagnosed from " + " and ".join(parts)


def variables(view: ResponderView) -> dict[str, str]:
    sev = severity(view)
    duration = "unknown" if view.since_injection_s is None else f"{view.since_injection_s:.0f}s"
    actions = [f"{s.section} ({'ok' if s.ok else 'failed'})" for s in view.sections] or ["none"]
    detected = ("not detected" if view.mttd_s is None
                else f"detected {view.mttd_s:.1f} s after the fault began")
    return {
        "SEVERITY": sev.value,
        "INCIDENT_ID": view.incident_id,
        "DURATION": duration,
        "IMPACT": f"{sev.value} drill incident on the policy-enforcement path ({view.drill})",
        "ROOT_CAUSE": root_cause(view),
        "ACTIONS_TAKEN": "; ".join(actions),
        "LESSONS_LEARNED": f"Drill {view.drill}: {detected}; classified "
                           f"{view.classification.severity.value if view.classification else 'n/a'}"
                           f" (expected {view.expected.value}).",
        "FOLLOW_UP_ACTIONS": f"Review the {view.drill} drill report; keep the drill in the "
                             f"weekly suite; track regressions in pfdrill history.",
    }
