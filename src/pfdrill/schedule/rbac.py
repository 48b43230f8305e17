"""The least privilege a scheduled drill needs, as data: every rule says which code needs it.

Derived by reading what runs inside a drill against the opt-in namespace:
the fault drivers (:mod:`pfdrill.faults`), the snapshot and restore
(:mod:`pfdrill.drill.snapshot`), the Lease (:meth:`pfdrill.cluster.client.KubeClient.acquire_lease`),
pfctl, and the runbook's kubectl commands. Everything is namespaced (a
Role), except reading the opt-in namespace itself, which the safety check
does (a ClusterRole limited to that one name). No rule grants delete on
anything but pods (the pod-loss fault), the drill's own Lease and, by name,
the ConfigMap a runbook's pfctl creates (the restore takes it away again);
Secrets are readable and writable by name only (``fabric-certs``), never listable.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from pfdrill.model.fabric import FABRIC

Obj = dict[str, Any]


@dataclasses.dataclass(frozen=True)
class Rule:
    group: str  # "" is the core API group
    resource: str  # "pods", "pods/exec", "deployments/scale", ...
    verbs: tuple[str, ...]
    why: str
    names: tuple[str, ...] = ()  # resourceNames; empty: every object of the resource


CERTS_SECRET = FABRIC.certs_secret

NAMESPACED: tuple[Rule, ...] = (
    Rule("", "configmaps", ("get", "list", "watch"),
         "policy-config, dfa-artifact and the adapter's config are read by faults, the snapshot, "
         "pfctl status/collect and `kubectl get`"),
    Rule("", "configmaps", ("patch", "update"),
         "faults (enforcement drift, DFA tampering, adapter mode), restore, the runbook's "
         "`kubectl patch configmap policy-config`, pfctl config deploy"),
    Rule("", "configmaps", ("create",),
         "pfctl update-declass creates its ConfigMap (server-side apply) when it is missing"),
    Rule("", "configmaps", ("delete",),
         "restore removes the ConfigMap pfctl update-declass created during the drill",
         names=FABRIC.runbook_configmaps),
    Rule("", "secrets", ("get", "update"),
         "the certificate-corruption fault and its restore, pfctl certs verify/rotate",
         names=(CERTS_SECRET,)),
    Rule("apps", "deployments", ("get", "list", "watch"),
         "steady state, the snapshot, `kubectl rollout status` (a watch), `kubectl exec deploy/…`"),
    Rule("apps", "deployments", ("patch",),
         "rollout restart (pfctl rotate, the runbook's restart), the performance fault"),
    Rule("apps", "deployments", ("update",),
         "restore puts a pod template the runbook changed (restart, resources) back whole"),
    Rule("apps", "deployments/scale", ("get", "patch", "update"),
         "the adapter-failure fault, restore of replica counts, `kubectl scale`"),
    Rule("", "pods", ("get", "list", "watch"),
         "`kubectl get pods`, `kubectl logs -l`, pfctl collect, the fabric status"),
    Rule("", "pods", ("delete",), "the sidecar-pod-loss fault"),
    Rule("", "pods/log", ("get",), "`kubectl logs` in the runbook, pfctl logs analyze, drill evidence"),
    Rule("", "pods/exec", ("create",), "the runbook's `kubectl exec … pkill -USR1 sidecar-watcher`"),
    Rule("", "pods/portforward", ("create",),
         "the runbook's `kubectl port-forward svc/prometheus`, reaching the watcher like an operator"),
    Rule("", "pods/proxy", ("get",),
         "the fabric contract check reads each pod's /healthz, /readyz and /metrics through "
         "the API server"),
    Rule("", "services", ("get", "list"), "`kubectl port-forward svc/…` resolves the Service"),
    Rule("", "endpoints", ("get", "list"),
         "fabric readiness: a Ready pod must also be behind its Service"),
    Rule("", "events", ("list", "watch"), "`kubectl get events`, pfctl collect"),
    Rule("coordination.k8s.io", "leases", ("get", "create", "update", "delete"),
         "one drill at a time: the drill's Lease in the opt-in namespace"),
    Rule("metrics.k8s.io", "pods", ("get", "list"), "the runbook's `kubectl top pods`"),
)

CLUSTER: tuple[Rule, ...] = (
    Rule("", "namespaces", ("get",),
         "the safety check reads the opt-in label of the drill namespace (that one name only)"),
)


def _rules(rules: Sequence[Rule], namespace: str | None = None) -> list[Obj]:
    out = []
    for r in rules:
        rule: Obj = {"apiGroups": [r.group], "resources": [r.resource], "verbs": list(r.verbs)}
        names = r.names or ((namespace,) if namespace else ())
        if names:
            rule["resourceNames"] = list(names)
        out.append(rule)
    return out


def objects(namespace: str, service_account: str, labels: Obj) -> list[Obj]:
    """Role + RoleBinding in ``namespace``; a ClusterRole to read that namespace + its binding."""
    name = service_account
    subject = [{"kind": "ServiceAccount", "name": service_account, "namespace": namespace}]
    cluster_name = f"{service_account}-{namespace}-read-namespace"

    def meta(n: str, ns: str | None = namespace) -> Obj:
        m: Obj = {"name": n, "labels": dict(labels)}
        if ns:
            m["namespace"] = ns
        return m

    return [
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": meta(name),
         "rules": _rules(NAMESPACED)},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": meta(name),
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
         "subjects": subject},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
         "metadata": meta(cluster_name, None), "rules": _rules(CLUSTER, namespace)},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
         "metadata": meta(cluster_name, None),
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                     "name": cluster_name},
         "subjects": subject},
    ]


def allowed(namespace: str) -> list[tuple[str, str, str, str | None]]:
    """Every ``(verb, resource[/sub], group, name)`` the drills use, for ``kubectl auth can-i``."""
    out: list[tuple[str, str, str, str | None]] = []
    for r in NAMESPACED:
        for verb in r.verbs:
            out.append((verb, r.resource, r.group, r.names[0] if r.names else None))
    for r in CLUSTER:
        for verb in r.verbs:
            out.append((verb, r.resource, r.group, namespace))
    return out
