"""The rule files pfdrill publishes: each timing profile rendered, loadable as it is.

``deploy/alerts/<profile>/`` (``drill`` and ``production``) holds::

    pfdrill-alerts.yml   the rules: Prometheus ``rule_files``, ``promtool check rules``
    prometheusrule.yaml  the same groups as a PrometheusRule (monitoring.coreos.com/v1)
                         for clusters run by the Prometheus Operator
    kustomization.yaml   the rules as ConfigMap ``pfdrill-alert-rules``, a kustomize resource
                         for an in-cluster Prometheus (deploy/components/prometheus)
    tests/<name>.yml     promtool unit tests: ``promtool test rules tests/*.yml``

All of it comes from the one source (``source/rules.yml`` and ``source/tests/``)
through :func:`render`; ``pfdrill alerts render --out deploy/alerts`` writes it and
a unit test fails when a committed file differs from a fresh rendering.
"""

from __future__ import annotations

import os
from pathlib import Path

import yaml

from pfdrill.errors import InvalidInput
from pfdrill.model.sla import TimingProfile
from pfdrill.obs import rules
from pfdrill.obs.profile import PROFILES, AlertTiming

PROMETHEUS_RULE = "prometheusrule.yaml"
KUSTOMIZATION = "kustomization.yaml"
RULES_CONFIGMAP = "pfdrill-alert-rules"
TESTS = "tests"
# A template test loads the rules beside it; a published one, from its profile directory.
_BESIDE = f"rule_files: [{rules.RENDERED_FILE}]\n"
_ABOVE = f"rule_files: [../{rules.RENDERED_FILE}]\n"
# One name for every profile: applying another profile's rules replaces, never doubles, alerts.
PROMETHEUS_RULE_NAME = "pfdrill-alerts"


def prometheus_rule(rendered: str, profile: AlertTiming) -> str:
    """A PrometheusRule carrying the groups of a rendered rule file."""
    doc = {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {
            "name": PROMETHEUS_RULE_NAME,
            "labels": {"app.kubernetes.io/part-of": "pfdrill",
                       "pfdrill.dev/profile": profile.name.value},
        },
        "spec": {"groups": yaml.safe_load(rendered)["groups"]},
    }
    header = (f"# The pfdrill alert rules for the '{profile.name.value}' timing profile, for the "
              "Prometheus Operator.\n# Rendered from source/rules.yml by `pfdrill alerts render`; "
              "edit the source, not this file.\n")
    return header + yaml.safe_dump(doc, sort_keys=False, width=100)


def kustomization(profile: AlertTiming) -> str:
    """The kustomization that makes a profile's rule file ConfigMap pfdrill-alert-rules."""
    doc = {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "generatorOptions": {
            "disableNameSuffixHash": True,  # Prometheus' Deployment names it
            "labels": {"app.kubernetes.io/part-of": "pfdrill",
                       "pfdrill.dev/profile": profile.name.value}},
        "configMapGenerator": [{"name": RULES_CONFIGMAP, "namespace": "production",
                                "files": [rules.RENDERED_FILE]}],
    }
    header = (f"# The '{profile.name.value}' rules as ConfigMap {RULES_CONFIGMAP}, for an in-cluster "
              "Prometheus (a kustomize resource).\n# Rendered by `pfdrill alerts render`; edit "
              "the source, not this file.\n")
    return header + yaml.safe_dump(doc, sort_keys=False)


def render(profiles: tuple[TimingProfile, ...] = tuple(TimingProfile),
           source_dir: Path | None = None) -> dict[str, str]:
    """Every published file, ``<profile>/<name>`` → text."""
    source_dir = source_dir or rules.alerts_dir()
    files: dict[str, str] = {}
    for name in profiles:
        profile = PROFILES[name]
        text = rules.render(source_dir / rules.RULES_FILE, profile)
        files[f"{name.value}/{rules.RENDERED_FILE}"] = text
        files[f"{name.value}/{PROMETHEUS_RULE}"] = prometheus_rule(text, profile)
        files[f"{name.value}/{KUSTOMIZATION}"] = kustomization(profile)
        for test, body in rules.render_tests(profile, source_dir).items():
            if body.count(_BESIDE) != 1:
                raise InvalidInput(f"a rule test template needs the line {_BESIDE.strip()!r}",
                                   file=source_dir / rules.TESTS_DIR / test)
            files[f"{name.value}/{TESTS}/{test}"] = body.replace(_BESIDE, _ABOVE)
    return files


def _published(out: Path, files: dict[str, str]) -> list[str]:
    """The rule files now under ``out``'s profile directories, relative to ``out``."""
    found = set()
    for profile in {rel.split("/", 1)[0] for rel in files}:
        for pattern in ("*.y*ml", f"{TESTS}/*.y*ml"):
            found |= {p.relative_to(out).as_posix() for p in (out / profile).glob(pattern)}
    return sorted(found)


def write(out: Path, files: dict[str, str]) -> list[Path]:
    """Write the files under ``out`` (each atomically); a profile directory keeps nothing else."""
    for rel in _published(out, files):
        if rel not in files:
            (out / rel).unlink()
    written = []
    for rel, text in sorted(files.items()):
        target = out / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, target)
        written.append(target)
    return written


def stale(out: Path, files: dict[str, str]) -> list[str]:
    """What differs between ``out`` and a fresh rendering: missing, changed or left over."""
    found = []
    for rel, text in sorted(files.items()):
        path = out / rel
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            found.append(rel)
    return found + [rel for rel in _published(out, files) if rel not in files]
