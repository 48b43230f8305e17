from __future__ import annotations

import pytest

from pfdrill.cluster import guard
from pfdrill.cluster.fake import FakeCluster
from pfdrill.errors import SafetyRefused
from pfdrill.settings.config import Config


def test_context_not_on_allow_list_is_refused() -> None:
    with pytest.raises(SafetyRefused, match="'prod-eu' is not on the allow-list"):
        guard.check_context(Config(), "prod-eu")
    guard.check_context(Config(), "kwok-pfdrill")


def test_namespace_needs_the_opt_in_label() -> None:
    fake = FakeCluster("kwok-pfdrill")
    fake.add_namespace("production", {})
    fake.add_namespace("staging", {"pfdrill.dev/drills": "enabled"})
    with pytest.raises(SafetyRefused, match=r"needs the label pfdrill\.dev/drills=enabled"):
        guard.check(fake, "production", Config())
    with pytest.raises(SafetyRefused, match="does not exist"):
        guard.check(fake, "nowhere", Config())
    guard.check(fake, "staging", Config())
    assert fake.mutations == []
