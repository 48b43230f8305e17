from __future__ import annotations

import io
import json
import time

import pytest
from fabric_support import FakePermits, body, dfa_files, run
from hypothesis import given, settings
from hypothesis import strategies as st

from pfdrill.fabric import certs, decision, logline
from pfdrill.fabric.authority import Authority, Identity
from pfdrill.fabric.labels import Label
from pfdrill.fabric.logsink import LogSink
from pfdrill.fabric.request import DecideRequest
from pfdrill.fabric.service import Watcher


def make(authority: Authority, mode: str = "enforce", permits: FakePermits | None = None,
         stream: io.StringIO | None = None, **extra: str) -> Watcher:
    w = Watcher(permits or FakePermits(), LogSink(stream or io.StringIO(), "DEBUG"))
    w.apply_config({"enforcement_mode": mode.encode(), **{k: v.encode() for k, v in extra.items()}})
    w.apply_dfa(dfa_files())
    w.apply_bundle({certs.BUNDLE_KEY: authority.bundle().to_json().encode()})
    return w


def value(w: Watcher, name: str, **labels: str) -> float:
    got = w.telemetry.registry.get_sample_value(name, labels)
    return 0.0 if got is None else got


def lines(stream: io.StringIO) -> list[logline.LogLine]:
    return [p for p in map(logline.parse, stream.getvalue().splitlines()) if p is not None]


def test_not_ready_until_config_dfa_and_bundle_are_loaded(authority: Authority) -> None:
    w = Watcher(FakePermits(), LogSink(io.StringIO()))
    assert not w.ready and w.missing() == ["policy-config", "dfa-artifact", "trust bundle"]
    status, answer = run(w.decide(body(None)))
    assert status == 503 and answer["reason"] == "not_ready"
    w.apply_config({})
    w.apply_dfa(dfa_files())
    assert not w.ready
    w.apply_bundle({certs.BUNDLE_KEY: authority.bundle().to_json().encode()})
    assert w.ready and value(w, "bridge_guarantee_local_checks_ok") == 1


def test_valid_reload_changes_mode_and_gauges(authority: Authority) -> None:
    w = make(authority)
    assert value(w, "enforcement_mode", mode="enforce") == 1
    w.apply_config({"enforcement_mode": b"shadow\n"})
    assert value(w, "enforcement_mode", mode="shadow") == 1
    assert value(w, "enforcement_mode", mode="enforce") == 0
    assert value(w, "config_reloads_total", result="success") == 2
    assert value(w, "config_last_reload_success") == 1


@pytest.mark.parametrize("bad", [{"enforcement_mode": b"yolo"}, {"cache_size": b"many"},
                                 {"enforcment_mode": b"enforce"}])
def test_invalid_reload_is_refused_loudly_and_last_good_stays(authority: Authority,
                                                              bad: dict[str, bytes]) -> None:
    stream = io.StringIO()
    w = make(authority, "monitor", stream=stream)
    w.apply_config(bad)
    assert w.mode is not None and w.mode.value == "monitor"
    assert value(w, "config_reloads_total", result="failure") == 1
    assert value(w, "config_last_reload_success") == 0
    assert value(w, "bridge_guarantee_local_checks_ok") == 0
    err = [ln for ln in lines(stream) if ln.level == "ERROR"]
    assert len(err) == 1 and "ERROR" in err[0].tags and err[0].fields["kept_mode"] == "monitor"
    assert "policy-config refused" in err[0].fields["msg"]
    w.apply_config({"enforcement_mode": b"monitor"})
    assert value(w, "config_last_reload_success") == 1


def test_dfa_with_bad_sha256_is_refused_and_last_good_kept(authority: Authority, frontend: Identity) -> None:
    stream = io.StringIO()
    w = make(authority, stream=stream)
    good = w.dfa
    tampered = dfa_files()
    tampered["dfa.json"] = tampered["dfa.json"].replace(b'"login": "active"', b'"read": "active"')
    w.apply_dfa(tampered)
    assert w.dfa is good
    assert value(w, "dfa_integrity_ok") == 0
    assert value(w, "dfa_load_failures_total", reason="sha256") == 1
    err = [ln for ln in lines(stream) if ln.level == "ERROR"][-1]
    assert "DFA_INTEGRITY" in err.tags and err.fields["msg"].startswith("DFA_INTEGRITY: sha256 mismatch")
    status, _ = run(w.decide(body(frontend)))  # still deciding with the last good DFA
    assert status == 200


def test_schema_invalid_dfa_is_refused(authority: Authority) -> None:
    w = make(authority)
    w.apply_dfa(dfa_files(b'{"version": 1, "name": "x"}'))
    assert value(w, "dfa_load_failures_total", reason="schema") == 1
    assert w.dfa is not None and w.dfa.name == "session-lifecycle"


