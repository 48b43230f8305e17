"""Every feature in this directory, against the shared drill cluster."""

from __future__ import annotations

import pytest
from pytest_bdd import scenarios

pytestmark = [pytest.mark.cluster, pytest.mark.servers, pytest.mark.slow]

scenarios(".")
