"""Which keeper restores the live alert rules, and what the ConfigMap keeper restores."""

from __future__ import annotations

from pathlib import Path

from pfdrill.cluster.fake import FakeCluster
from pfdrill.drill.adapters import prometheus
from pfdrill.obs.stack import Endpoints

RULES = """groups:
- name: g
  rules:
  - record: pfdrill:x
    expr: vector(1)
  - alert: A
    expr: pfdrill:x > 1
- name: pfctl-managed
  rules:
  - alert: B
    expr: pfdrill:x > 2
"""


def _ep(**kw: object) -> Endpoints:
    base: dict[str, object] = {"cluster": "c", "profile": "drill", "prometheus_url": "http://p",
                               "alertmanager_url": None, "sink_url": None, "local": False}
    return Endpoints(**{**base, **kw})  # type: ignore[arg-type]


def test_files_first_then_the_configmap_when_a_cluster_client_is_there(tmp_path: Path) -> None:
    cluster = FakeCluster()
    def reload() -> None:
        return None
    assert isinstance(prometheus.rules_keeper(_ep(rules_dir=str(tmp_path)), cluster, "ns", reload),
                      prometheus.LiveRulesKeeper)
    keeper = prometheus.rules_keeper(_ep(rules_configmap="r/k.yml"), cluster, "ns", reload)
    assert isinstance(keeper, prometheus.ConfigMapRulesKeeper)
    assert prometheus.rules_keeper(_ep(rules_configmap="r"), None, "ns", reload) is None
    assert prometheus.rules_keeper(_ep(), cluster, "ns", reload) is None


def test_the_configmap_is_saved_and_left_alone_when_unchanged() -> None:
    cluster = FakeCluster()
    cluster.add_configmap("ns", "r", {"k.yml": RULES})
    keeper = prometheus.ConfigMapRulesKeeper(cluster, "ns", "r/k.yml", "http://127.0.0.1:9")
    saved = keeper.save()
    assert keeper.restore(saved) == []  # no Prometheus asked: nothing changed


def test_alert_names_come_from_every_file_and_group() -> None:
    assert prometheus.alert_names([RULES, "groups: []\n", ""]) == {"A", "B"}