def test_corrupt_trust_bundle_is_refused_and_last_good_kept(authority: Authority, frontend: Identity) -> None:
    stream = io.StringIO()
    w = make(authority, stream=stream)
    w.apply_bundle({certs.BUNDLE_KEY: b'{"version": 1, "keys": [{"garbage": true}]}'})
    assert value(w, "trust_bundle_ok") == 0 and value(w, "trust_bundle_load_failures_total") == 1
    assert any("corrupt trust bundle" in ln.fields.get("msg", "") for ln in lines(stream))
    assert run(w.decide(body(frontend)))[0] == 200


def test_rotating_the_bundle_stops_trusting_the_old_ca_despite_the_cache(
        authority: Authority, frontend: Identity) -> None:
    w = make(authority)
    assert run(w.decide(body(frontend)))[0] == 200
    w.apply_bundle({certs.BUNDLE_KEY: Authority.generate().bundle().to_json().encode()})
    status, answer = run(w.decide(body(frontend)))
    assert status == 403 and answer["rule"] == "certificate:unknown_ca"


def test_malformed_json_is_a_400_with_a_metric_and_the_service_keeps_going(
        authority: Authority, frontend: Identity) -> None:
    stream = io.StringIO()
    w = make(authority, stream=stream)
    status, answer = run(w.decide(b"{not json"))
    assert status == 400 and answer["reason"] == "malformed"
    assert value(w, "permit_rejects_total", reason="malformed") == 1
    assert value(w, "decisions_total", mode="enforce", outcome="error") == 1
    assert lines(stream)[-1].fields["reason"] == "malformed"
    assert run(w.decide(body(frontend)))[0] == 200


def test_decision_lines_carry_grep_words_and_counters(authority: Authority, frontend: Identity) -> None:
    stream = io.StringIO()
    w = make(authority, stream=stream)
    run(w.decide(body(frontend, src="secret", dst="public")))
    line = lines(stream)[-1]
    assert line.event == "decision" and {"REJECT", "POLICY_VIOLATION"} <= set(line.tags)
    assert line.fields["principal"] == "svc-frontend" and line.fields["outcome"] == "reject"
    assert line.fields["reason"] == "ni" and line.fields["rule"].startswith("ni:")
    assert value(w, "ni_monitor_rejects_total") == 1
    assert value(w, "permit_rejects_total", reason="ni") == 1
    assert value(w, "certs_total") == 1 and value(w, "certs_verified_total") == 1
    run(w.decide(body(None)))
    assert "UNAUTHORIZED" in lines(stream)[-1].tags and value(w, "certs_verified_total") == 1


def test_break_glass_logs_every_request_and_overrides(authority: Authority, frontend: Identity) -> None:
    stream = io.StringIO()
    w = make(authority, "break_glass", stream=stream)
    assert run(w.decide(body(frontend)))[0] == 200
    assert run(w.decide(body(frontend, trace=[])))[0] == 200
    tags = [set(ln.tags) for ln in lines(stream) if ln.event == "decision"]
    assert all("BREAK_GLASS" in t for t in tags) and "OVERRIDE" in tags[1]


def test_fail_open_allows_counts_and_logs_bypass(authority: Authority, frontend: Identity) -> None:
    stream = io.StringIO()
    w = make(authority, permits=FakePermits(fail="connect"), stream=stream,
             adapter_failure_mode="fail_open")
    assert run(w.decide(body(frontend)))[0] == 200
    assert value(w, "policy_adapter_fail_open_total") == 1
    assert value(w, "policy_adapter_errors_total", kind="connect") == 1
    assert "BYPASS" in lines(stream)[-1].tags
    w.apply_config({"adapter_failure_mode": b"fail_closed"})
    status, answer = run(w.decide(body(frontend)))
    assert status == 403 and answer["rule"] == "adapter:connect fail_closed"


def test_performance_mode_caches_permits(authority: Authority, frontend: Identity) -> None:
    permits = FakePermits()
    w = make(authority, permits=permits, performance_mode="enabled")
    for _ in range(5):
        run(w.decide(body(frontend)))
    assert len(permits.calls) == 1
    w.apply_config({"performance_mode": b"disabled"})
    run(w.decide(body(frontend)))
    assert len(permits.calls) == 2


def test_chaos_knobs_apply_and_invalid_ones_are_refused(authority: Authority, frontend: Identity) -> None:
    stream = io.StringIO()
    w = make(authority, stream=stream)
    w.apply_knobs({"added_latency_ms": b"5", "cpu_burn_ms": b"1"})
    assert w.knobs.added_latency_ms == 5 and w.knobs.cpu_burn_ms == 1
    assert run(w.decide(body(frontend)))[0] == 200
    w.apply_knobs({"added_latency_ms": b"-3"})
    assert w.knobs.added_latency_ms == 5
    assert lines(stream)[-1].level == "ERROR"
    w.apply_knobs(None)
    assert not w.knobs.active


