"""Prometheus and Alertmanager configs as pfdrill renders them, validated by promtool and amtool."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from pfdrill.errors import InvalidInput
from pfdrill.formats import duration
from pfdrill.model.severity import Severity
from pfdrill.obs import amtool, rules
from pfdrill.obs import config as obs_config
from pfdrill.obs import profile as profiles


@pytest.mark.parametrize("name", ["drill", "production"])
def test_alertmanager_routes_each_severity_to_its_own_sink_path(name: str, tmp_path: Path) -> None:
    prof = profiles.get(name)
    doc = obs_config.alertmanager(prof, "http://127.0.0.1:4000/")
    route = doc["route"]
    assert (route["group_wait"], route["group_interval"]) == (
        duration.text(prof.group_wait_s), duration.text(prof.group_interval_s))
    hooks = {r["name"]: r["webhook_configs"][0]["url"] for r in doc["receivers"]}
    for sub in route["routes"]:
        (matcher,) = sub["matchers"]
        severity = Severity.parse(matcher.split('"')[1])
        assert hooks[sub["receiver"]] == f"http://127.0.0.1:4000/alertmanager/{severity.value.lower()}"
    assert len(route["routes"]) == 4 and hooks["sink-unrouted"].endswith("/alertmanager/unrouted")
    amtool.check_config(obs_config.dump(doc, tmp_path / "alertmanager.yml"))


def test_amtool_refusal_names_the_file_and_the_reason(tmp_path: Path) -> None:
    doc = obs_config.alertmanager(profiles.get("drill"), "http://127.0.0.1:4000/")
    doc["route"]["group_wait"] = "1x"
    path = obs_config.dump(doc, tmp_path / "alertmanager.yml")
    with pytest.raises(InvalidInput, match=r"alertmanager\.yml: amtool check-config: not a valid "
                                           r"duration string: \"1x\"$"):
        amtool.check_config(path)


@pytest.mark.parametrize("name", ["drill", "production"])
def test_the_printed_in_cluster_config_passes_amtool(name: str, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    from pfdrill.cli import main

    assert main(["obs", "alertmanager-config", "--sink-url", "http://10.0.0.5:9099",
                 "--profile", name]) == 0
    printed = tmp_path / "printed.yml"
    printed.write_text(capsys.readouterr().out)
    amtool.check_config(printed)
    assert "http://10.0.0.5:9099/alertmanager/sev-1" in printed.read_text()


@pytest.mark.parametrize("name", ["drill", "production"])
def test_prometheus_config_is_valid(name: str, tmp_path: Path) -> None:
    prof = profiles.get(name)
    rules_dir = tmp_path / "rules"
    rules.render_to(rules_dir, prof)
    targets = tmp_path / "targets.json"
    targets.write_text('[{"targets": ["127.0.0.1:1"], "labels": {"job": "sidecar-watcher"}}]')
    doc = obs_config.prometheus(prof, rules_dir=rules_dir, targets_file=targets,
                                alertmanager="127.0.0.1:2", sink="127.0.0.1:3", cluster="c")
    assert doc["global"]["scrape_interval"] == duration.text(prof.scrape_interval_s)
    assert doc["scrape_configs"][0]["file_sd_configs"][0]["files"] == [str(targets)]
    path = obs_config.dump(doc, tmp_path / "prometheus.yml")
    done = subprocess.run(["promtool", "check", "config", str(path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "35 rules found" in done.stdout
