"""The after-action report: measures against budgets (marked, not failed), one timeline, redacted."""

from __future__ import annotations

import json
from pathlib import Path

from pfdrill.gameday import aar, machine, plan
from pfdrill.model.gameday import (
    Action,
    ActionItem,
    AfterActionReport,
    Command,
    InjectStatus,
    Role,
)
from pfdrill.model.live import Observation, Source
from pfdrill.model.phases import Outcome, Watch
from pfdrill.model.watch import Declaration, Measure, Milestone
from pfdrill.report import aar as render

REPO = Path(__file__).resolve().parents[3]
NAME = "adapter-fail-open"
HOOK = "http://127.0.0.1:40123/security"


def report_of() -> AfterActionReport:
    gp = plan.load(REPO / "drills" / "gameday.yaml")
    s = machine.new("gd-7", gp, 1000.0)
    s = machine.starting(s, NAME, 1000.0)
    s = machine.injected(s, NAME, t0_wall=1000.0, injected_at=10.0, incident_id="x")
    s = machine.apply(s, Command(Action.NOTE, text="the pager was muted", author="Ann"), 1030.0,
                      Role.OBSERVER)
    s = machine.measured(s, NAME, Watch(Outcome.passed("watching"), milestones=(
        Milestone(Measure.DETECTION, 15.0, "PolicyAdapterFailingOpen notified"),
        Milestone(Measure.DECLARATION, 200.0, "incident INC-1 declared SEV-2")),
        declaration=Declaration("INC-1", "SEV-2", "1970-01-01T00:03:20+00:00", 200.0, "SEV-1",
                                "open")))
    s = machine.finished(s, NAME, InjectStatus.ENDED, "stopped by the facilitator", 1800.0,
                         restored=True, detail="ConfigMap policy-config restored")
    seen = [Observation(1100.0, Source.RESPONDER, "command", "curl",
                        f"curl -X POST {HOOK} -d hello → exit 0"),
            Observation(1050.0, Source.KUBERNETES, "deployment", "sidecar-watcher",
                        "Deployment sidecar-watcher scaled 2 → 0", "warning"),
            Observation(5000.0, Source.PROMETHEUS, "firing", "Later", "Later firing")]
    items = [ActionItem("AI-1", "Unmute the pager", "Ann", "2030-01-31", source="gameday:gd-7",
                        status="closed", closed_wall="2030-01-02T00:00:00+00:00",
                        closed_by="Bo", resolution="done token=abcdef123456")]
    return aar.build(s, {}, seen, items, generated=2000.0)


def test_measures_severity_and_timeline() -> None:
    r = report_of()
    (i,) = r.injects
    m = {x.measure: x for x in i.measures}
    assert m[Measure.DETECTION].elapsed_s == 5.0 and not m[Measure.DETECTION].over_budget
    assert m[Measure.DECLARATION].elapsed_s == 190.0 and m[Measure.DECLARATION].over_budget
    # never reached, and the inject ran 1790 s: over every budget it had
    assert m[Measure.MITIGATION].elapsed_s is None and m[Measure.MITIGATION].over_budget
    assert m[Measure.RECOVERY].detail.startswith("not reached")
    assert (i.declared_severity, i.severity_now, i.severity_matches) == ("SEV-2", "SEV-1", False)
    assert [e.source for e in i.timeline] == ["observer", "kubernetes", "responder"]
    assert i.timeline[1].since_injection == 40.0  # the later alert is outside the inject


def test_three_formats_redacted(tmp_path: Path) -> None:
    render.write(tmp_path, report_of(), secrets=(HOOK,))
    for name in (render.HTML, render.MARKDOWN, render.JSON):
        text = (tmp_path / name).read_text()
        assert HOOK not in text and "abcdef123456" not in text, name
        assert "[REDACTED" in text
    html = (tmp_path / render.HTML).read_text()
    assert "<script" not in html and "http" not in html.replace(
        "[REDACTED-URL]", "")  # nothing fetched, nothing linked out
    assert html.count('data-over-budget="true"') == 3
    md = (tmp_path / render.MARKDOWN).read_text()
    assert "SEV-2 declared, later SEV-1: differs from the expected SEV-1" in md
    assert "| AI-1 | Unmute the pager | Ann | 2030-01-31 | closed" in md
    doc = json.loads((tmp_path / render.JSON).read_text())
    assert doc["actions"][0]["status"] == "closed" and doc["notes"][0]["author"] == "Ann"
