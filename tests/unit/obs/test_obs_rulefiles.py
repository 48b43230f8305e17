"""The committed rule files: fresh from the one source, and loadable by promtool as they are."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from pfdrill.errors import InvalidInput
from pfdrill.model.sla import TimingProfile
from pfdrill.obs import promtool, rulefiles, rules

ALERTS = Path(__file__).resolve().parents[3] / "deploy" / "alerts"


def test_the_committed_rule_files_are_fresh() -> None:
    stale = rulefiles.stale(ALERTS, rulefiles.render(source_dir=ALERTS))
    assert stale == [], f"stale: {stale}; run `pfdrill alerts render --out deploy/alerts`"


@pytest.mark.parametrize("profile", ["drill", "production"])
def test_promtool_loads_the_committed_files_as_they_are(profile: str, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # nothing relative to the working directory
    directory = ALERTS / profile
    assert promtool.check_rules(directory / rules.RENDERED_FILE) == 35
    tests = sorted((directory / rulefiles.TESTS).glob("*.yml"))
    run = promtool.run_tests(tests)
    assert len(tests) == 4 and run.ok, run.output


@pytest.mark.parametrize("profile", ["drill", "production"])
def test_the_prometheus_rule_carries_the_same_groups(profile: str, tmp_path: Path) -> None:
    doc = yaml.safe_load((ALERTS / profile / rulefiles.PROMETHEUS_RULE).read_text())
    assert (doc["apiVersion"], doc["kind"]) == ("monitoring.coreos.com/v1", "PrometheusRule")
    assert doc["metadata"]["name"] == "pfdrill-alerts"
    assert doc["metadata"]["labels"]["pfdrill.dev/profile"] == profile
    groups = yaml.safe_load((ALERTS / profile / rules.RENDERED_FILE).read_text())["groups"]
    assert doc["spec"]["groups"] == groups
    extracted = tmp_path / "groups.yml"
    extracted.write_text(yaml.safe_dump({"groups": doc["spec"]["groups"]}))
    assert promtool.check_rules(extracted) == 35


def test_write_replaces_leftovers_and_stale_names_every_difference(tmp_path: Path) -> None:
    files = rulefiles.render((TimingProfile.DRILL,), ALERTS)
    (tmp_path / "drill" / "tests").mkdir(parents=True)
    (tmp_path / "drill" / "tests" / "gone.yml").write_text("tests: []\n")
    (tmp_path / "drill" / "README.md").write_text("kept: not a rule file\n")
    rulefiles.write(tmp_path, files)
    assert rulefiles.stale(tmp_path, files) == []
    assert not (tmp_path / "drill" / "tests" / "gone.yml").exists()
    assert (tmp_path / "drill" / "README.md").exists()
    (tmp_path / "drill" / rules.RENDERED_FILE).write_text("groups: []\n")
    (tmp_path / "drill" / "tests" / "sev1.yml").unlink()
    (tmp_path / "drill" / "extra.yaml").write_text("{}\n")
    assert rulefiles.stale(tmp_path, files) == [
        f"drill/{rules.RENDERED_FILE}", "drill/tests/sev1.yml", "drill/extra.yaml"]


def test_a_test_template_must_load_the_rules_beside_it(tmp_path: Path) -> None:
    shutil.copytree(ALERTS / "source", tmp_path / "source")
    bad = tmp_path / "source" / "tests" / "sev2.yml"
    bad.write_text(bad.read_text().replace("rule_files: [pfdrill-alerts.yml]", "rule_files: []"))
    with pytest.raises(InvalidInput, match=r"source/tests/sev2\.yml: a rule test template needs"):
        rulefiles.render(source_dir=tmp_path)