def test_snapshot_has_config_counters_and_recent_decisions(authority: Authority, frontend: Identity) -> None:
    w = make(authority, "monitor")
    run(w.decide(body(frontend, trace=[])))
    snap = json.loads(json.dumps(w.snapshot()))
    assert snap["config"]["enforcement_mode"] == "monitor"
    assert snap["recent_decisions"][-1]["outcome"] == "would_reject"
    assert any(c["name"] == "requests_total" and c["value"] == 1 for c in snap["counters"])


# --- properties of the enforcement modes ------------------------------------------

_AUTH = Authority.generate()
_IDS = {
    "svc-frontend": _AUTH.issue("svc-frontend", ["login", "read", "write", "review", "logout"], Label.INTERNAL),
    "svc-intern": _AUTH.issue("svc-intern", ["login", "read", "review", "export"], Label.INTERNAL),
    "svc-reporting": _AUTH.issue("svc-reporting", ["*"], Label.SECRET),
}
_LABELS = st.sampled_from([lab.value for lab in Label])
_EVENTS = st.sampled_from(["login", "read", "write", "review", "export", "logout", "delete"])


@st.composite
def requests(draw: st.DrawFn) -> bytes:
    who = draw(st.sampled_from(sorted(_IDS)))
    ident = draw(st.sampled_from([_IDS[who], None, _IDS["svc-reporting"]]))
    return body(ident, draw(_EVENTS), draw(st.lists(_EVENTS, max_size=4)), draw(_LABELS), draw(_LABELS),
                sign=draw(st.booleans()), principal=who,
                witness_text=draw(st.sampled_from([None, None, "AAAA"])))


_CONFIG = st.fixed_dictionaries({}, optional={
    "high_assurance_mode": st.sampled_from([b"true", b"false"]),
    "adapter_failure_mode": st.sampled_from([b"fail_open", b"fail_closed"]),
})


def _watcher(mode: str, config: dict[str, bytes], fail: str | None) -> Watcher:
    w = Watcher(FakePermits(fail=fail), LogSink(io.StringIO(), "ERROR"))
    w.apply_config({"enforcement_mode": mode.encode(), **config})
    w.apply_dfa(dfa_files())
    w.apply_bundle({certs.BUNDLE_KEY: _AUTH.bundle().to_json().encode()})
    return w


@settings(max_examples=150, deadline=None)
@given(raw=requests(), config=_CONFIG, fail=st.sampled_from([None, None, "timeout"]))
def test_enforce_rejects_exactly_what_the_pipeline_finds(raw: bytes, config: dict[str, bytes],
                                                         fail: str | None) -> None:
    w = _watcher("enforce", config, fail)
    assert w.config is not None and w.dfa is not None and w.bundle is not None
    ctx = decision.Context(config=w.config, dfa=w.dfa, bundle=w.bundle, permits=FakePermits(fail=fail),
                           now=time.time())
    finding = run(decision.evaluate(DecideRequest.parse(raw), ctx))
    status, answer = run(w.decide(raw))
    assert (status == 403) == (finding is not None)
    assert answer["allow"] == (finding is None)
    if finding is not None:
        assert answer["reason"] == finding.check.value and answer["rule"] == finding.rule


@settings(max_examples=100, deadline=None)
@given(raw=requests(), config=_CONFIG, mode=st.sampled_from(["shadow", "monitor", "break_glass"]),
       fail=st.sampled_from([None, "connect"]))
def test_shadow_monitor_and_break_glass_never_reject(raw: bytes, config: dict[str, bytes], mode: str,
                                                     fail: str | None) -> None:
    w = _watcher(mode, config, fail)
    status, answer = run(w.decide(raw))
    assert status == 200 and answer["allow"] is True
    assert answer["outcome"] in ("allow", "would_reject")
    assert value(w, "permit_rejects_total", reason=answer["reason"]) == 0 or answer["reason"] == "-"


@settings(max_examples=60, deadline=None)
@given(raw=requests(), config=_CONFIG)
def test_disabled_makes_no_decisions(raw: bytes, config: dict[str, bytes]) -> None:
    permits = FakePermits()
    w = _watcher("disabled", config, None)
    w.raw_permits = w.cached_permits.inner = permits
    status, answer = run(w.decide(raw))
    assert status == 200 and answer["outcome"] == "unenforced"
    assert permits.calls == []
    for name in ("certs_total", "witness_validations_total", "ni_monitor_rejects_total",
                 "high_assurance_violations_total"):
        assert value(w, name) == 0
    assert value(w, "decisions_total", mode="disabled", outcome="unenforced") == 1
