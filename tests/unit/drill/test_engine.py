"""The engine, phase by phase, on the fake world: every outcome a drill report must show."""

from __future__ import annotations

import dataclasses
import os
import signal
from collections.abc import Sequence
from pathlib import Path

import pytest

from pfdrill.drill import engine, fake
from pfdrill.drill.environment import LEASE_NAME, DrillEnvironment
from pfdrill.drill.fake.sources import FakeClassifier
from pfdrill.drill.interrupts import DrillInterrupted
from pfdrill.drill.observer import BaseObserver
from pfdrill.errors import ServiceUnavailable
from pfdrill.model.drill import DrillSpec, SuiteSpec
from pfdrill.model.evidence import Classification, IncidentRecord, RestoreRecord, Signal
from pfdrill.model.result import DrillResult, Verdict
from pfdrill.model.severity import Severity
from pfdrill.model.timeline import EventKind, Phase, PhaseStatus
from pfdrill.settings.config import Config


def run(spec: DrillSpec, env: DrillEnvironment, **kw: object) -> DrillResult:
    return engine.Drill(spec, env, run_id="t1", **kw).run()  # type: ignore[arg-type]


def statuses(result: DrillResult) -> dict[str, str]:
    return {p.phase.value: p.status.value for p in result.phases}


def test_every_weekly_drill_passes_on_a_healthy_fake_fabric(weekly: SuiteSpec,
                                                            tmp_path: Path) -> None:
    for spec in weekly.drills:
        world = fake.FakeWorld()
        result = run(spec, fake.environment(world, tmp_path / spec.name))
        assert result.verdict is Verdict.PASSED, result.headline()
        assert [p.phase for p in result.phases] == list(Phase)
        assert result.measures.mttd is not None and result.measures.mttr is not None
        assert all(c.passed for c in result.evidence.criteria)
        assert len(result.evidence.criteria) == 10


def test_measures_are_timed_from_the_injection(fail_open: DrillSpec, world: fake.FakeWorld,
                                               env: DrillEnvironment) -> None:
    world.detect_delay_s, world.notify_delay_s = 12.0, 3.0
    result = run(fail_open, env)
    assert result.injected_at is not None
    # the fake fault's inject action takes 0.2 s; firing and notification count from its start
    assert result.measures.mttd == pytest.approx(15.0 - 0.2)
    detect = result.phase(Phase.DETECT)
    assert detect is not None and detect.measured_s == pytest.approx(result.measures.mttd)
    mttr = result.measures.mttr
    mitigate = result.measures.time_to_mitigate
    mttd = result.measures.mttd
    assert mttr is not None and mitigate is not None and mttd is not None
    assert mttr > mitigate > mttd


def test_detection_missing_its_alert_fails_detect_with_the_reason(
        fail_open: DrillSpec, world: fake.FakeWorld, env: DrillEnvironment) -> None:
    world.silenced.add("PolicyAdapterFailingOpen")  # the matching alert rule was removed
    result = run(fail_open, env)
    assert result.verdict is Verdict.FAILED
    assert result.failing_phase is Phase.DETECT
    assert "no notification for PolicyAdapterFailingOpen within 45 s" in result.reason
    assert result.measures.mttd is None
    # the drill carried on and restored
    assert statuses(result)["restore"] == "passed"


def test_detection_slower_than_its_budget_fails(fail_open: DrillSpec, world: fake.FakeWorld,
                                                env: DrillEnvironment) -> None:
    spec = dataclasses.replace(fail_open, sla=fail_open.sla.merged({"detect": 8}))
    result = run(spec, env)
    assert result.failing_phase is Phase.DETECT
    assert "within 8 s" in result.reason


def test_classification_that_differs_fails_classify(fail_open: DrillSpec,
                                                    world: fake.FakeWorld,
                                                    env: DrillEnvironment) -> None:
    world.severity_override = Severity.SEV3
    result = run(fail_open, env)
    assert result.failing_phase is Phase.CLASSIFY
    assert "classified as SEV-3" in result.reason and "expected SEV-1" in result.reason
    assert result.measures.time_to_classify is None


def test_a_broken_runbook_step_fails_respond_naming_section_and_command(
        fail_open: DrillSpec, world: fake.FakeWorld, env: DrillEnvironment) -> None:
    world.broken_sections["Immediate Mitigation"] = (
        'Error from server (NotFound): configmaps "policy-cfg" not found')
    result = run(fail_open, env)
    assert result.failing_phase is Phase.RESPOND
    assert "Incident Response Actions / Immediate Mitigation" in result.reason
    assert "kubectl patch configmap policy-config" in result.reason
    assert "NotFound" in result.reason
    # the mitigation never took effect, and that is seen too
    assert statuses(result)["mitigate"] == "failed"


