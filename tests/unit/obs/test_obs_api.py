"""Prometheus/Alertmanager clients: unreachable servers are one-line errors naming the URL."""

from __future__ import annotations

from pathlib import Path

import pytest

from pfdrill.cli import main
from pfdrill.errors import ServiceUnavailable
from pfdrill.obs.api import AlertmanagerAPI, PrometheusAPI, parse_time
from pfdrill.proc import ports


def _closed_url() -> str:
    return f"http://127.0.0.1:{ports.free_port()}"


def test_unreachable_prometheus_is_service_unavailable() -> None:
    url = _closed_url()
    with PrometheusAPI(url) as prom:
        assert not prom.ready()
        with pytest.raises(ServiceUnavailable) as exc:
            prom.query("up")
    message = str(exc.value)
    assert message.startswith(f"Prometheus at {url} is unreachable: ") and "\n" not in message
    with AlertmanagerAPI(url) as am, pytest.raises(ServiceUnavailable, match="Alertmanager at"):
        am.alerts()


def test_cli_with_an_unreachable_prometheus_exits_3(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = _closed_url()
    config = tmp_path / "pfdrill.yaml"
    config.write_text(f"prometheus_url: {url}\n")
    assert main(["alerts", "classify", "--config", str(config)]) == 3
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"pfdrill: error: Prometheus at {url} is unreachable") and "\n" not in err
    assert main(["obs", "up", "--config", str(config), "--name", "unreachable-test"]) == 3
    assert "is unreachable" in capsys.readouterr().err


def test_times_from_prometheus_and_alertmanager() -> None:
    assert parse_time("2026-11-28T12:00:00.123456789Z") == pytest.approx(1795867200.123456)
    assert parse_time("0001-01-01T00:00:00Z") is None
    assert parse_time("") is None and parse_time("yesterday") is None

