"""The sidecar-watcher's state and its decide logic, independent of HTTP.

:class:`Watcher` holds the last good policy config, DFA, trust bundle and
drill knobs; ``apply_*`` take a projected directory's content (or None when
it is absent) and either accept it or refuse it loudly — an ERROR line and a
metric — keeping what it had. :meth:`Watcher.decide` turns one request body
into an HTTP status and a JSON answer, counting and logging every request.
"""

from __future__ import annotations

import asyncio
import collections
import os
import time
from typing import Any

from pfdrill.errors import InvalidInput
from pfdrill.fabric import certs, decision, enforcement
from pfdrill.fabric.chaos import KnobsRefused, WatcherKnobs
from pfdrill.fabric.dfa import Dfa, DfaRefused, load_artifact
from pfdrill.fabric.logline import LogLine
from pfdrill.fabric.logsink import LogSink
from pfdrill.fabric.permit import CachedPermitSource, PermitSource
from pfdrill.fabric.policy import ConfigRefused, EnforcementMode, PolicyConfig
from pfdrill.fabric.projected import Files, texts
from pfdrill.fabric.request import DecideRequest, MalformedRequest
from pfdrill.fabric.telemetry import Telemetry
from pfdrill.model import metrics as m
from pfdrill.model.fabric import FABRIC

RECENT = 200
_NOTE_METRIC = {
    decision.Note.CERT_CHECKED: m.CERTS,
    decision.Note.CERT_VERIFIED: m.CERTS_VERIFIED,
    decision.Note.WITNESS_CHECKED: m.WITNESS_VALIDATIONS,
    decision.Note.WITNESS_FAILED: m.WITNESS_FAILURES,
    decision.Note.NI_REJECT: m.NI_REJECTS,
    decision.Note.HA_VIOLATION: m.HIGH_ASSURANCE_VIOLATIONS,
    decision.Note.FAIL_OPEN: m.ADAPTER_FAIL_OPEN,
}


def burn_cpu(ms: float) -> None:
    """Spin for ``ms`` of CPU time on the event loop: the performance-degradation fault."""
    end = time.thread_time() + ms / 1000
    while time.thread_time() < end:
        pass


