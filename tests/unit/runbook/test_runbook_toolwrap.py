"""The wrappers' rules: nothing leaves 127.0.0.1, only the drill cluster is used."""

from __future__ import annotations

import socket

import pytest

from pfdrill.runbook import toolwrap


@pytest.mark.parametrize("args, urls", [
    (["-X", "POST", "http://127.0.0.1:1/slack", "-H", "a: b", "-d", "{}"], ["http://127.0.0.1:1/slack"]),
    (["--url", "http://localhost/x", "-sS"], ["http://localhost/x"]),
    (["-X", "POST", "-d", "{}"], []),
])
def test_curl_urls(args: list[str], urls: list[str]) -> None:
    assert toolwrap.curl_urls(args) == (urls, None)


@pytest.mark.parametrize("option", ["-x", "--proxy", "--resolve", "--connect-to", "-K"])
def test_options_that_could_route_around_the_rule_are_refused(option: str) -> None:
    _, refusal = toolwrap.curl_urls([option, "value", "http://127.0.0.1/"])
    assert refusal is not None and option in refusal


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080/slack", "https://localhost/x",
                                 "http://[::1]:9/", "127.0.0.1:9090/api"])
def test_local_urls_pass(url: str) -> None:
    assert toolwrap.url_problem(url) is None


@pytest.mark.parametrize("url", ["https://hooks.slack.com/services/T/B/X", "http://10.0.0.1/",
                                 "http://127.0.0.1.nip.io/"])
def test_any_other_host_is_refused(url: str) -> None:
    problem = toolwrap.url_problem(url)
    assert problem is not None and "not 127.0.0.1" in problem[0] and problem[1] is False


@pytest.mark.parametrize("url", ['days)"}', "ftp://127.0.0.1/", 'days)\\n- Next steps"}'])
def test_a_word_split_off_a_body_is_malformed_not_remote(url: str) -> None:
    problem = toolwrap.url_problem(url)
    assert problem is not None and problem[1] is True


def test_a_busy_local_port_is_replaced_a_free_one_kept() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        args, note = toolwrap._free_local_ports(["svc/prometheus", f"{port}:9090"])
        assert args == ["svc/prometheus", ":9090"]
        assert str(port) in note
    free = socket.socket()
    free.bind(("127.0.0.1", 0))
    port = free.getsockname()[1]
    free.close()
    assert toolwrap._free_local_ports([f"{port}:9090"]) == ([f"{port}:9090"], "")


def test_kubectl_may_not_leave_the_drill_cluster(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KUBECONFIG", "/drill/kubeconfig")
    monkeypatch.setenv("PFDRILL_CONTEXT", "kwok-pfdrill")
    assert toolwrap._kubectl_refusal(["get", "pods"]) is None
    assert toolwrap._kubectl_refusal(["get", "pods", "--context", "kwok-pfdrill"]) is None
    assert "--context" in (toolwrap._kubectl_refusal(["get", "--context=prod-eu"]) or "")
    assert "--server" in (toolwrap._kubectl_refusal(["-s", "https://10.0.0.1", "get"]) or "")
    assert "--kubeconfig" in (toolwrap._kubectl_refusal(["--kubeconfig", "/other", "get"]) or "")
