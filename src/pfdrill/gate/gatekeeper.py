"""``pfdrill gate`` from Python: plan, check the runbooks at base and head, run the touched drills.

::

    from pfdrill.drill import wiring
    from pfdrill.gate import gatekeeper, plan

    keeper = gatekeeper.Gatekeeper(plan.Request(repo=Path("."), base="origin/main"),
                                   wiring.StackEnvironmentFactory.from_options(name="pfdrill"),
                                   reports=Path("reports"))
    outcome = keeper.run()
    print(outcome.result.passed, outcome.report_dir / "summary.md")

The gate is a front-end: it decides which runbooks and drills run, against
which revision, and judges the results (:mod:`pfdrill.gate.regression`); the
runbook runs through the runbook check (:mod:`pfdrill.gate.check`) and drills
through :class:`~pfdrill.drill.suite.SuiteRunner` — the one sequencer.

Base results come from the cache when they can (:mod:`pfdrill.gate.cache`).
A drill runs at the base only when it failed at the head: a drill that
passes is no regression whatever the base did.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import shutil
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from pfdrill.drill.environment import DrillEnvironment
from pfdrill.drill.interrupts import interrupts_raise
from pfdrill.drill.observer import DrillObserver
from pfdrill.drill.suite import SuiteRunner, new_run_id
from pfdrill.drill.wiring import StackEnvironmentFactory
from pfdrill.gate import cache, check, regression, summary, touched
from pfdrill.gate.plan import Judged, Plan, Request, make
from pfdrill.model.drill import DrillSpec, SuiteSpec
from pfdrill.model.gate import (
    CheckSummary,
    DrillOutcome,
    Finding,
    GateResult,
    RunbookVerdict,
    Selected,
    Side,
    Timing,
)
from pfdrill.model.header import RecordHeader
from pfdrill.model.result import DrillResult
from pfdrill.model.runbook import RunbookRun
from pfdrill.model.sla import TimingProfile
from pfdrill.model.timeline import Phase
from pfdrill.report import writer
from pfdrill.runbook import coverage
from pfdrill.runbook.inputs import Options

log = logging.getLogger(__name__)
Progress = Callable[[str], None]


class SharedEnvironments:
    """One environment per timing profile for the whole gate (runbook checks and both sides'
    drills); the suite runners' ``close`` does nothing, :meth:`close` closes them."""

    def __init__(self, factory: StackEnvironmentFactory) -> None:
        self.factory = factory
        self._envs: dict[TimingProfile, DrillEnvironment] = {}

    def build(self, profile: TimingProfile) -> DrillEnvironment:
        if profile not in self._envs:
            self._envs[profile] = self.factory.build(profile)
        return dataclasses.replace(self._envs[profile], close=lambda: None)

    @property
    def context(self) -> str:
        """The cluster context the environments run in ('' before the first is built)."""
        return next(iter(self._envs.values())).cluster.context if self._envs else ""

    def close(self) -> None:
        for env in self._envs.values():
            try:
                env.close()
            except Exception as exc:  # the verdict stands; a stuck load generator is logged
                log.warning("closing the drill environment: %s", exc)
        self._envs.clear()


@dataclasses.dataclass(frozen=True)
class GateRun:
    result: GateResult
    report_dir: Path