def test_recovery_that_does_not_restore_steady_state_fails_recover(
        fail_open: DrillSpec, world: fake.FakeWorld, env: DrillEnvironment) -> None:
    world.sticky_faults.add("adapter_failure")  # the adapter stays down after "the fix"
    result = run(fail_open, env)
    assert result.failing_phase is Phase.RECOVER
    assert "recovery did not restore steady state" in result.reason
    assert "policy-adapter ready: observed 0" in result.reason
    assert result.measures.mttr is None
    # pfdrill's own restore puts the adapter back even so
    assert result.restore is not None and result.restore.ok
    assert "Deployment policy-adapter scaled back to 1" in result.restore.actions
    assert world.ready("policy-adapter") == 1


def test_preflight_refuses_a_context_not_on_the_allow_list(
        fail_open: DrillSpec, world: fake.FakeWorld, env: DrillEnvironment) -> None:
    env = dataclasses.replace(env, config=Config(allowed_contexts=("somewhere-else",)))
    drill = engine.Drill(fail_open, env, run_id="t1")
    result = drill.run()
    assert result.verdict is Verdict.ERROR and result.failing_phase is Phase.PREFLIGHT
    assert "not on the allow-list" in result.reason
    assert world.cluster.calls == []  # nothing changed
    assert world.cluster.leases == {}
    assert all(p.status is PhaseStatus.SKIPPED for p in result.phases[1:-1])
    assert drill.error is not None and drill.error.exit_code == 4


def test_a_context_switched_mid_suite_is_refused_before_any_change(
        fail_open: DrillSpec, world: fake.FakeWorld, env: DrillEnvironment) -> None:
    followed = iter((env.cluster.context, "prod-eu"))  # the user's kubectl use-context between drills
    env = dataclasses.replace(env, followed_context=lambda: next(followed))
    first = engine.Drill(fail_open, env, run_id="t1").run()
    assert first.verdict is Verdict.PASSED, first.reason
    calls = list(world.cluster.calls)
    second = engine.Drill(fail_open, env, run_id="t2")
    result = second.run()
    assert result.verdict is Verdict.ERROR and result.failing_phase is Phase.PREFLIGHT
    assert "current context is now 'prod-eu'" in result.reason and "--context" in result.reason
    assert world.cluster.calls == calls  # nothing changed
    assert second.error is not None and second.error.exit_code == 4


def test_preflight_refuses_a_namespace_without_the_opt_in_label(
        fail_open: DrillSpec, world: fake.FakeWorld, env: DrillEnvironment) -> None:
    world.cluster.add_namespace("production", {})
    result = run(fail_open, env)
    assert result.failing_phase is Phase.PREFLIGHT and "not opted in" in result.reason
    assert world.cluster.calls == []


def test_preflight_refuses_while_another_drill_holds_the_lease(
        fail_open: DrillSpec, world: fake.FakeWorld, env: DrillEnvironment) -> None:
    assert world.cluster.acquire_lease("production", LEASE_NAME, "someone-else", 600)
    result = run(fail_open, env)
    assert "another drill holds the lease" in result.reason
    assert world.cluster.calls == []
    assert world.cluster.leases[("production", LEASE_NAME)][0] == "someone-else"


def test_no_injection_without_steady_state(fail_open: DrillSpec, world: fake.FakeWorld,
                                           env: DrillEnvironment) -> None:
    world.cluster.patch_configmap("production", "policy-config", {"enforcement_mode": "monitor"})
    world.cluster.calls.clear()
    result = run(fail_open, env)
    assert result.verdict is Verdict.FAILED and result.failing_phase is Phase.PREFLIGHT
    assert "enforcement_mode: observed monitor, expected enforce" in result.reason
    assert not world.faults
    assert world.cluster.calls == []
    assert world.cluster.leases == {}  # released by restore


def test_fault_not_proven_skips_detection_and_rolls_back(
        fail_open: DrillSpec, world: fake.FakeWorld, env: DrillEnvironment) -> None:
    world.prove_delay_s = 10_000.0  # never observed within the inject budget
    result = run(fail_open, env)
    assert result.failing_phase is Phase.INJECT
    assert "was not observed to take effect" in result.reason
    assert statuses(result)["detect"] == "skipped"
    assert world.ready("policy-adapter") == 1


