"""What counts as a regression: head runs judged against base runs (records built on the real
parser's commands; the runs themselves are what the executor would have recorded)."""

from __future__ import annotations

from pathlib import Path

from pfdrill.gate import diff, regression
from pfdrill.model.evidence import CommandOutcome
from pfdrill.model.gate import FindingKind, Selected
from pfdrill.model.header import RecordHeader
from pfdrill.model.result import DrillEvidence, DrillResult, Measures, Verdict
from pfdrill.model.runbook import (
    Command,
    CommandResult,
    ExpectationResult,
    Runbook,
    RunbookRun,
    ToolCall,
)
from pfdrill.model.timeline import Phase
from pfdrill.runbook import intent, parser

REPO = Path(__file__).resolve().parents[3]
TEXT = (REPO / "runbooks" / "policy-enforcement-incident-response.md").read_text(encoding="utf-8")
HEADER = RecordHeader.create(cluster="c", context="c", provider="kwok")
RECOVERY = "Recovery Procedures / Policy Enforcement Recovery"
MITIGATION = "Incident Response Actions / Immediate Mitigation"
FINAL_ENFORCE = ("# Finally, re-enable enforcement\nkubectl patch configmap policy-config -n "
                 "production --patch '{\"data\":{\"enforcement_mode\":\"enforce\"}}'\n")
SCALE = "kubectl scale deployment sidecar-watcher -n production --replicas=0"


def book(text: str = TEXT) -> Runbook:
    return parser.parse_bytes(text.encode(), "runbooks/rb.md")


def edited(old: str, new: str) -> Runbook:
    assert TEXT.count(old) == 1, old
    return book(TEXT.replace(old, new))


def result(cmd: Command, outcome: CommandOutcome = CommandOutcome.OK, reason: str = "",
           calls: tuple[ToolCall, ...] = ()) -> CommandResult:
    return CommandResult(command=cmd, intent=intent.classify(cmd.text).intent, outcome=outcome,
                         reason=reason, exit_status=0 if outcome is CommandOutcome.OK else 1,
                         started_wall="", at=0.0, duration_s=0.1, tool_calls=calls)


def run(b: Runbook, *, bad: dict[str, CommandOutcome] | None = None,
        calls: dict[str, tuple[ToolCall, ...]] | None = None,
        expectations: tuple[ExpectationResult, ...] = ()) -> RunbookRun:
    """Every command OK, except those whose text contains a key of ``bad``; each makes the
    tool calls of the first key of ``calls`` its text contains (default: every change and
    notification it has written, as a run that takes every branch would)."""
    results = []
    for c in b.commands:
        outcome = next((o for k, o in (bad or {}).items() if k in c.text), CommandOutcome.OK)
        if calls is None:
            made = tuple(call(*sig.split()) for sig in
                         regression.changes_written(c.text).elements())
        else:
            made = next((v for k, v in calls.items() if k in c.text), ())
        results.append(result(c, outcome, "" if outcome is CommandOutcome.OK else "exit 1",
                              made))
    return RunbookRun(header=HEADER, runbook=b.source, sha256=b.sha256, severity="SEV-1",
                      sections=(), sandbox="", results=tuple(results),
                      expectations=expectations)


def call(*argv: str) -> ToolCall:
    return ToolCall(tool=argv[0], argv=argv[1:], exit_status=0, started_wall="", duration_s=0.1)


def judge(base_book: Runbook | None, head_book: Runbook, base_run: RunbookRun | None,
          head_run: RunbookRun) -> list:  # type: ignore[type-arg]
    return regression.runbook(diff.diff(base_book, head_book), base_run, head_run,
                              file="runbooks/rb.md", severity="SEV-1")


def test_a_command_that_succeeded_at_the_base_and_fails_now_is_a_regression() -> None:
    base = book()
    head = edited("kubectl scale deployment sidecar-watcher -n production --replicas=0",
                  "kubectl scale deployment sidecar-watchr -n production --replicas=0")
    found = judge(base, head, run(base), run(head, bad={"sidecar-watchr": CommandOutcome.FAILED}))
    (f,) = found
    assert f.kind is FindingKind.COMMAND_FAILS and not f.standing
    assert f.section == MITIGATION and f.severity == "SEV-1"
    assert f.location == f"runbooks/rb.md:{next(c.line for c in head.commands if 'watchr' in c.text)}"
    assert f.base_detail == "ok"


