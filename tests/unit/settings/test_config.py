from __future__ import annotations

from pathlib import Path

import pytest

from pfdrill.errors import InvalidInput
from pfdrill.settings.config import Config, load_config


def test_defaults_allow_only_pfdrills_own_clusters() -> None:
    cfg = load_config(None) if not __import__("os").environ.get("PFDRILL_CONFIG") else Config()
    assert cfg.context_allowed("kwok-pfdrill") and not cfg.context_allowed("prod")


def test_file_overrides_and_errors_name_the_file(tmp_path: Path) -> None:
    good = tmp_path / "pfdrill.yaml"
    good.write_text("allowed_contexts: [staging]\noptin_label: team/drills=yes\n")
    cfg = load_config(good)
    assert cfg.allowed_contexts == ("staging",) and cfg.optin_key == "team/drills"
    bad = tmp_path / "bad.yaml"
    bad.write_text("allowed_contexts: [a\n")
    with pytest.raises(InvalidInput, match=r"bad\.yaml:\d+: not valid YAML"):
        load_config(bad)
    unknown = tmp_path / "unknown.yaml"
    unknown.write_text("allowed_context: [a]\n")
    with pytest.raises(InvalidInput, match="unknown config key"):
        load_config(unknown)


def test_an_in_cluster_rules_configmap_is_a_name_or_name_and_key(tmp_path: Path) -> None:
    f = tmp_path / "pfdrill.yaml"
    for ref in ("pfdrill-alert-rules", "pfdrill-alert-rules/pfdrill-alerts.yml"):
        f.write_text(f"namespace: production\nrules_configmap: {ref}\n")
        assert load_config(f).rules_configmap == ref
    for bad in ("Pfdrill_Rules", "a/b/c", "[x]", "'-x'"):
        f.write_text(f"namespace: production\nrules_configmap: {bad}\n")
        with pytest.raises(InvalidInput, match=r"pfdrill\.yaml:2: rules_configmap must be"):
            load_config(f)
