"""Rendering the fabric's manifests: the committed YAML plus what is generated per cluster.

``deploy/fabric/`` holds the manifests (``*.yaml``) and two policy sources
that become ConfigMaps at render time, so that nobody has to keep a digest
in sync by hand:

- ``dfa.json`` → ConfigMap ``dfa-artifact`` (``dfa.json`` + ``dfa.json.sha256``);
- ``adapter-rules.yaml`` → ConfigMap ``policy-adapter-config`` (``rules.yaml``
  and the drill knobs ``error_rate``/``added_latency_ms``, both "0").

Secret ``fabric-certs`` (``trust-bundle.json``) comes from the cluster's CA
(:mod:`pfdrill.fabric.authority`) and is never committed. The directory is
found from ``$PFDRILL_FABRIC_MANIFESTS`` or the checkout pfdrill runs from.
"""

from __future__ import annotations

import base64
import copy
import json
import os
from pathlib import Path
from typing import Any

import yaml

from pfdrill.errors import EnvironmentProblem, InvalidInput
from pfdrill.fabric import dfa as dfa_mod
from pfdrill.fabric.certs import BUNDLE_KEY, TrustBundle
from pfdrill.fabric.rules import RULES_KEY, RuleSet, RulesRefused
from pfdrill.formats import yamldoc

Obj = dict[str, Any]
DFA_SOURCE = "dfa.json"
RULES_SOURCE = "adapter-rules.yaml"
NAMESPACE = "production"
# Objects are applied in this order (and deleted in reverse): what others refer to first.
KIND_ORDER = ("Namespace", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role",
              "RoleBinding", "ConfigMap", "Secret", "Service", "Deployment")
CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding"}


def default_dir() -> Path:
    env = os.environ.get("PFDRILL_FABRIC_MANIFESTS")
    if env:
        return Path(env)
    checkout = Path(__file__).resolve().parents[3] / "deploy" / "fabric"
    if checkout.is_dir():
        return checkout
    raise EnvironmentProblem(
        "cannot find the fabric manifests: set $PFDRILL_FABRIC_MANIFESTS or pass --manifests")


def _load_yaml_docs(path: Path) -> list[Obj]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"cannot read: {exc}", file=path) from None
    out = []
    for i, doc in enumerate(yamldoc.loads_all(text, path)):
        obj = doc.root
        if obj is None:
            continue
        meta = obj.get("metadata") if isinstance(obj, dict) else None
        if not isinstance(obj, dict) or not obj.get("apiVersion") or not obj.get("kind") \
                or not isinstance(meta, dict) or not meta.get("name"):
            raise doc.error(f"document {i + 1} is not a Kubernetes object "
                            "(needs apiVersion, kind, metadata.name)")
        out.append(yamldoc.plain(obj))
    return out


def _configmap(name: str, namespace: str, data: dict[str, str]) -> Obj:
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": namespace,
                         "labels": {"app.kubernetes.io/part-of": "provability-fabric"}},
            "data": data}


def policy_sources(directory: Path) -> tuple[dict[str, str], dict[str, str]]:
    """The ``dfa-artifact`` and ``policy-adapter-config`` data, validated."""
    dfa_path, rules_path = directory / DFA_SOURCE, directory / RULES_SOURCE
    try:
        raw = dfa_path.read_bytes()
        rules_text = rules_path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidInput(f"cannot read a policy source: {exc}", file=directory) from None
    files = {dfa_mod.DFA_KEY: raw, dfa_mod.SHA_KEY: dfa_mod.digest_line(raw).encode()}
    try:
        dfa_mod.load_artifact(files)
    except dfa_mod.DfaRefused as exc:
        raise InvalidInput(f"DFA refused: {exc}", file=dfa_path) from None
    try:
        RuleSet.parse(rules_text)
    except RulesRefused as exc:
        raise InvalidInput(str(exc), file=rules_path) from None
    dfa_data = {k: v.decode("utf-8") for k, v in files.items()}
    adapter_data = {RULES_KEY: rules_text, "error_rate": "0", "added_latency_ms": "0"}
    return dfa_data, adapter_data


def render(
    directory: Path,
    bundle: TrustBundle | None,
    *,
    namespace: str = NAMESPACE,
    optin_label: str = "pfdrill.dev/drills=enabled",
) -> list[Obj]:
    """Every object of the fabric, in apply order. ``bundle=None`` leaves the Secret out."""
    if not directory.is_dir():
        raise InvalidInput("manifest directory does not exist", file=directory)
    objects: list[Obj] = []
    for path in sorted(directory.glob("*.yaml")):
        if path.name != RULES_SOURCE:
            objects.extend(_load_yaml_docs(path))
    dfa_data, adapter_data = policy_sources(directory)
    objects.append(_configmap("dfa-artifact", namespace, dfa_data))
    objects.append(_configmap("policy-adapter-config", namespace, adapter_data))
    if bundle is not None:
        objects.append({"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                        "metadata": {"name": "fabric-certs", "namespace": namespace,
                                     "labels": {"app.kubernetes.io/part-of": "provability-fabric"}},
                        "data": {BUNDLE_KEY: base64.b64encode(bundle.to_json().encode()).decode()}})
    key, _, value = optin_label.partition("=")
    out = []
    for obj in objects:
        obj = copy.deepcopy(obj)
        meta = obj.setdefault("metadata", {})
        if obj["kind"] == "Namespace":
            meta["name"] = namespace
            meta.setdefault("labels", {})[key] = value or "true"
        elif obj["kind"] not in CLUSTER_SCOPED:
            meta["namespace"] = namespace
        for subject in obj.get("subjects") or []:
            subject["namespace"] = namespace
        out.append(obj)
    known = {k: i for i, k in enumerate(KIND_ORDER)}
    out.sort(key=lambda o: known.get(o["kind"], len(known)))
    return out


def configmap_data(objects: list[Obj], name: str) -> dict[str, str]:
    for obj in objects:
        if obj["kind"] == "ConfigMap" and obj["metadata"]["name"] == name:
            return {k: str(v) for k, v in (obj.get("data") or {}).items()}
    raise InvalidInput(f"the manifests have no ConfigMap {name!r}")


def to_yaml(objects: list[Obj]) -> str:
    return yaml.safe_dump_all(objects, sort_keys=False)


def describe(objects: list[Obj]) -> str:
    return json.dumps([f"{o['kind']}/{o['metadata']['name']}" for o in objects])