def test_a_failure_above_the_first_changed_line_is_known_not_a_regression() -> None:
    """Seen on a loaded machine: the investigation's port-forward + ``sleep 2`` + curl failed
    at the head only, while the change edited the recovery far below it."""
    base = book()
    head = edited("--timeout=120s\n```\n\n### 3. Security Recovery",
                  "--timeout=180s\n```\n\n### 3. Security Recovery")
    bad = {"port-forward": CommandOutcome.FAILED, "timeout=180s": CommandOutcome.FAILED}
    found = judge(base, head, run(base), run(head, bad=bad))
    first = regression.first_change_line(diff.diff(base, head))
    assert first is not None
    early = next(f for f in found if "port-forward" in f.subject)
    assert early.line is not None and early.line < first
    assert early.standing and early.kind is FindingKind.COMMAND_FAILS
    assert early.base_detail.startswith(f"ok; it runs before line {first}, the first the change")
    # at or below the first changed line the change may be the cause: still a regression
    late = [f for f in found if "port-forward" not in f.subject]
    assert late and all(not f.standing and f.line >= first for f in late)


def test_with_a_section_removed_no_failure_is_excused_by_its_place() -> None:
    base = book()
    start = TEXT.index("### 2. Performance Recovery")
    end = TEXT.index("### 3. Security Recovery")
    head = book(TEXT[:start] + TEXT[end:])
    assert regression.first_change_line(diff.diff(base, head)) is None


def test_a_failure_at_the_base_too_is_standing() -> None:
    base = book()
    found = judge(base, base, run(base, bad={"pfctl rotate": CommandOutcome.FAILED}),
                  run(base, bad={"pfctl rotate": CommandOutcome.FAILED}))
    (f,) = found
    assert f.standing and f.kind is FindingKind.COMMAND_FAILS


def test_a_command_the_change_added_that_fails_is_a_regression() -> None:
    base = book()
    head = edited("# Optimize resource allocation\n",
                  "# Optimize resource allocation\nkubectl get deployment nope -n production\n")
    (f,) = judge(base, head, run(base), run(head, bad={"nope": CommandOutcome.FAILED}))
    assert f.kind is FindingKind.NEW_COMMAND_FAILS and not f.standing


def test_a_command_that_can_no_longer_run_is_a_regression() -> None:
    base = book()
    (f,) = judge(base, base, run(base),
                 run(base, bad={"policy update --env production --file security-patch":
                                   CommandOutcome.NOT_EXECUTABLE}))
    assert f.kind is FindingKind.COMMAND_FAILS and not f.standing
    assert f.detail.startswith("not_executable")


def test_not_executable_at_both_and_fixed_commands_are_no_finding() -> None:
    base = book()
    both = {"policy update --env production --file security-patch": CommandOutcome.NOT_EXECUTABLE}
    assert judge(base, base, run(base, bad=both), run(base, bad=both)) == []
    assert judge(base, base, run(base, bad={"rotate": CommandOutcome.FAILED}), run(base)) == []


def expectation(ok: bool, observed: str, text: str = "expect configmap policy-config "
                "enforcement_mode == enforce", section: str = RECOVERY) -> ExpectationResult:
    return ExpectationResult(section=section, line=240, text=text, ok=ok, observed=observed,
                             after_line=238)


def test_an_expectation_met_at_the_base_and_unmet_now_is_a_regression() -> None:
    base = book()
    (f,) = judge(base, base, run(base, expectations=(expectation(True, "enforcement_mode=enforce"),)),
                 run(base, expectations=(expectation(False, "enforcement_mode=monitor"),)))
    assert f.kind is FindingKind.EXPECTATION_UNMET and not f.standing
    assert f.detail == "observed enforcement_mode=monitor after line 238"
    assert f.base_detail == "met at the base"