class _Boom(FakeClassifier):
    def classify(self, baseline: Sequence[Signal]) -> Classification:
        raise RuntimeError("classifier exploded")


def test_an_exception_in_a_phase_is_an_error_and_restore_still_runs(
        fail_open: DrillSpec, world: fake.FakeWorld, env: DrillEnvironment,
        tmp_path: Path) -> None:
    env = dataclasses.replace(env, classifier=_Boom(world))
    result = run(fail_open, env)
    assert result.verdict is Verdict.ERROR and result.failing_phase is Phase.CLASSIFY
    assert "RuntimeError: classifier exploded" in result.reason
    assert statuses(result)["respond"] == "skipped"
    assert statuses(result)["restore"] == "passed"
    assert world.ready("policy-adapter") == 1
    assert not list((tmp_path / "snapshots").rglob("*.json"))  # snapshot cleared


class _Recorder(BaseObserver):
    def __init__(self) -> None:
        self.events: list[str] = []
        self.restores: list[RestoreRecord] = []
        self.results: list[DrillResult] = []

    def phase_started(self, spec: DrillSpec, phase: Phase, budget_s: float) -> None:
        self.events.append(f"start {phase.value}")

    def restored(self, spec: DrillSpec, record: RestoreRecord) -> None:
        self.restores.append(record)

    def finished(self, result: DrillResult) -> None:
        self.results.append(result)


class _SignalOnClassify(FakeClassifier):
    def classify(self, baseline: Sequence[Signal]) -> Classification:
        os.kill(os.getpid(), signal.SIGTERM)
        return super().classify(baseline)


def test_sigterm_during_a_phase_restores_and_reports_interrupted(
        fail_open: DrillSpec, world: fake.FakeWorld, env: DrillEnvironment,
        tmp_path: Path) -> None:
    env = dataclasses.replace(env, classifier=_SignalOnClassify(world))
    rec = _Recorder()
    with pytest.raises(DrillInterrupted) as info:
        engine.Drill(fail_open, env, run_id="t1", observers=[rec]).run()
    assert info.value.signame == "SIGTERM"
    assert world.ready("policy-adapter") == 1  # the fault was rolled back
    assert world.cluster.leases == {}
    assert not list((tmp_path / "snapshots").rglob("*.json"))
    (result,) = rec.results
    assert result.verdict is Verdict.INTERRUPTED and "SIGTERM" in result.reason
    assert result.failing_phase is Phase.CLASSIFY
    assert rec.events[-1] == "start restore"
    assert any(e.kind is EventKind.INTERRUPTED for e in result.timeline)
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # handlers put back


def test_a_snapshot_left_by_a_killed_run_is_restored_first(
        fail_open: DrillSpec, world: fake.FakeWorld, env: DrillEnvironment) -> None:
    from pfdrill.drill.sequencer import Sequencer

    killed = Sequencer(fail_open, env, run_id="killed")
    assert killed.preflight().status.ok
    assert killed.inject().status.ok
    world.cluster.patch_configmap("production", "policy-config", {"enforcement_mode": "shadow"})
    # ... SIGKILL here: no restore ran; the snapshot file and the lease are left behind
    assert world.ready("policy-adapter") == 0
    rec = _Recorder()
    result = run(fail_open, env, observers=[rec])
    first = rec.restores[0]
    assert first.stale and first.ok
    assert "snapshot left by run killed" in first.reason
    assert "Deployment policy-adapter scaled back to 1" in first.actions
    assert "ConfigMap policy-config restored" in first.actions
    assert any("restored the snapshot left by killed run killed" in e.message
               for e in result.timeline)
    assert result.verdict is Verdict.PASSED, result.headline()


def test_a_snapshot_of_a_drill_still_running_is_not_touched(
        fail_open: DrillSpec, world: fake.FakeWorld, env: DrillEnvironment) -> None:
    from pfdrill.drill.snapshot import Snapshot

    alive = os.getppid()
    snap = env.snapshotter.take(run_id="other", holder=f"pfdrill/{os.uname().nodename}/"
                                f"{alive}/other", taken_wall="2026-01-05T09:00:00+00:00")
    env.snapshots.save(snap)
    world.cluster.calls.clear()
    result = run(fail_open, env)
    assert result.verdict is Verdict.ERROR
    assert f"a drill is still running here (pid {alive}" in result.reason
    assert world.cluster.calls == []
    assert isinstance(env.snapshots.load("kwok-pfdrill", "production"), Snapshot)


class _Broken(BaseObserver):
    def phase_completed(self, spec: object, record: object) -> None:
        raise RuntimeError("disk full")

    def finished(self, result: DrillResult) -> None:
        raise RuntimeError("disk full")


