"""Reading the watchers' metrics: exposition parsing and per-pod rates."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from pfdrill.faults.metrics import (
    Scrape,
    TargetsFileReader,
    delta,
    mean_latency_s,
    rate,
    reject_total_delta,
)
from pfdrill.formats.exposition import samples as parse_exposition
from pfdrill.formats.exposition import series_key

TEXT = """# HELP requests_total Decide requests received.
# TYPE requests_total counter
requests_total 120.0
permit_rejects_total{reason="permit"} 4.0
permit_rejects_total{reason="dfa"} 2.0
enforcement_mode{mode="enforce"} 1.0
odd{a="x\\"y",b="1"} 3
monitor_duration_seconds_sum 0.5
monitor_duration_seconds_count 100.0
"""


def test_parse_exposition() -> None:
    series = parse_exposition(TEXT)
    assert series["requests_total"] == 120.0
    assert series[series_key("permit_rejects_total", {"reason": "dfa"})] == 2.0
    assert series['enforcement_mode{mode="enforce"}'] == 1.0
    assert series[series_key("odd", {"b": "1", "a": 'x"y'})] == 3.0


def test_rates_are_per_pod_and_survive_restarts_and_new_pods() -> None:
    a = Scrape("w", 0.0, {"p1": {"requests_total": 100.0}, "p2": {"requests_total": 50.0}})
    # p1 restarted (counter reset to 5), p2 grew by 10, p3 is new with 7, p0 went away.
    b = Scrape("w", 2.0, {"p1": {"requests_total": 5.0}, "p2": {"requests_total": 60.0},
                          "p3": {"requests_total": 7.0}})
    assert delta(a, b, "requests_total") == 5 + 10 + 7
    assert rate(a, b, "requests_total") == pytest.approx(11.0)


def test_rejects_and_latency() -> None:
    a = Scrape("w", 0, {"p": parse_exposition(TEXT)})
    more = dict(parse_exposition(TEXT))
    more[series_key("permit_rejects_total", {"reason": "ni"})] = 3.0
    more["monitor_duration_seconds_sum"] = 0.7
    more["monitor_duration_seconds_count"] = 200.0
    b = Scrape("w", 1, {"p": more})
    assert reject_total_delta(a, b) == 3.0
    assert mean_latency_s(a, b) == pytest.approx(0.002)
    assert mean_latency_s(a, a) is None


@pytest.fixture
def exporter() -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = TEXT.encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_targets_file_reader_scrapes_each_pod_of_the_job(tmp_path: Path, exporter: str) -> None:
    targets = [
        {"targets": [exporter], "labels": {"job": "sidecar-watcher", "namespace": "production",
                                           "pod": "w-1", "__metrics_path__": "/metrics"}},
        {"targets": ["127.0.0.1:9"], "labels": {"job": "sidecar-watcher", "namespace": "production",
                                                "pod": "w-gone"}},
        {"targets": [exporter], "labels": {"job": "policy-adapter", "namespace": "production", "pod": "a"}},
        {"targets": [exporter], "labels": {"job": "sidecar-watcher", "namespace": "other", "pod": "x"}},
    ]
    path = tmp_path / "targets.json"
    path.write_text(json.dumps(targets))
    scrape = TargetsFileReader(path, "production", timeout_s=1).scrape("sidecar-watcher")
    assert set(scrape.pods) == {"w-1"}  # the unreachable pod simply has no series
    assert scrape.total("requests_total") == 120.0
