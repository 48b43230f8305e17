"""The fabric's manifests: one kustomize tree rendered per cluster, plus what is per cluster.

``deploy/fabric/`` is a kustomize base, ``deploy/overlays/{kwok,kind,existing}``
add what differs per cluster (shipped as package data, see
:mod:`pfdrill.settings.assets`). The base turns two policy sources into
ConfigMaps, so nobody keeps a digest in sync by hand:

- ``dfa.json`` (+ the committed ``dfa.json.sha256``) → ConfigMap ``dfa-artifact``;
- ``adapter-rules.yaml`` → ConfigMap ``policy-adapter-config`` (``rules.yaml``
  and the drill knobs ``error_rate``/``added_latency_ms``, both "0").

:func:`render` is ``kubectl kustomize`` of the overlay (exactly what
``kubectl apply -k`` applies), checked (the DFA must load, the permit rules
parse), with the namespace and opt-in label of pfdrill's config and Secret
``fabric-certs`` (``trust-bundle.json``, from the cluster's CA, see
:mod:`pfdrill.fabric.authority`; never committed).
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import yaml

from pfdrill.cluster.provider import ProviderKind
from pfdrill.errors import InvalidInput
from pfdrill.fabric import dfa as dfa_mod
from pfdrill.fabric import kustomize
from pfdrill.fabric.certs import BUNDLE_KEY, TrustBundle
from pfdrill.fabric.rules import RULES_KEY, RuleSet, RulesRefused
from pfdrill.model.fabric import FABRIC
from pfdrill.settings import assets

Obj = dict[str, Any]
NAMESPACE = "production"
# Objects are applied in this order (and deleted in reverse): what others refer to first.
KIND_ORDER = ("Namespace", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role",
              "RoleBinding", "ConfigMap", "Secret", "Service", "Deployment")
CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding"}
PART_OF = {"app.kubernetes.io/part-of": "provability-fabric"}


def overlay(target: ProviderKind) -> Path:
    """The shipped kustomize overlay for a kind of cluster (``deploy/overlays/<target>``)."""
    return assets.path("deploy", "overlays", target.value)


def default_dir() -> Path:
    """The kwok overlay: what the embedded cluster (and the fakes modelled on it) run."""
    return overlay(ProviderKind.KWOK)


def check_policy(objects: list[Obj], directory: Path) -> None:
    """The DFA must load and the permit rules parse: the fabric would refuse them live."""
    dfa_data = configmap_data(objects, FABRIC.dfa_artifact)
    try:
        dfa_mod.load_artifact({k: v.encode("utf-8") for k, v in dfa_data.items()})
    except dfa_mod.DfaRefused as exc:
        raise InvalidInput(f"ConfigMap dfa-artifact: DFA refused: {exc}", file=directory) from None
    try:
        RuleSet.parse(configmap_data(objects, FABRIC.adapter_config).get(RULES_KEY, ""))
    except RulesRefused as exc:
        raise InvalidInput(f"ConfigMap policy-adapter-config: {exc}", file=directory) from None


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
    objects = kustomize.build(directory)
    check_policy(objects, directory)
    if bundle is not None:
        objects.append({"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                        "metadata": {"name": FABRIC.certs_secret, "namespace": namespace,
                                     "labels": dict(PART_OF)},
                        "data": {BUNDLE_KEY: base64.b64encode(bundle.to_json().encode()).decode()}})
    key, _, value = optin_label.partition("=")
    for obj in objects:
        meta = obj.setdefault("metadata", {})
        if obj["kind"] == "Namespace":
            meta["name"] = namespace
            meta.setdefault("labels", {})[key] = value or "true"
        elif obj["kind"] not in CLUSTER_SCOPED:
            meta["namespace"] = namespace
        for subject in obj.get("subjects") or []:
            subject["namespace"] = namespace
    known = {k: i for i, k in enumerate(KIND_ORDER)}
    objects.sort(key=lambda o: known.get(o["kind"], len(known)))
    return objects


def configmap_data(objects: list[Obj], name: str) -> dict[str, str]:
    for obj in objects:
        if obj["kind"] == "ConfigMap" and obj["metadata"]["name"] == name:
            return {k: str(v) for k, v in (obj.get("data") or {}).items()}
    raise InvalidInput(f"the manifests have no ConfigMap {name!r}")


def to_yaml(objects: list[Obj]) -> str:
    return yaml.safe_dump_all(objects, sort_keys=False)


def describe(objects: list[Obj]) -> str:
    return json.dumps([f"{o['kind']}/{o['metadata']['name']}" for o in objects])