class Watcher:
    def __init__(self, permits: PermitSource, sink: LogSink | None = None) -> None:
        self.telemetry = Telemetry(m.WATCHER_METRICS)
        self.sink = sink or LogSink()
        self.raw_permits = permits
        self.cached_permits = CachedPermitSource(permits)
        self.config: PolicyConfig | None = None
        self.dfa: Dfa | None = None
        self.bundle: certs.TrustBundle | None = None
        self.knobs = WatcherKnobs()
        self.cert_cache = decision.CertCache(PolicyConfig().cache_size)
        self.recent: collections.deque[dict[str, Any]] = collections.deque(maxlen=RECENT)
        self.started = time.time()
        self._ok = {"config": False, "dfa": False, "bundle": False}
        t = self.telemetry
        self._requests = t[m.REQUESTS]
        self._decisions = {(mode, o): t[m.DECISIONS].labels(mode=mode, outcome=o)
                           for mode in m.ENFORCEMENT_MODES for o in m.DECISION_OUTCOMES}
        self._rejects = {r: t[m.PERMIT_REJECTS].labels(reason=r) for r in m.REJECT_REASONS}
        self._adapter_errors = {k: t[m.ADAPTER_ERRORS].labels(kind=k) for k in m.ADAPTER_ERROR_KINDS}
        self._notes = {n: t[metric] for n, metric in _NOTE_METRIC.items()}
        self._duration = t[m.MONITOR_DURATION]
        for r in m.RELOAD_RESULTS:
            t[m.CONFIG_RELOADS].labels(result=r)
        for r in m.DFA_FAILURE_REASONS:
            t[m.DFA_LOAD_FAILURES].labels(reason=r)
        self._update_gauges()

    # -- readiness and gauges -------------------------------------------------
    @property
    def ready(self) -> bool:
        return self.config is not None and self.dfa is not None and self.bundle is not None

    def missing(self) -> list[str]:
        return [name for name, have in ((FABRIC.policy_config, self.config), (FABRIC.dfa_artifact, self.dfa),
                                        ("trust bundle", self.bundle)) if have is None]

    @property
    def mode(self) -> EnforcementMode | None:
        return self.config.enforcement_mode if self.config else None

    def _update_gauges(self) -> None:
        t = self.telemetry
        mode = self.mode
        for name in m.ENFORCEMENT_MODES:
            t[m.ENFORCEMENT_MODE].labels(mode=name).set(1 if mode and mode.value == name else 0)
        t[m.HIGH_ASSURANCE_MODE].set(1 if self.config and self.config.high_assurance_mode else 0)
        t[m.DFA_INTEGRITY_OK].set(1 if self._ok["dfa"] else 0)
        t[m.CONFIG_LAST_RELOAD_OK].set(1 if self._ok["config"] else 0)
        t[m.TRUST_BUNDLE_OK].set(1 if self._ok["bundle"] else 0)
        full = mode in (EnforcementMode.ENFORCE, EnforcementMode.MONITOR, EnforcementMode.SHADOW)
        t[m.BRIDGE_OK].set(1 if self.ready and all(self._ok.values()) and full else 0)

    def log(self, level: str, event: str, tags: tuple[str, ...] = (), **fields: Any) -> None:
        self.sink.emit(LogLine(level, event, tags, {k: str(v) for k, v in fields.items()}))

    # -- applying projected content ---------------------------------------------
    def apply_config(self, files: Files | None) -> None:
        reloads = self.telemetry[m.CONFIG_RELOADS]
        try:
            if files is None:
                raise ConfigRefused("the policy-config directory does not exist")
            new = PolicyConfig.parse(texts(files))
        except ConfigRefused as exc:
            reloads.labels(result="failure").inc()
            self._ok["config"] = False
            kept = self.config.enforcement_mode.value if self.config else "none"
            self.log("ERROR", "config_reload", ("ERROR", "CONFIG_INVALID"), result="failure",
                     kept_mode=kept, msg=f"policy-config refused: {exc}")
        else:
            old = self.config
            self.config = new
            self._ok["config"] = True
            reloads.labels(result="success").inc()
            self.cert_cache.resize(new.cache_size)
            self.cached_permits.clear()
            self.sink.set_level(new.log_level)
            self.sink.set_async(new.async_processing, new.batch_size)
            changed = "" if old is None else ",".join(
                k for k, v in new.to_dict().items() if old.to_dict()[k] != v)
            tags = ("BREAK_GLASS",) if new.enforcement_mode is EnforcementMode.BREAK_GLASS else (
                ("BYPASS",) if new.enforcement_mode is EnforcementMode.DISABLED else ())
            level = "WARNING" if tags else "INFO"
            self.log(level, "config_reload", tags, result="success",
                     mode=new.enforcement_mode.value, changed=changed or "-")
        self._update_gauges()

    def apply_dfa(self, files: Files | None) -> None:
        try:
            if files is None:
                raise DfaRefused("missing", "the dfa-artifact directory does not exist")
            new = load_artifact(files)
        except DfaRefused as exc:
            self.telemetry[m.DFA_LOAD_FAILURES].labels(reason=exc.reason).inc()
            self._ok["dfa"] = False
            kept = f"{self.dfa.name}@{self.dfa.sha256[:12]}" if self.dfa else "none"
            self.log("ERROR", "dfa_load", ("ERROR", "DFA_INTEGRITY"), result="refused",
                     reason=exc.reason, kept=kept, msg=f"DFA_INTEGRITY: {exc}")
        else:
            self.dfa = new
            self._ok["dfa"] = True
            self.log("INFO", "dfa_load", (), result="loaded", name=new.name, sha256=new.sha256)
        self._update_gauges()

    def apply_bundle(self, files: Files | None) -> None:
        try:
            raw = (files or {}).get(certs.BUNDLE_KEY)
            if raw is None:
                raise InvalidInput(f"no {certs.BUNDLE_KEY} in the fabric-certs volume")
            new = certs.TrustBundle.parse(raw)
        except InvalidInput as exc:
            self.telemetry[m.TRUST_BUNDLE_FAILURES].inc()
            self._ok["bundle"] = False
            self.log("ERROR", "trust_bundle_load", ("ERROR", "AUTH_FAILED"), result="refused",
                     kept=self.bundle.fingerprint if self.bundle else "none", msg=str(exc))
        else:
            if self.bundle is None or new.keys != self.bundle.keys:
                self.cert_cache.clear()  # a removed CA key must stop verifying at once
            self.bundle = new
            self._ok["bundle"] = True
            self.log("INFO", "trust_bundle_load", (), result="loaded",
                     keys=",".join(new.key_ids), fingerprint=new.fingerprint)
        self._update_gauges()

    def apply_knobs(self, files: Files | None) -> None:
        try:
            new = WatcherKnobs.parse(texts(files or {}))
        except KnobsRefused as exc:
            self.log("ERROR", "chaos_reload", ("ERROR",), result="failure", msg=f"fabric-chaos refused: {exc}")
            return
        if new != self.knobs:
            self.knobs = new
            self.log("WARNING" if new.active else "INFO", "chaos_reload", (), result="success",
                     added_latency_ms=new.added_latency_ms, cpu_burn_ms=new.cpu_burn_ms)

    # -- deciding -----------------------------------------------------------------
    async def decide(self, body: bytes) -> tuple[int, dict[str, Any]]:
        start = time.perf_counter()
        self._requests.inc()
        mode = self.mode
        mode_name = mode.value if mode else "enforce"
        try:
            req = DecideRequest.parse(body)
        except MalformedRequest as exc:
            self._decisions[(mode_name, "error")].inc()
            self._rejects["malformed"].inc()
            self.log("WARNING", "decision", ("REJECT",), mode=mode_name, outcome="error",
                     reason="malformed", rule="request:malformed", msg=str(exc))
            return 400, {"allow": False, "outcome": "error", "reason": "malformed", "error": str(exc)}
        if not self.ready or self.config is None or self.dfa is None or self.bundle is None:
            self._decisions[(mode_name, "error")].inc()
            self.log("ERROR", "decision", ("ERROR",), mode=mode_name, outcome="error",
                     principal=req.principal, action=req.action, reason="not_ready",
                     request_id=req.request_id, msg="missing " + ", ".join(self.missing()))
            return 503, {"allow": False, "outcome": "error", "reason": "not_ready",
                         "request_id": req.request_id}
        config = self.config
        assert mode is not None
        knobs = self.knobs
        if knobs.cpu_burn_ms:
            burn_cpu(knobs.cpu_burn_ms)
        if knobs.added_latency_ms:
            await asyncio.sleep(knobs.added_latency_ms / 1000)
        rule_of_mode = enforcement.MODES[mode]
        finding: decision.Finding | None = None
        ctx: decision.Context | None = None
        if rule_of_mode.decides:
            ctx = decision.Context(
                config=config, dfa=self.dfa, bundle=self.bundle,
                permits=self.cached_permits if config.performance_mode else self.raw_permits,
                now=time.time(), cert_cache=self.cert_cache if config.cache_size else None)
            finding = await decision.evaluate(req, ctx)
            for note in ctx.notes:
                self._notes[note].inc()
            for kind in ctx.adapter_errors:
                self._adapter_errors[kind].inc()
        verdict = rule_of_mode.verdict(finding)
        if not verdict.allow and finding is not None:
            self._rejects[finding.check.value].inc()
        self._decisions[(mode.value, verdict.outcome)].inc()
        tags = verdict.tags
        if ctx is not None and decision.Note.FAIL_OPEN in ctx.notes:
            tags = (*tags, "BYPASS")
        elapsed = time.perf_counter() - start
        self._duration.observe(elapsed)
        record = {
            "mode": mode.value, "outcome": verdict.outcome, "principal": req.principal,
            "action": req.action, "reason": finding.check.value if finding else "-",
            "rule": finding.rule if finding else "-", "request_id": req.request_id,
        }
        self.recent.append({"ts": time.time(), **record})
        level = "WARNING" if ctx and ctx.adapter_errors and verdict.level == "INFO" else verdict.level
        self.sink.emit(LogLine(level, "decision", tags,
                               {**record, "latency_ms": f"{elapsed * 1000:.2f}"}))
        answer: dict[str, Any] = {"allow": verdict.allow, **record}
        return verdict.status, answer

    # -- state dump -------------------------------------------------------------------
    def snapshot(self) -> dict[str, Any]:
        return {
            "service": FABRIC.watcher,
            "pid": os.getpid(),
            "started": self.started,
            "dumped": time.time(),
            "ready": self.ready,
            "missing": self.missing(),
            "config": self.config.to_dict() if self.config else None,
            "dfa": {"name": self.dfa.name, "sha256": self.dfa.sha256} if self.dfa else None,
            "trust_bundle": {"keys": list(self.bundle.key_ids),
                             "fingerprint": self.bundle.fingerprint} if self.bundle else None,
            "chaos": self.knobs.to_dict(),
            "last_load_ok": dict(self._ok),
            "cert_cache_entries": len(self.cert_cache),
            "counters": self.telemetry.samples(),
            "recent_decisions": list(self.recent),
        }
