"""Fuzz tests of pfdrill's parsers (each module is marked ``fuzz``): none may touch the network."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True, scope="module")
def _offline(no_network: None) -> Iterator[None]:
    yield