def test_an_expectation_unmet_at_both_is_standing_and_a_new_unmet_one_is_not() -> None:
    base = book()
    (f,) = judge(base, base, run(base, expectations=(expectation(False, "x"),)),
                 run(base, expectations=(expectation(False, "y"),)))
    assert f.standing
    (g,) = judge(base, base, run(base), run(base, expectations=(expectation(False, "y"),)))
    assert not g.standing and g.base_detail == "not at the base"


def test_the_final_enforce_removed_is_a_removed_change() -> None:
    base, head = book(), edited(FINAL_ENFORCE, "")
    (f,) = regression.removed(diff.diff(base, head), "runbooks/rb.md")
    assert f.kind is FindingKind.CHANGE_REMOVED and not f.standing
    assert f.section == RECOVERY
    assert f.subject == "`kubectl patch configmap policy-config`"
    line = next(c.line for c in base.commands if '"enforce"' in c.text and c.section == RECOVERY)
    assert f.base_detail.startswith(f"base line {line}: `kubectl patch configmap policy-config")


def test_a_scale_dropped_from_an_if_block_is_a_removed_change() -> None:
    base = book()
    head = edited(f"  {SCALE}\n", "")
    (f,) = regression.removed(diff.diff(base, head), "runbooks/rb.md")
    assert f.subject == "`kubectl scale deployment sidecar-watcher`" and f.section == MITIGATION


def test_rewritten_or_moved_changes_are_not_removed() -> None:
    base = book()
    rewritten = edited('"enforce"}}\'\n\n# Verify', '"monitor"}}\'\n\n# Verify')
    typo = edited(SCALE, SCALE.replace("sidecar-watcher", "sidecar-watchr"))
    line = "./pfctl rotate --credentials --env production\n"
    moved = book(TEXT.replace(line, "", 1).replace("# Optimize resource allocation\n",
                                                    "# Optimize resource allocation\n" + line, 1))
    for head in (rewritten, typo, moved):
        assert regression.removed(diff.diff(base, head), "runbooks/rb.md") == []


def test_a_change_still_written_that_no_longer_runs_is_unreachable() -> None:
    base = book()
    head = edited('if [ "$SEVERITY" = "SEV-1" ]; then\n  # Disable',
                  'if [ "$SEVERITY" = "SEV-9" ]; then\n  # Disable')
    made = (call("kubectl", "patch", "configmap", "policy-config", "-n", "production", "--patch",
                 "{}"), call("kubectl", "scale", "deployment", "sidecar-watcher", "-n",
                             "production", "--replicas=0"),
            call("curl", "-sS", "-X", "POST", "$SECURITY_WEBHOOK", "-d", "{}"))
    found = judge(base, head, run(base, calls={"SEV-1": made}), run(head, calls={}))
    assert {f.kind for f in found} == {FindingKind.CHANGE_UNREACHABLE}
    assert sorted(f.detail for f in found) == [
        "`curl $SECURITY_WEBHOOK` is still written but no longer runs",
        "`kubectl patch configmap policy-config` is still written but no longer runs",
        "`kubectl scale deployment sidecar-watcher` is still written but no longer runs"]
    assert regression.removed(diff.diff(base, head), "runbooks/rb.md") == []


def test_without_a_base_every_failure_is_new() -> None:
    head = book()
    (f,) = judge(None, head, None, run(head, bad={"rotate": CommandOutcome.FAILED}))
    assert f.kind is FindingKind.NEW_COMMAND_FAILS and not f.standing


# --- drills ---------------------------------------------------------------------------------
def drill_result(verdict: Verdict, phase: Phase | None = None, reason: str = "") -> DrillResult:
    from pfdrill.drill import suitefile

    spec = suitefile.load(REPO / "drills" / "weekly.yaml").drills[0]
    return DrillResult(header=HEADER, run_id="r", spec=spec, verdict=verdict, phases=(),
                       timeline=(), evidence=DrillEvidence(), measures=Measures(),
                       incident_id="I", failing_phase=phase, reason=reason)


