"""Base results kept between gate runs: keyed by everything that decides them, damage is a miss."""

from __future__ import annotations

from pathlib import Path

from pfdrill.gate import cache
from pfdrill.model.header import RecordHeader
from pfdrill.model.runbook import RunbookRun

RUN = RunbookRun(header=RecordHeader.create(cluster="c", context="c", provider="kwok"),
                 runbook="rb.md", sha256="ab" * 32, severity="SEV-2", sections=(), sandbox="/s")


def test_a_result_comes_back_as_it_went_in(tmp_path: Path) -> None:
    c = cache.ResultCache(tmp_path)
    k = cache.key("runbook-check", {"sha256": RUN.sha256, "severity": "SEV-2"})
    assert c.get(k, RunbookRun) is None
    c.put(k, RUN)
    assert c.get(k, RunbookRun) == RUN


def test_the_key_changes_with_anything_that_decides_the_result() -> None:
    base = {"sha256": "a", "severity": "SEV-1", "cluster": "kwok-pfdrill"}
    k = cache.key("runbook-check", base)
    assert k == cache.key("runbook-check", dict(reversed(list(base.items()))))
    for field, other in (("sha256", "b"), ("severity", "SEV-2"), ("cluster", "kind-x")):
        assert cache.key("runbook-check", {**base, field: other}) != k
    assert cache.key("drill", base) != k


def test_a_damaged_entry_is_a_miss_and_a_disabled_cache_keeps_nothing(tmp_path: Path) -> None:
    c = cache.ResultCache(tmp_path)
    k = cache.key("runbook-check", {"sha256": "x"})
    c.put(k, RUN)
    (path,) = tmp_path.rglob(f"{k}.json")
    path.write_text("{ not json")
    assert c.get(k, RunbookRun) is None
    off = cache.ResultCache(tmp_path / "off", enabled=False)
    off.put(k, RUN)
    assert off.get(k, RunbookRun) is None and not (tmp_path / "off").exists()


def test_inputs_digest_follows_the_files(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("x: 1\n")
    first = cache.digest_dir(tmp_path)
    (tmp_path / "a.yaml").write_text("x: 2\n")
    assert cache.digest_dir(tmp_path) != first and cache.digest_dir(None) == ""
