"""The process runtime's image entrypoints and pod network: the pure parts."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from pfdrill.errors import PfdrillError
from pfdrill.runtime import images, reconciler
from pfdrill.runtime.pod import PodRunner
from pfdrill.runtime.podspec import PortAssignment
from pfdrill.runtime.proxy import rewrite_proxy_request


@pytest.mark.parametrize(("image", "repo"), [
    ("prom/prometheus:v3.16.0", "prom/prometheus"),
    ("docker.io/prom/prometheus:v3.16.0", "prom/prometheus"),
    ("quay.io/prometheus/prometheus@sha256:abcd", "prometheus/prometheus"),
    ("localhost:5000/prom/alertmanager:v0.25.0", "prom/alertmanager"),
    ("docker.io/library/busybox", "busybox"),
    ("pfdrill/fabric", "pfdrill/fabric"),
])
def test_repository_drops_registry_tag_and_digest(image: str, repo: str) -> None:
    assert images.repository(image) == repo


def test_only_known_images_have_an_entrypoint() -> None:
    assert images.lookup("quay.io/prometheus/prometheus:v3.16.0") is images.IMAGES[0]
    assert images.lookup("prom/alertmanager:v0.25.0") is images.IMAGES[1]
    assert images.lookup("pfdrill/fabric:dev") is None
    assert images.lookup("evil/prom/prometheus") is None


@pytest.mark.parametrize("args", [
    ["--config.file=x", "--web.listen-address=:9090"],
    ["--web.listen-address", ":9090", "--config.file=x"],
    ["--config.file=x"],
])
def test_the_listen_flag_is_replaced_or_added_once(args: list[str]) -> None:
    out = images.with_listen(args, "--web.listen-address", "127.0.0.1:41000")
    assert out == ["--config.file=x", "--web.listen-address=127.0.0.1:41000"]


def test_the_serviceaccount_wrapper_binds_the_account_at_the_standard_path(tmp_path: Path) -> None:
    argv = images.serviceaccount_wrapper(["prometheus", "--x"], str(tmp_path),
                                         "/var/run/secrets/kubernetes.io/serviceaccount", root=True)
    assert argv[:5] == ["unshare", "--mount", "--propagation", "private", "--"]
    top, target, account = argv[-5:-2]
    assert target == top + "/secrets/kubernetes.io/serviceaccount"
    assert account == str(tmp_path) and argv[-2:] == ["prometheus", "--x"]
    assert images.serviceaccount_wrapper(["p"], "d", "/var/run/x", root=False)[1:3] == [
        "--user", "--map-root-user"]
    with pytest.raises(PfdrillError):
        images.serviceaccount_wrapper(["p"], "d", "/etc/x")


def test_the_wrapped_program_sees_the_account_and_the_host_does_not(tmp_path: Path) -> None:
    """Runs the real wrapper: the file is at the standard path inside, absent outside."""
    (tmp_path / "token").write_text("secret-token")
    mount = "/var/run/secrets/kubernetes.io/serviceaccount"
    argv = images.serviceaccount_wrapper(["cat", f"{mount}/token"], str(tmp_path), mount)
    done = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    if done.returncode != 0 and "unshare" in done.stderr:
        pytest.fail(f"this machine refuses mount namespaces: {done.stderr.strip()}")
    assert done.stdout == "secret-token", done.stderr
    host = Path(mount, "token")  # a machine that is itself a pod has its own token there
    assert not host.exists() or host.read_text() != "secret-token"


def test_a_proxied_request_goes_out_in_origin_form_with_one_request_per_connection() -> None:
    head = (b"GET http://10.0.1.2:8080/metrics?x=1 HTTP/1.1\r\nHost: 10.0.1.2:8080\r\n"
            b"Proxy-Connection: keep-alive\r\nConnection: keep-alive\r\nAccept: */*\r\n\r\n")
    req = rewrite_proxy_request(head)
    assert req is not None and req.target == "10.0.1.2:8080" and not req.tunnel
    assert req.head == (b"GET /metrics?x=1 HTTP/1.1\r\nHost: 10.0.1.2:8080\r\nAccept: */*\r\n"
                        b"Connection: close\r\n\r\n")


def test_connect_is_a_tunnel_and_anything_else_is_refused() -> None:
    req = rewrite_proxy_request(b"CONNECT 10.96.0.1:443 HTTP/1.1\r\nHost: 10.96.0.1:443\r\n\r\n")
    assert req is not None and req.tunnel and req.target == "10.96.0.1:443"
    assert rewrite_proxy_request(b"GET /metrics HTTP/1.1\r\n\r\n") is None
    assert rewrite_proxy_request(b"GET https://a:1/ HTTP/1.1\r\n\r\n") is None
    assert rewrite_proxy_request(b"garbage\r\n\r\n") is None
    plain = rewrite_proxy_request(b"POST http://10.0.0.1/api/v2/alerts HTTP/1.1\r\n\r\n")
    assert plain is not None and plain.target == "10.0.0.1:80"


class _Client:
    context = "kwok-test"


def _runner(tmp_path: Path, ip: str, ports: list[PortAssignment]) -> PodRunner:
    pod = {"metadata": {"namespace": "ns", "name": f"p-{ip}", "uid": ip},
           "status": {"podIP": ip, "podIPs": [{"ip": ip}]}}
    runner = PodRunner(pod, tmp_path, _Client(), tmp_path, {})  # type: ignore[arg-type]
    runner.ports["c"] = ports
    return runner


def test_routes_map_pod_ips_and_cluster_ips_to_local_ports(tmp_path: Path) -> None:
    a = _runner(tmp_path, "10.0.0.5", [PortAssignment("http", 8080, 41001),
                                       PortAssignment("admin", 9000, 41002)])
    b = _runner(tmp_path, "10.0.1.7", [PortAssignment("", 8080, 41003)])
    svc = {"metadata": {"name": "web"}, "spec": {"clusterIP": "10.96.3.4", "selector": {"a": "b"},
                                                  "ports": [{"name": "http", "port": 80}]}}
    headless = {"metadata": {"name": "h"}, "spec": {"clusterIP": "None", "ports": [{"port": 1}]}}
    routes = reconciler.pod_network_routes([a, b], {"ns": [svc, headless]},
                                           {("ns", "web", "http"): 42000})
    assert routes == {"10.0.0.5:8080": "127.0.0.1:41001", "10.0.0.5:9000": "127.0.0.1:41002",
                      "10.0.1.7:8080": "127.0.0.1:41003", "10.96.3.4:80": "127.0.0.1:42000"}