CHOSEN = Selected(suite="weekly", file="drills/weekly.yaml", drill="adapter-fail-open",
                  reasons=("x",), line=26)


def test_a_passing_drill_is_no_finding() -> None:
    assert regression.drill(CHOSEN, "drills/weekly.yaml", drill_result(Verdict.PASSED), None) is None


def test_a_drill_failing_the_same_way_at_the_base_is_known() -> None:
    head = drill_result(Verdict.FAILED, Phase.RECOVER,
                        "steady state not back within 180 s: sidecar-watcher ready 1/2 (INC-7F3A)")
    base = drill_result(Verdict.FAILED, Phase.RECOVER,
                        "steady state not back within 180 s: sidecar-watcher ready 0/2 (INC-0B1C)")
    f = regression.drill(CHOSEN, "drills/weekly.yaml", head, base)
    assert f is not None and f.standing and f.location == "drills/weekly.yaml:26"


def test_a_drill_failing_where_the_base_passed_or_otherwise_is_a_regression() -> None:
    head = drill_result(Verdict.FAILED, Phase.RECOVER, "recovery checks: enforcement_mode 'monitor'")
    for base in (drill_result(Verdict.PASSED), None,
                 drill_result(Verdict.FAILED, Phase.MITIGATE, "replicas 2")):
        f = regression.drill(CHOSEN, "drills/weekly.yaml", head, base)
        assert f is not None and not f.standing and f.kind is FindingKind.DRILL_FAILS
        assert f.detail == "failed in recover: recovery checks: enforcement_mode 'monitor'"


# --- when the base must run ------------------------------------------------------------------
def test_a_clean_head_needs_no_base_run() -> None:
    base = book()
    head = edited("--timeout=120s\n```\n\n### 3. Security Recovery",
                  "--timeout=180s\n```\n\n### 3. Security Recovery")
    d = diff.diff(base, head)
    assert regression.needs_base(d, {"SEV-1": run(head), "SEV-2": run(head)}) == ()


def test_a_failing_severity_needs_its_base_run_only() -> None:
    base = book()
    failing = run(base, bad={"rotate": CommandOutcome.FAILED})
    unmet = run(base, expectations=(expectation(False, "x"),))
    d = diff.diff(base, base)
    assert regression.needs_base(d, {"SEV-1": run(base), "SEV-2": failing}) == ("SEV-2",)
    assert regression.needs_base(d, {"SEV-1": unmet, "SEV-2": run(base)}) == ("SEV-1",)


def test_a_touched_change_command_or_a_change_that_never_runs_needs_every_base_run() -> None:
    base = book()
    typo = edited(SCALE, SCALE.replace("--replicas=0", "--replicas=0 --timeout=30s"))
    heads = {"SEV-1": run(typo), "SEV-2": run(typo)}
    assert regression.needs_base(diff.diff(base, typo), heads) == ("SEV-1", "SEV-2")
    # every change of the project's runbook made, except the final enforce: it never ran
    made = {c.text: tuple(call(*sig.split()) for sig in
                          regression.changes_written(c.text).elements())
            for c in base.commands if '"enforce"' not in c.text}
    assert regression.needs_base(diff.diff(base, base), {"SEV-1": run(base, calls=made)}) == (
        "SEV-1",)


def test_a_drill_that_could_not_start_is_not_judged_either_way() -> None:
    stuck = drill_result(Verdict.FAILED, Phase.PREFLIGHT,
                         "steady state does not hold: SEV-1/2 alerts firing: X")
    f = regression.drill(CHOSEN, "drills/weekly.yaml", stuck, None)
    assert f is not None and f.kind is FindingKind.DRILL_NOT_JUDGED
    head = drill_result(Verdict.FAILED, Phase.RECOVER, "recovery checks")
    g = regression.drill(CHOSEN, "drills/weekly.yaml", head, stuck)
    assert g is not None and g.kind is FindingKind.DRILL_NOT_JUDGED
    assert g.base_detail.startswith("the base run could not start")
