"""The wrappers placed first on a runbook's PATH: ``kubectl`` and ``curl`` as the executor sees them.

Run as ``python -m pfdrill.runbook.toolwrap TOOL ARGS...`` from a two-line
shell script in the sandbox's ``bin/``. Each call is appended to the audit
journal (``$PFDRILL_AUDIT``, JSON lines: a ``start`` and an ``end`` record),
which is how the executor knows which tools a command really called, with
which expanded arguments, and how each ended — also inside pipelines,
``if`` blocks and subshells.

- **kubectl**: commands that never end on their own (``logs -f``,
  ``port-forward``, ``get -w``) are stopped after ``$PFDRILL_STREAM_SECONDS``
  and then exit 0, so a pipeline such as ``kubectl logs -f | grep X`` ends
  normally and ``grep`` flushes what it found. A fixed local port in
  ``port-forward`` (``9090:9090``) becomes a free one (``:9090``) so drills
  never collide with a real service. ``--server``/``--kubeconfig``/
  ``--context`` pointing anywhere but the drill cluster are refused.
- **curl**: every URL must name 127.0.0.1, ``localhost`` or ``::1``;
  anything else is refused (exit 7, nothing is sent). The HTTP status of the
  answer is recorded (``-w`` on stderr, filtered out again) so that a
  notification the sink did not accept is a failure even without ``-f``.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Callable, Sequence
from typing import Any

LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})
REFUSED_EXIT = 7  # curl's own "failed to connect": scripts treat it as an unreachable host
MALFORMED_EXIT = 3  # curl's "URL malformed"
_MARK = "\x1fPFDRILL_HTTP_STATUS="
_HOST = re.compile(r"^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+)$")


class Tool(enum.Enum):
    KUBECTL = "kubectl"
    CURL = "curl"


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat()


def _audit(record: dict[str, Any]) -> None:
    path = os.environ.get("PFDRILL_AUDIT")
    if not path:
        return
    record.setdefault("cmd", os.environ.get("PFDRILL_CMD_INDEX", ""))
    record.setdefault("pid", os.getpid())
    line = json.dumps(record, ensure_ascii=False) + "\n"
    # O_APPEND writes of one short line are atomic, so concurrent calls never interleave.
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, line.encode("utf-8", "surrogateescape"))
    finally:
        os.close(fd)


def _redact(argv: Sequence[str]) -> list[str]:
    """Webhook URLs never reach the journal (DESIGN.md, Safety)."""
    hooks = {v: f"${k}" for k, v in os.environ.items() if k.endswith("_WEBHOOK") and v}
    out = []
    for a in argv:
        for value, name in hooks.items():
            a = a.replace(value, name)
        out.append(a)
    return out


def _real(tool: Tool) -> str:
    return os.environ.get(f"PFDRILL_REAL_{tool.name}") or f"/usr/bin/{tool.value}"


def _stop(proc: subprocess.Popen[bytes]) -> None:
    try:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=3)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


# --- kubectl -------------------------------------------------------------------------------
_VALUE_FLAGS = frozenset({"-n", "--namespace", "-l", "--selector", "-c", "--container",
                          "--since", "--tail", "-o", "--output", "--context", "--kubeconfig",
                          "-s", "--server", "--address", "--pod-running-timeout"})


_CHANGES = frozenset({"patch", "scale", "apply", "rollout", "set", "label", "annotate",
                      "create", "delete", "replace"})


def _kubectl_sub(args: Sequence[str]) -> str:
    skip = False
    for a in args:
        if skip:
            skip = False
            continue
        if a.startswith("-"):
            skip = a in _VALUE_FLAGS
            continue
        return a
    return ""


def _kubectl_refusal(args: Sequence[str]) -> str | None:
    kubeconfig = os.environ.get("KUBECONFIG", "")
    context = os.environ.get("PFDRILL_CONTEXT", "")
    for i, a in enumerate(args):
        name, _, inline = a.partition("=")
        value = inline or (args[i + 1] if i + 1 < len(args) else "")
        if name in ("-s", "--server"):
            return f"--server {value}: only the drill cluster may be used"
        if name == "--kubeconfig" and os.path.abspath(value) != os.path.abspath(kubeconfig):
            return f"--kubeconfig {value}: only the drill cluster's kubeconfig may be used"
        if name == "--context" and context and value != context:
            return f"--context {value}: only the drill context {context!r} may be used"
    return None


def _streams(sub: str, args: Sequence[str]) -> bool:
    if sub in ("port-forward", "attach", "proxy"):
        return True
    if sub == "logs":
        return any(a in ("-f", "--follow") or a == "--follow=true" for a in args)
    return sub == "get" and any(a in ("-w", "--watch", "--watch-only") for a in args)


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _free_local_ports(args: list[str]) -> tuple[list[str], str]:
    """``9090:9090`` stays when 9090 is free; else ``:9090`` (kubectl picks a free local port)."""
    out, notes = [], []
    for a in args:
        m = re.fullmatch(r"(\d+):(\d+)", a)
        if m and not _port_free(int(m.group(1))):
            out.append(f":{m.group(2)}")
            notes.append(f"local port {m.group(1)} is taken: a free one was used")
        else:
            out.append(a)
    return out, "; ".join(notes)


def _watch_reload(args: Sequence[str], started: str, stdout: bytes) -> dict[str, str]:
    """After a successful patch of the watched ConfigMap, wait for the watcher's verdict.

    Observing here, right after the patch, sees the reload even when the same
    runbook command scales the watcher away a moment later.
    """
    watched = os.environ.get("PFDRILL_WATCH_CONFIGMAP", "")
    words = [a for a in args if not a.startswith("-")]
    names = {w.split("/", 1)[-1] for w in words[1:3]}
    if not watched or _kubectl_sub(args) != "patch" or watched not in names or \
            b"(no change)" in stdout:
        return {}
    from pfdrill.runbook.observer import KubectlLogObserver

    ns = next((args[i + 1] for i, a in enumerate(args[:-1]) if a in ("-n", "--namespace")),
              os.environ.get("PFDRILL_NAMESPACE", "default"))
    patch = next((args[i + 1] for i, a in enumerate(args[:-1]) if a in ("-p", "--patch")), "")
    try:
        data = json.loads(patch).get("data") or {}
    except (ValueError, AttributeError):
        data = {}
    observer = KubectlLogObserver(_real(Tool.KUBECTL), os.environ, ns,
                                  os.environ.get("PFDRILL_WATCHER_SELECTOR", "app=sidecar-watcher"))
    seen = observer.config_verdict(dt.datetime.fromisoformat(started),
                                   {str(k): str(v) for k, v in data.items()},
                                   float(os.environ.get("PFDRILL_CONFIG_SECONDS", "10")))
    return {"verdict": seen.verdict.value, "verdict_detail": seen.detail}


def run_kubectl(args: list[str]) -> int:
    sub = _kubectl_sub(args)
    start, t0 = _now(), time.monotonic()
    refusal = _kubectl_refusal(args)
    if refusal:
        print(f"pfdrill: kubectl refused: {refusal}", file=sys.stderr)
        _audit({"phase": "end", "tool": "kubectl", "argv": _redact(args), "rc": REFUSED_EXIT,
                "started": start, "duration": 0.0, "refused": True, "note": refusal})
        return REFUSED_EXIT
    note = ""
    if sub == "port-forward":
        args, note = _free_local_ports(args)
    _audit({"phase": "start", "tool": "kubectl", "argv": _redact(args), "started": start})
    argv = [_real(Tool.KUBECTL), *args]
    if _streams(sub, args):
        bound = float(os.environ.get("PFDRILL_STREAM_SECONDS", "3"))
        proc = subprocess.Popen(argv)
        try:
            rc: int | None = proc.wait(timeout=bound)
            bounded = False
        except subprocess.TimeoutExpired:
            _stop(proc)
            rc, bounded = 0, True
        note = "; ".join(n for n in (note, f"bounded: stopped after {bound:g}s" if bounded else "")
                         if n)
        _audit({"phase": "end", "tool": "kubectl", "argv": _redact(args), "rc": rc,
                "started": start, "duration": time.monotonic() - t0, "note": note,
                "bounded": bounded})
        return rc or 0
    # A change's stdout is short and tells "(no change)" apart from a real patch: keep it too.
    capture_out = sub in _CHANGES
    proc_done = subprocess.run(argv, stderr=subprocess.PIPE,
                               stdout=subprocess.PIPE if capture_out else None, check=False)
    if capture_out:
        sys.stdout.buffer.write(proc_done.stdout)
        sys.stdout.flush()
    sys.stderr.buffer.write(proc_done.stderr)
    sys.stderr.flush()
    verdict = _watch_reload(args, start, proc_done.stdout or b"") \
        if proc_done.returncode == 0 else {}
    _audit({"phase": "end", "tool": "kubectl", "argv": _redact(args), "rc": proc_done.returncode,
            "started": start, "duration": time.monotonic() - t0, "note": note,
            "stdout": (proc_done.stdout or b"").decode("utf-8", "replace")[-2000:],
            "stderr": proc_done.stderr.decode("utf-8", "replace")[-2000:], **verdict})
    return proc_done.returncode


# --- curl ------------------------------------------------------------------------------------
_CURL_VALUE = frozenset({
    "-X", "--request", "-H", "--header", "-d", "--data", "--data-raw", "--data-binary",
    "--data-ascii", "--data-urlencode", "--json", "-F", "--form", "-o", "--output", "-u", "--user",
    "-A", "--user-agent", "-e", "--referer", "-w", "--write-out", "-m", "--max-time",
    "--connect-timeout", "--retry", "--retry-delay", "-b", "--cookie", "-c", "--cookie-jar",
    "-T", "--upload-file", "--cacert", "--cert", "--key", "-r", "--range", "-Y", "-y",
    "--limit-rate", "--max-redirs", "--oauth2-bearer",
})
_CURL_FORBIDDEN = frozenset({"-x", "--proxy", "--preproxy", "--connect-to", "--resolve", "-K",
                             "--config", "--socks5", "--socks5-hostname", "--doh-url"})


def curl_urls(args: Sequence[str]) -> tuple[list[str], str | None]:
    """(URLs, refusal) — the URL arguments of a curl call, or why the call itself is refused."""
    urls: list[str] = []
    skip = False
    for i, a in enumerate(args):
        if skip:
            skip = False
            continue
        name = a.split("=", 1)[0]
        if name in _CURL_FORBIDDEN:
            return urls, f"curl option {name} could route around the 127.0.0.1 rule"
        if a == "--url":
            if i + 1 < len(args):
                urls.append(args[i + 1])
            skip = True
            continue
        if a.startswith("-") and len(a) > 1:
            skip = a in _CURL_VALUE
            continue
        urls.append(a)
    return urls, None


def url_problem(url: str) -> tuple[str, bool] | None:
    """(why this URL may not be fetched, malformed?) or None when it is a local URL."""
    target = url if "://" in url else f"http://{url}"
    try:
        parsed = urllib.parse.urlsplit(target)
        host = parsed.hostname or ""
    except ValueError:
        return f"{url!r} is not a URL", True
    netloc_host = parsed.netloc.rsplit("@", 1)[-1].rsplit(":", 1)[0] if parsed.netloc else ""
    if parsed.scheme not in ("http", "https") or not host or not _HOST.fullmatch(
            netloc_host or host):
        return f"{url!r} is not an http(s) URL (a quoting mistake can split an argument)", True
    if host.lower() not in LOCAL_HOSTS and f"[{host}]" not in LOCAL_HOSTS:
        return f"{host} is not 127.0.0.1: nothing leaves the drill environment", False
    return None


def run_curl(args: list[str]) -> int:
    start, t0 = _now(), time.monotonic()
    urls, refusal = curl_urls(args)
    malformed = False
    if refusal is None:
        for url in urls:
            problem = url_problem(url)
            if problem:
                refusal, malformed = problem
                break
    if refusal:
        print(f"pfdrill: curl refused: {refusal}", file=sys.stderr)
        _audit({"phase": "end", "tool": "curl", "argv": _redact(args),
                "rc": MALFORMED_EXIT if malformed else REFUSED_EXIT, "started": start,
                "duration": 0.0, "refused": not malformed, "malformed": malformed,
                "note": refusal})
        return MALFORMED_EXIT if malformed else REFUSED_EXIT
    extra = [] if any(a in ("-w", "--write-out") or a.startswith("--write-out=") for a in args) \
        else ["-w", "%{stderr}" + _MARK + "%{http_code}\\n"]
    _audit({"phase": "start", "tool": "curl", "argv": _redact(args), "started": start})
    proc = subprocess.run([_real(Tool.CURL), *args, *extra], stderr=subprocess.PIPE, check=False)
    status: int | None = None
    kept = []
    for line in proc.stderr.split(b"\n"):
        if line.startswith(_MARK.encode()):
            code = line[len(_MARK):].strip()
            status = int(code) if code.isdigit() and int(code) else None
        else:
            kept.append(line)
    sys.stderr.buffer.write(b"\n".join(kept))
    sys.stderr.flush()
    _audit({"phase": "end", "tool": "curl", "argv": _redact(args), "rc": proc.returncode,
            "started": start, "duration": time.monotonic() - t0, "http_status": status,
            "stderr": b"\n".join(kept).decode("utf-8", "replace")[-2000:],
            "note": "" if urls else "no URL given (is the webhook variable set?)"})
    return proc.returncode


_RUNNERS: dict[Tool, Callable[[list[str]], int]] = {Tool.KUBECTL: run_kubectl, Tool.CURL: run_curl}


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args:
        print("usage: python -m pfdrill.runbook.toolwrap kubectl|curl ARGS...", file=sys.stderr)
        return 2
    try:
        tool = Tool(args[0])
    except ValueError:
        print(f"toolwrap: unknown tool {args[0]!r}", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    return _RUNNERS[tool](args[1:])


if __name__ == "__main__":
    sys.exit(main())
