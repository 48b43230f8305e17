from __future__ import annotations

from pathlib import Path

from pfdrill.runtime import podspec


def test_expand_follows_kubernetes_rules() -> None:
    env = {"PORT": "4242", "A": "x"}
    assert podspec.expand("--port=$(PORT)", env) == "--port=4242"
    assert podspec.expand("$(MISSING)-$(A)", env) == "$(MISSING)-x"
    assert podspec.expand("$$(PORT)", env) == "$(PORT)"


def test_service_and_port_env() -> None:
    env = podspec.service_env({"policy-adapter": {"http": 4001}, "empty": {}})
    assert env == {"POLICY_ADAPTER_SERVICE_HOST": "127.0.0.1", "POLICY_ADAPTER_SERVICE_PORT": "4001",
                   "POLICY_ADAPTER_SERVICE_PORT_HTTP": "4001"}
    ports = [podspec.PortAssignment("http", 8080, 5001), podspec.PortAssignment("admin", 9000, 5002)]
    assert podspec.port_env(ports) == {"PORT": "5001", "PORT_HTTP": "5001", "PORT_ADMIN": "5002"}


def test_mount_paths_are_translated_in_values_and_flags(tmp_path: Path) -> None:
    mounts = {"/etc/fabric/config": tmp_path / "cfg", "/etc/fabric": tmp_path / "all"}
    assert podspec.translate_paths("/etc/fabric/config", mounts) == str(tmp_path / "cfg")
    assert podspec.translate_paths("/etc/fabric/config/x.yaml", mounts) == str(tmp_path / "cfg") + "/x.yaml"
    assert podspec.translate_paths("--dir=/etc/fabric/certs", mounts) == f"--dir={tmp_path / 'all'}/certs"
    assert podspec.translate_paths("/etc/fabricate", mounts) == "/etc/fabricate"


def test_env_resolution_reports_missing_references() -> None:
    pod = {"metadata": {"name": "p", "namespace": "ns", "uid": "u"}, "spec": {"nodeName": "n"}}
    container = {"env": [
        {"name": "A", "value": "1"},
        {"name": "B", "value": "$(A)-2"},
        {"name": "C", "valueFrom": {"configMapKeyRef": {"name": "cm", "key": "k"}}},
        {"name": "D", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}},
        {"name": "E", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
        {"name": "F", "valueFrom": {"configMapKeyRef": {"name": "gone", "key": "k"}}},
    ]}
    env, problems = podspec.resolve_env(container, pod, {"cm": {"k": "v"}}, {"s": {"k": b"secret"}})
    assert env == {"A": "1", "B": "1-2", "C": "v", "D": "secret", "E": "ns"}
    assert problems == ["configmap key gone/k not found"]


def test_runtime_selection_and_scrape_annotations() -> None:
    pod = {"metadata": {"annotations": {"pfdrill.dev/runtime": "process", "prometheus.io/scrape": "true",
                                        "prometheus.io/port": "http"}}}
    assert podspec.wants_runtime(pod)
    assert podspec.scrape_annotations(pod) == ("http", "/metrics")
    assert not podspec.wants_runtime({"metadata": {"annotations": {}}})
