"""A whole game day on the kwok stack: a facilitator, responders running the runbook, a crash.

``pfdrill gameday run`` hosts it as its own process; the facilitator's commands
go through the CLI (the control API); the responders run the runbook's own
sections by hand in the game day's workspace. The first team is quick; the
second is late on purpose, and meanwhile the game day's process is killed
(SIGKILL, children included) and started again: it takes the running inject
over and keeps measuring on the same clock. The after-action report holds
every measure, the late declaration marked over budget, the action items
(one closed with ``pfctl action close``), and the responders' actions.
"""

from __future__ import annotations

import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from gameday_support import (  # type: ignore[import-not-found]
    BIN,
    DECLARATION,
    MITIGATION,
    RECOVERY,
    Host,
    Responders,
    aar,
    current_id,
    fabric_stack,
    game_file,
    pfdrill,
    process_env,
    state,
    wait_for,
)

from pfdrill.gameday.store import GameDayDir
from pfdrill.model.gameday import InjectStatus
from pfdrill.model.watch import Measure

pytestmark = [pytest.mark.cluster, pytest.mark.servers, pytest.mark.slow]
QUICK, LATE = "enforcement-disabled-drift", "adapter-fail-open"
# over by the restart alone (detection, then the kill and a new process): no idle wait
LATE_DECLARATION_S = 15.0


@pytest.fixture(scope="module")
def stack(drill_cluster: Any) -> Any:
    fabric_stack(drill_cluster)
    return drill_cluster


def reached(game_id: str, name: str, measure: Measure) -> bool:
    st = state(game_id).inject(name)
    return st is not None and st.reached(measure) is not None


def room_state(output: str) -> str:
    """What the responders' page gets from ``/api/state``, over real HTTP, as text."""
    url = next(ln.split("responders:", 1)[1].strip() for ln in output.splitlines()
               if "responders:" in ln and "shell" not in ln)
    with urllib.request.urlopen(urllib.parse.urljoin(url, "/api/state"), timeout=30) as got:
        body: bytes = got.read()
    return body.decode()


def status(game_id: str, name: str) -> InjectStatus | None:
    st = state(game_id).inject(name)
    return st.status if st else None


def respond(team: Responders, gid: str, name: str, incident: str,
            env: dict[str, str]) -> None:
    """Declare, mitigate (the fault then goes out), recover: the runbook's SEV-1 path; then
    the facilitator stops the inject (restore), once the team has finished."""
    team.run(DECLARATION, severity="SEV-1", incident=incident)
    team.run(MITIGATION, severity="SEV-1", incident=incident)
    wait_for(lambda: reached(gid, name, Measure.MITIGATION), 300, f"{name} mitigated")
    team.run(RECOVERY, severity="SEV-1", incident=incident)
    wait_for(lambda: reached(gid, name, Measure.RECOVERY), 300, f"{name} recovered")
    pfdrill("gameday", "stop", env=env)
    wait_for(lambda: (status(gid, name) or InjectStatus.PENDING).finished, 600,
             f"{name} finished")