def test_a_failing_observer_is_logged_never_fatal(fail_open: DrillSpec, env: DrillEnvironment,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    good = _Recorder()
    drill = engine.Drill(fail_open, env, run_id="t1", observers=[_Broken(), good])
    result = drill.run()
    assert result.verdict is Verdict.PASSED
    assert good.results == [result]
    assert len(drill.observers.failures) == len(Phase) + 1
    assert "observer _Broken.finished failed: disk full" in caplog.text


class _NoIncidentStore:
    def incident(self, incident_id: str) -> IncidentRecord | None:
        raise ServiceUnavailable("incident store at /tmp/x.sqlite is locked")


def test_criteria_without_their_evidence_fail_with_the_reason(
        fail_open: DrillSpec, env: DrillEnvironment) -> None:
    env = dataclasses.replace(env, incidents=_NoIncidentStore())
    result = run(fail_open, env)
    assert result.failing_phase is Phase.CRITERIA
    by_id = {c.criterion: c for c in result.evidence.criteria}
    assert not by_id["resolved_within_sla"].passed
    assert "incident store unavailable: incident store at /tmp/x.sqlite is locked" in \
        by_id["resolved_within_sla"].reason
    assert by_id["team_communication"].passed  # other evidence still counts


def test_result_round_trips_through_json(fail_open: DrillSpec, env: DrillEnvironment) -> None:
    import json

    result = run(fail_open, env)
    again = DrillResult.from_dict(json.loads(json.dumps(result.to_dict())))
    assert again == result


def test_the_engine_docstring_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    import textwrap

    doc = engine.__doc__ or ""
    code = textwrap.dedent(doc.split("::\n", 1)[1].split("\n\n\n", 1)[0].split("Phases run")[0])
    monkeypatch.chdir(Path(__file__).resolve().parents[3])
    exec(compile(code.replace("/tmp/pfdrill-example", str(tmp_path)), "example", "exec"), {})
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "adapter-fail-open: PASSED" and float(out[1]) > 0


def test_progress_prints_each_phase_against_its_budget(fail_open: DrillSpec,
                                                       world: fake.FakeWorld,
                                                       env: DrillEnvironment) -> None:
    import io

    from pfdrill.drill.progress import ProgressPrinter

    world.silenced.add("PolicyAdapterFailingOpen")
    out = io.StringIO()
    run(fail_open, env, observers=[ProgressPrinter(out, live=False)])
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("▶ adapter-fail-open: adapter_failure(")
    assert any(line.startswith("  ✓ preflight") and "/ 90 s" in line for line in lines)
    assert any(line.startswith("  ✗ detect") and "no notification" in line for line in lines)
    assert lines[-1].startswith("■ adapter-fail-open: FAILED in detect")


def test_the_next_baseline_waits_out_the_last_faults_rate_window(
        fail_open: DrillSpec, world: fake.FakeWorld, env: DrillEnvironment,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A baseline measured right after a rollback would still hold the fault in its window."""
    from pfdrill.drill import hold

    monkeypatch.setattr(hold, "_LAST_ROLLBACK", {})
    env = dataclasses.replace(env, signal_window_s=30.0)
    earlier = hold.Hold(env.cluster.context, env.clock)  # another drill's fault, rolled back
    earlier.arm(env.faults.create("adapter_failure"))
    assert earlier.rollback()
    env.clock.sleep(10.0)
    result = run(fail_open, env)
    waits = [e for e in result.timeline if "rate window holds no trace" in e.message]
    assert len(waits) == 1 and waits[0].message.startswith("waiting 20 s")
    assert result.verdict is Verdict.PASSED


class _Live(BaseObserver):
    def __init__(self) -> None:
        self.kinds: list[EventKind] = []

    def event(self, spec: object, event: object) -> None:
        from pfdrill.model.timeline import TimelineEvent

        assert isinstance(event, TimelineEvent)
        self.kinds.append(event.kind)


def test_observers_follow_the_timeline_as_it_is_recorded(fail_open: DrillSpec,
                                                        env: DrillEnvironment) -> None:
    live = _Live()
    result = run(fail_open, env, observers=[live])
    assert sorted(live.kinds, key=lambda k: k.value) == sorted(
        (e.kind for e in result.timeline), key=lambda k: k.value)
    firsts = [live.kinds.index(k) for k in (EventKind.INJECTED, EventKind.NOTIFICATION,
                                            EventKind.CLASSIFIED, EventKind.RESTORED)]
    assert firsts == sorted(firsts)