class Gatekeeper:
    def __init__(self, request: Request, factory: StackEnvironmentFactory, *, reports: Path,
                 inputs: Path | None = None, use_cache: bool = True,
                 cache_dir: Path | None = None,
                 progress: Progress = lambda _m: None,
                 observers: Sequence[DrillObserver] = ()) -> None:
        self.request = request
        self.factory = factory
        self.run_id = new_run_id()
        self.report_dir = reports / "gate" / self.run_id
        self.inputs = inputs
        self.cache = cache.ResultCache(cache_dir or factory.paths.cache / "gate",
                                       enabled=use_cache)
        self.progress = progress
        self.observers = list(observers)
        self.envs = SharedEnvironments(factory)
        self._checker: check.Checker | None = None
        self._timing: dict[str, float] = {}

    # --- the whole gate --------------------------------------------------------------------
    def run(self) -> GateRun:
        started = time.monotonic()
        the_plan = make(self.request)
        try:
            with interrupts_raise():
                result = self._execute(the_plan, started)
        finally:
            self.envs.close()
            shutil.rmtree(the_plan.base_root, ignore_errors=True)
        summary.write(self.report_dir, result)
        return GateRun(result, self.report_dir)

    def _execute(self, p: Plan, started: float) -> GateResult:
        self.progress(f"[gate] base {p.base.name} ({p.base.short}); {len(p.changed)} changed "
                      f"file(s); {len(p.runbooks)} runbook(s) to check; "
                      f"{len(p.selected)} drill(s) selected")
        findings: list[Finding] = list(p.findings)
        verdicts: list[RunbookVerdict] = []
        for judged in p.runbooks:
            verdict, found = self._runbook(judged)
            verdicts.append(verdict)
            findings += found
        outcomes: list[DrillOutcome] = []
        skipped = ""
        if p.selected and self.request.fail_fast and any(not f.standing for f in findings):
            skipped = "--fail-fast: the runbook check already found a regression"
        elif p.selected:
            outcomes, drill_findings = self._drills(p)
            findings += drill_findings
        t = self._timing
        timing = Timing(setup_s=round(t.get("setup", 0.0), 1),
                        base_check_s=round(t.get("base_check", 0.0), 1),
                        head_check_s=round(t.get("head_check", 0.0), 1),
                        drills_s=round(t.get("drills", 0.0), 1),
                        base_drills_s=round(t.get("base_drills", 0.0), 1),
                        total_s=round(time.monotonic() - started, 1))
        header = RecordHeader.create(cluster=self.factory.name,
                                     context=self.envs.context, provider=self.factory.provider)
        return GateResult(header=header, repo=str(p.root), base_name=p.base.name,
                          base_commit=p.base.commit, head_commit=p.head_commit,
                          changed_files=p.changed, runbooks=tuple(verdicts),
                          selected=p.selected, drills=tuple(outcomes),
                          findings=tuple(findings), strict=self.request.strict, timing=timing,
                          skipped=skipped, notes=p.notes)

    def _timed(self, key: str, start: float) -> None:
        self._timing[key] = self._timing.get(key, 0.0) + time.monotonic() - start

    # --- the runbook check -----------------------------------------------------------------
    def _checker_for(self) -> check.Checker:
        if self._checker is None:
            t = time.monotonic()
            env = self.envs.build(TimingProfile.DRILL)
            options = Options(inputs=str(self.inputs) if self.inputs else "")
            self._checker = check.Checker(env, self.factory.runbook_environment(), options)
            self._timed("setup", t)
        return self._checker

    def _cache_key(self, kind: str, **parts: object) -> str:
        return cache.key(kind, {"provider": self.factory.provider, "cluster": self.envs.context,
                                "namespace": self.factory.config.namespace,
                                "inputs": cache.digest_dir(self.inputs), **parts})

    def _check(self, judged: Judged, side: Side, severity: str) -> tuple[RunbookRun, bool]:
        """A run of one side under one severity: (run, came from the cache)."""
        checker = self._checker_for()
        book = judged.book.head if side is Side.HEAD else judged.book.base
        assert book is not None
        path = judged.book.head.source if side is Side.HEAD else str(judged.base_path)
        key = self._cache_key("runbook-check", sha256=book.sha256, severity=severity,
                              file=judged.book.file)
        if side is Side.BASE:
            hit = self.cache.get(key, RunbookRun)
            if hit is not None:
                self.progress(f"[gate] {judged.book.file} at the base, SEVERITY={severity}: "
                              "from the cache")
                return hit, True
        self.progress(f"[gate] {judged.book.file} at the {side.value}, SEVERITY={severity}: "
                      "running the whole runbook")
        t = time.monotonic()
        run = check.run(checker, path, severity, run_id=self.run_id,
                        progress=lambda m: self.progress(f"[safety] {m}"))
        self._timed(f"{side.value}_check", t)
        if side is Side.BASE:
            self.cache.put(key, run)
        return run, False

    def _runbook(self, judged: Judged) -> tuple[RunbookVerdict, list[Finding]]:
        """The head under every severity, then the base where the head needs explaining."""
        book = judged.book
        summaries: list[CheckSummary] = []
        note = ""
        heads: dict[str, RunbookRun] = {}
        bases: dict[str, RunbookRun] = {}
        for sev in judged.severities:
            if book.base is not None and book.diff.identical:
                # unchanged: one run is both sides, and it is the base's (cacheable)
                heads[sev], cached = self._check(judged, Side.BASE, sev)
                bases[sev] = heads[sev]
                summaries.append(_summary(Side.BASE, sev, heads[sev], cached))
                note = "unchanged: one run per severity serves as base and head"
            else:
                heads[sev], _ = self._check(judged, Side.HEAD, sev)
                summaries.append(_summary(Side.HEAD, sev, heads[sev], False))
            self._save_run(book.file, Side.HEAD, sev, heads[sev])
        if book.base is not None and not book.diff.identical:
            wanted = regression.needs_base(book.diff, heads)
            for sev in wanted:
                bases[sev], cached = self._check(judged, Side.BASE, sev)
                summaries.append(_summary(Side.BASE, sev, bases[sev], cached))
            if not wanted:
                note = "the head has nothing the base must explain: the base was not run"
        findings: list[Finding] = []
        for sev in judged.severities:
            findings += regression.runbook(book.diff, bases.get(sev), heads[sev],
                                           file=book.file, severity=sev)
        return RunbookVerdict(diff=book.diff, severities=judged.severities,
                              checks=tuple(summaries), note=note), findings

    def _save_run(self, file: str, side: Side, severity: str, run: RunbookRun) -> None:
        out = self.report_dir / "runbook"
        out.mkdir(parents=True, exist_ok=True)
        name = f"{Path(file).stem}-{side.value}-{severity}.json"
        (out / name).write_text(json.dumps(run.to_dict(), indent=1), encoding="utf-8")

    # --- drills ------------------------------------------------------------------------------
    def _suite_run(self, specs: list[DrillSpec], name: str, file: str,
                   out: Path) -> dict[str, DrillResult]:
        suite = SuiteSpec(name=name, file=file, drills=tuple(specs))
        runner = SuiteRunner(suite, self.envs, run_id=self.run_id,
                             observers=self.observers, writers=[writer.ReportWriter(out)])
        result = runner.run()
        return {r.name: r for r in result.results}

    def _drills(self, p: Plan) -> tuple[list[DrillOutcome], list[Finding]]:
        self._checker_for()  # the environment is timed as set-up, not as drills
        by_file: dict[str, list[Selected]] = {}
        for s in p.selected:
            by_file.setdefault(s.file, []).append(s)
        heads: dict[tuple[str, str], DrillResult] = {}
        t = time.monotonic()
        for file, chosen in by_file.items():
            suite = next(s for s in p.suites if s.file == file)
            self.progress(f"[gate] {file}: running {', '.join(c.drill for c in chosen)} at the "
                          "head")
            got = self._suite_run([p.head_spec(c) for c in chosen], f"{suite.head.name}-head",
                                  file, self.report_dir / "drills" / Path(file).stem)
            heads.update({(file, n): r for n, r in got.items()})
        self._timed("drills", t)
        outcomes: list[DrillOutcome] = []
        findings: list[Finding] = []
        for s in p.selected:
            head = heads[(s.file, s.drill)]
            unexplained = not head.verdict.ok and head.failing_phase is not Phase.PREFLIGHT
            base, cached = self._base_drill(p, s) if unexplained else (None, False)
            found = regression.drill(s, s.file, head, base)
            if found is not None:
                findings.append(found)
            outcomes.append(DrillOutcome(
                drill=s, head_verdict=head.verdict.value,
                head_phase=head.failing_phase.value if head.failing_phase else "",
                head_reason=head.reason, base_verdict=base.verdict.value if base else "",
                base_phase=base.failing_phase.value if base and base.failing_phase else "",
                base_reason=base.reason if base else "", base_cached=cached,
                duration_s=head.duration_s))
        return outcomes, findings

    def _base_drill(self, p: Plan, s: Selected) -> tuple[DrillResult | None, bool]:
        spec = p.base_spec(s)
        if spec is None or spec.runbook is None:
            return None, False
        book_sha = _sha(Path(spec.runbook.path))
        key = self._cache_key("drill", entry=touched.entry(spec, p.base_root), runbook=book_sha)
        hit = self.cache.get(key, DrillResult)
        if hit is not None:
            self.progress(f"[gate] {s.drill} at the base: from the cache")
            return hit, True
        self.progress(f"[gate] {s.drill} failed at the head: running it at the base")
        t = time.monotonic()
        got = self._suite_run([spec], f"{s.suite}-base", s.file,
                              self.report_dir / "drills-base" / Path(s.file).stem)
        self._timed("base_drills", t)
        result = got.get(s.drill)
        if result is not None:
            self.cache.put(key, result)
        return result, False


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else ""


def _summary(side: Side, severity: str, run: RunbookRun, cached: bool) -> CheckSummary:
    counts = coverage.summarise(run)
    return CheckSummary(
        side=side, severity=severity, runbook=run.runbook, sha256=run.sha256,
        commands=counts.total, ok=counts.ok, failed=counts.failed,
        not_executable=counts.not_executable, expectations_unmet=counts.expectations_failed,
        duration_s=round(sum(r.duration_s for r in run.results), 1), cached=cached,
        sandbox=run.sandbox)

