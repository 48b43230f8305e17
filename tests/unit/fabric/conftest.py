"""Fixtures for the fabric's unit tests: a CA, an identity, a captured log sink."""

from __future__ import annotations

import io

import pytest

from pfdrill.fabric.authority import Authority, Identity
from pfdrill.fabric.labels import Label
from pfdrill.fabric.logsink import LogSink


@pytest.fixture(scope="session")
def authority() -> Authority:
    return Authority.generate()


@pytest.fixture(scope="session")
def frontend(authority: Authority) -> Identity:
    return authority.issue("svc-frontend", ["login", "read", "write", "review", "logout"],
                           Label.INTERNAL)


@pytest.fixture
def log_stream() -> io.StringIO:
    return io.StringIO()


@pytest.fixture
def sink(log_stream: io.StringIO) -> LogSink:
    return LogSink(log_stream, "DEBUG")