def test_a_whole_game_day(stack: Any, tmp_path: Path) -> None:
    env = process_env(stack)
    file = game_file(tmp_path, {
        "title": "Integration game day", "facilitator": "pytest",
        "timebox": 900,
        "injects": [
            {"drill": QUICK, "title": "Inject A", "sla": {"declaration": 120}},
            {"drill": LATE, "title": "Inject B", "sla": {"declaration": LATE_DECLARATION_S},
             "hints": ["Which service answers the watchers' permit questions?"]},
        ]}, (QUICK, LATE))
    reports = tmp_path / "reports"
    host = Host(file, stack.name, reports, env, tmp_path / "host.log")
    figures: dict[str, float] = {}
    try:
        t0 = time.monotonic()
        host.start()
        figures["open the game day (s)"] = time.monotonic() - t0
        gid = current_id()
        team = Responders(pfdrill("gameday", "env", env=env).stdout, env)

        # --- Inject A: a quick team ------------------------------------------------------------
        t0 = time.monotonic()
        pfdrill("gameday", "inject", QUICK, env=env)
        wait_for(lambda: status(gid, QUICK) is InjectStatus.RUNNING, 600, "inject A running")
        figures["inject A: preflight + injection (s)"] = time.monotonic() - t0
        # quick, but paged first: a team that mitigates before the alert is notified leaves
        # detection rightly unmeasured (CI: mitigated 13 s in, the alert never went out)
        wait_for(lambda: reached(gid, QUICK, Measure.DETECTION), 300, "inject A detected")
        figures["inject A: inject command → detected (s)"] = time.monotonic() - t0
        respond(team, gid, QUICK, "INC-GD-A", env)
        figures["inject A: whole (s)"] = time.monotonic() - t0
        pfdrill("gameday", "note", "Inject A declared within a minute", "--author", "Ann",
                env=env)

        # --- Inject B: a late team, and the game day's process dies meanwhile ----------------
        t0 = time.monotonic()
        pfdrill("gameday", "inject", LATE, env=env)
        wait_for(lambda: status(gid, LATE) is InjectStatus.RUNNING, 600, "inject B running")
        pfdrill("gameday", "hint", "--number", "1", env=env)
        wait_for(lambda: reached(gid, LATE, Measure.DETECTION), 300, "inject B detected")
        killed = time.monotonic()
        host.kill()
        held = state(gid).inject(LATE)
        assert held is not None and held.status is InjectStatus.RUNNING
        assert GameDayDir.of(gid).checkpoint() is not None
        host.start()
        figures["restart: killed → dashboard again (s)"] = time.monotonic() - killed
        assert "resumed" in host.output
        # the room's view (no token) names neither drill nor the runbook's answer until the reveal
        before = room_state(host.output)
        assert LATE not in before and QUICK not in before and MITIGATION not in before
        pfdrill("gameday", "reveal", env=env)
        after = room_state(host.output)
        assert LATE in after and MITIGATION in after and QUICK not in after
        injected_wall = held.injected_wall
        assert injected_wall is not None
        wait_for(lambda: time.time() - injected_wall > LATE_DECLARATION_S + 5, 120,
                 "the late team's delay")
        respond(team, gid, LATE, "INC-GD-B", env)
        figures["inject B: whole, with the restart (s)"] = time.monotonic() - t0

        # --- follow-ups, the end, and pfctl closing one --------------------------------------
        pfdrill("gameday", "action", "add", "--title", "Alert when the adapter fails open",
                "--owner", "Ann", "--due", "2030-01-31", "--inject", LATE, env=env)
        pfdrill("gameday", "action", "add", "--title", "Drill declarations monthly",
                "--owner", "Bo", "--due", "2030-02-28", env=env)
        refused = pfdrill("gameday", "inject", "high-reject-rate", env=env, check=False)
        assert refused.returncode == 2 and "no inject 'high-reject-rate'" in refused.stderr
        pfdrill("gameday", "end", env=env)
        assert host.wait() == 0
    finally:
        host.stop()
        print("\n".join(f"FIGURE {k}: {v:.1f}" for k, v in figures.items()))

    closed = subprocess.run(
        [str(BIN / "pfctl"), "action", "close", "AI-1", "--resolution", "rule added",
         "--by", "Ann"], env={**env, "PFCTL_CONFIG": str(GameDayDir.of(gid).pfctl_config)},
        capture_output=True, text=True, timeout=60, check=False)
    assert closed.returncode == 0, closed.stderr
    pfdrill("gameday", "report", "--id", gid, "--reports", str(reports), env=env)

    report = aar(reports, gid)
    a, b = report["injects"]
    assert (a["drill"], a["status"], b["drill"], b["status"]) == (
        QUICK, "recovered", LATE, "recovered")
    for inject in (a, b):
        measures = {m["measure"]: m for m in inject["measures"]}
        assert set(measures) == {m.value for m in Measure}
        assert all(m["elapsed_s"] is not None and m["elapsed_s"] >= 0
                   for m in measures.values()), measures
        assert inject["restored"] is True
        assert inject["declared_severity"] == inject["expected_severity"] == "SEV-1"
        sources = {e["source"] for e in inject["timeline"]}
        assert {"drill", "responder", "kubernetes", "incident", "alert"} <= sources, sources
        messages = " ".join(e["message"] for e in inject["timeline"])
        assert "kubectl scale deployment sidecar-watcher" in messages
        assert "incident INC-GD-" in messages and "declared" in messages
    late = {m["measure"]: m for m in b["measures"]}[Measure.DECLARATION.value]
    assert late["over_budget"] and late["elapsed_s"] > LATE_DECLARATION_S
    assert not {m["measure"]: m for m in a["measures"]}[Measure.DECLARATION.value]["over_budget"]
    assert b["hints"] and any("took over" in e["message"] for e in b["timeline"])
    assert [(x["id"], x["owner"], x["status"]) for x in report["actions"]] == [
        ("AI-1", "Ann", "closed"), ("AI-2", "Bo", "open")]
    assert report["notes"][0]["author"] == "Ann"
    html = (reports / gid / "aar.html").read_text()
    assert 'data-over-budget="true"' in html and "Alert when the adapter fails open" in html
    md = (reports / gid / "aar.md").read_text()
    assert "**over budget**" in md
    hooks = [ln.split("=", 1)[1].strip("'") for ln in team.exports.splitlines()
             if ln.startswith("export ") and "_WEBHOOK=" in ln]
    text = html + md + (reports / gid / "aar.json").read_text()
    assert hooks and not any(h in text for h in hooks)  # webhook URLs never reach the report
    print("FIGURE measures A:", {m["measure"]: m["elapsed_s"] for m in a["measures"]})
    print("FIGURE measures B:", {m["measure"]: m["elapsed_s"] for m in b["measures"]})
