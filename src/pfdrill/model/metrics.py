"""The metric contract between the fabric, the alert rules, probes and the classifier.

The reference fabric exports exactly these names; the alert rules
(``deploy/alerts/``), chaostoolkit probes and the severity classifier read
them. Names without a prefix are the ones the fabric's published alert rules
use (DESIGN.md, "The reference fabric contract"). Label values are closed sets
listed here, so a typo is a test failure rather than a silent empty series.
"""

from __future__ import annotations

import dataclasses
import enum

from pfdrill.model.fabric import FABRIC


class Kind(enum.Enum):
    COUNTER = "counter"
    GAUGE = "gauge"
    HISTOGRAM = "histogram"


@dataclasses.dataclass(frozen=True)
class Metric:
    name: str
    kind: Kind
    help: str
    labels: tuple[str, ...] = ()


ENFORCEMENT_MODES = ("enforce", "monitor", "shadow", "disabled", "break_glass")
DECISION_OUTCOMES = ("allow", "reject", "would_reject", "unenforced", "error")
REJECT_REASONS = ("malformed", "certificate", "dfa", "permit", "witness", "ni", "high_assurance")
ADAPTER_ERROR_KINDS = ("timeout", "connect", "http_status", "bad_response")
ADAPTER_FAILURE_MODES = ("fail_closed", "fail_open")
RELOAD_RESULTS = ("success", "failure")
DFA_FAILURE_REASONS = ("missing", "sha256", "json", "schema")
ADAPTER_OUTCOMES = ("allow", "deny", "error", "malformed")  # adapter_requests_total{outcome}

# --- sidecar-watcher ----------------------------------------------------------------
REQUESTS = Metric("requests_total", Kind.COUNTER, "Decide requests received.")
DECISIONS = Metric(
    "decisions_total", Kind.COUNTER,
    "Decisions by enforcement mode and outcome (would_reject: shadow/monitor would have "
    "rejected; unenforced: mode disabled, no decision made).",
    ("mode", "outcome"),
)
PERMIT_REJECTS = Metric(
    "permit_rejects_total", Kind.COUNTER,
    "Requests rejected (enforce/break_glass modes), by the check that rejected them.",
    ("reason",),
)
CERTS = Metric("certs_total", Kind.COUNTER, "Capability certificates checked.")
CERTS_VERIFIED = Metric("certs_verified_total", Kind.COUNTER, "Capability certificates that verified.")
NI_REJECTS = Metric("ni_monitor_rejects_total", Kind.COUNTER, "Non-interference monitor rejections.")
WITNESS_VALIDATIONS = Metric("witness_validations_total", Kind.COUNTER, "Witnesses validated.")
WITNESS_FAILURES = Metric(
    "witness_validation_failures_total", Kind.COUNTER, "Witnesses that failed validation."
)
HIGH_ASSURANCE_VIOLATIONS = Metric(
    "high_assurance_violations_total", Kind.COUNTER,
    "Requests that violated high-assurance mode (e.g. no witness while it is on).",
)
ADAPTER_ERRORS = Metric(
    "policy_adapter_errors_total", Kind.COUNTER, "Failed calls to the policy adapter.", ("kind",)
)
ADAPTER_FAIL_OPEN = Metric(
    "policy_adapter_fail_open_total", Kind.COUNTER,
    "Requests allowed without a permit decision because the adapter failed open.",
)
BRIDGE_OK = Metric(
    "bridge_guarantee_local_checks_ok", Kind.GAUGE,
    "1 when every local guarantee holds (valid config, DFA integrity, trust bundle loaded, "
    "full check pipeline active); 0 otherwise.",
)
MONITOR_DURATION = Metric(
    "monitor_duration_seconds", Kind.HISTOGRAM, "Time to decide one request (the whole pipeline)."
)
ENFORCEMENT_MODE = Metric(
    "enforcement_mode", Kind.GAUGE, "1 for the enforcement mode in effect, 0 for the others.", ("mode",)
)
HIGH_ASSURANCE_MODE = Metric("high_assurance_mode", Kind.GAUGE, "1 when high-assurance mode is on.")
DFA_INTEGRITY_OK = Metric(
    "dfa_integrity_ok", Kind.GAUGE, "1 when the loaded DFA matched its sha256 and schema.")
DFA_LOAD_FAILURES = Metric(
    "dfa_load_failures_total", Kind.COUNTER, "Refused DFA artifacts.", ("reason",))
CONFIG_RELOADS = Metric(
    "config_reloads_total", Kind.COUNTER, "policy-config reload attempts.", ("result",))
CONFIG_LAST_RELOAD_OK = Metric(
    "config_last_reload_success", Kind.GAUGE, "1 when the last policy-config reload was accepted.")
TRUST_BUNDLE_OK = Metric("trust_bundle_ok", Kind.GAUGE, "1 when the trust bundle is loaded and valid.")
TRUST_BUNDLE_FAILURES = Metric(
    "trust_bundle_load_failures_total", Kind.COUNTER, "Refused trust bundles.")

# --- policy-adapter -----------------------------------------------------------------
ADAPTER_REQUESTS = Metric(
    "adapter_requests_total", Kind.COUNTER, "Permit requests served by the adapter.", ("outcome",))
ADAPTER_DURATION = Metric(
    "adapter_request_duration_seconds", Kind.HISTOGRAM, "Adapter time per permit request.")
ADAPTER_FAILURE_MODE = Metric(
    "adapter_failure_mode", Kind.GAUGE,
    "1 for the failure mode the watcher applies when this adapter is unreachable.", ("mode",))

# --- pfdrill baselines (published by pfdrill, scraped by Prometheus) ---------------
BASELINE = Metric(
    "pfdrill_baseline", Kind.GAUGE,
    "Steady-state baseline of a signal, measured by pfdrill before a fault.", ("signal",))
# Values of BASELINE's ``signal`` label: the two live signals the runbook compares with
# "normal" (mean decision latency in seconds, rejects per second). The alert rules also
# record every signal as ``pfdrill:<name>`` (see pfdrill.model.signals.Indicator).
BASELINE_SIGNALS = ("latency_mean_seconds", "reject_rate")

WATCHER_METRICS: tuple[Metric, ...] = (
    REQUESTS, DECISIONS, PERMIT_REJECTS, CERTS, CERTS_VERIFIED, NI_REJECTS,
    WITNESS_VALIDATIONS, WITNESS_FAILURES, HIGH_ASSURANCE_VIOLATIONS, ADAPTER_ERRORS,
    ADAPTER_FAIL_OPEN, BRIDGE_OK, MONITOR_DURATION, ENFORCEMENT_MODE, HIGH_ASSURANCE_MODE,
    DFA_INTEGRITY_OK, DFA_LOAD_FAILURES, CONFIG_RELOADS, CONFIG_LAST_RELOAD_OK,
    TRUST_BUNDLE_OK, TRUST_BUNDLE_FAILURES,
)
ADAPTER_METRICS: tuple[Metric, ...] = (ADAPTER_REQUESTS, ADAPTER_DURATION, ADAPTER_FAILURE_MODE)

# Prometheus scrape job names (the runtime labels targets with these; rules use them).
JOB_WATCHER = FABRIC.watcher
JOB_ADAPTER = FABRIC.adapter
