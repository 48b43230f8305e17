"""``pfctl health check``: is the fabric and everything around it working?

Core checks read the cluster: both Deployments, policy-config valid for the
fabric, the DFA artifact loadable, the trust bundle intact. ``--full`` also
asks the services: the watcher's ``/readyz``, Prometheus, Alertmanager and
the notification sink. A Deployment scaled to 0 on purpose is reported,
not failed — during mitigation that is the point.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import httpx

from pfdrill.errors import ClusterError, InvalidInput, PfdrillError
from pfdrill.fabric import certs, dfa
from pfdrill.fabric.policy import ConfigRefused, PolicyConfig
from pfdrill.model.fabric import FABRIC
from pfdrill.pfctl.context import Context


@dataclasses.dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    warning: bool = False

    def to_dict(self) -> dict[str, object]:
        return dataclasses.asdict(self)


def _guard(name: str, fn: Callable[[], Check]) -> Check:
    try:
        return fn()
    except (PfdrillError, ValueError) as exc:
        return Check(name, False, str(exc))


def _deployment(ctx: Context, name: str) -> Check:
    st = ctx.client.get_deployment(ctx.namespace, name)
    if st.replicas == 0:
        return Check(f"deployment {name}", True, "scaled to 0 replicas", warning=True)
    ok = st.ready >= st.replicas
    return Check(f"deployment {name}", ok, f"{st.ready}/{st.replicas} ready")


def _config(ctx: Context) -> Check:
    data = ctx.client.get_configmap(ctx.namespace, FABRIC.policy_config)
    try:
        cfg = PolicyConfig.parse(data)
    except ConfigRefused as exc:
        return Check("policy-config", False, f"the fabric refuses it: {exc}")
    warn = cfg.enforcement_mode.value != "enforce"
    return Check("policy-config", True, f"valid, enforcement_mode={cfg.enforcement_mode.value}",
                 warning=warn)


def _dfa(ctx: Context) -> Check:
    files = {k: v.encode() for k, v in ctx.client.get_configmap(
        ctx.namespace, FABRIC.dfa_artifact).items()}
    try:
        loaded = dfa.load_artifact(files)
    except dfa.DfaRefused as exc:
        return Check("dfa-artifact", False, f"refused ({exc.reason}): {exc}")
    return Check("dfa-artifact", True, f"{loaded.name} sha256 {loaded.sha256[:12]} verified")


def _bundle(ctx: Context) -> Check:
    raw = ctx.client.get_secret(ctx.namespace, FABRIC.certs_secret).get(certs.BUNDLE_KEY)
    if raw is None:
        return Check("trust bundle", False, f"no {certs.BUNDLE_KEY} in {FABRIC.certs_secret}")
    try:
        bundle = certs.TrustBundle.parse(raw, source=FABRIC.certs_secret)
    except InvalidInput as exc:
        return Check("trust bundle", False, exc.message)
    return Check("trust bundle", True, f"{len(bundle.keys)} key(s), {bundle.fingerprint}")


def _http(name: str, url: str, path: str) -> Check:
    try:
        r = httpx.get(url.rstrip("/") + path, timeout=5.0, trust_env=False)
    except httpx.HTTPError as exc:
        return Check(name, False, f"{url}: {exc}")
    return Check(name, r.status_code == 200, f"{path} HTTP {r.status_code}")


def core(ctx: Context) -> list[Check]:
    checks = [_guard(f"deployment {d}", lambda d=d: _deployment(ctx, d))  # type: ignore[misc]
              for d in (FABRIC.watcher, FABRIC.adapter)]
    checks += [_guard(FABRIC.policy_config, lambda: _config(ctx)), _guard(FABRIC.dfa_artifact, lambda: _dfa(ctx)),
               _guard("trust bundle", lambda: _bundle(ctx))]
    return checks


def full(ctx: Context) -> list[Check]:
    checks: list[Check] = []
    try:
        watcher_running = ctx.client.get_deployment(ctx.namespace, FABRIC.watcher).replicas > 0
    except ClusterError:
        watcher_running = False
    if watcher_running:
        checks.append(_guard("sidecar-watcher /readyz",
                             lambda: _http("sidecar-watcher /readyz", ctx.watcher_url(), "/readyz")))
    services = (("prometheus", ctx.env.prometheus_url, "/-/ready"),
                ("alertmanager", ctx.env.alertmanager_url, "/-/ready"),
                ("notification sink", ctx.env.sink_url, "/healthz"))
    for name, url, path in services:
        if url:
            checks.append(_http(name, url, path))
        else:
            checks.append(Check(name, True, "not configured for this environment", warning=True))
    return checks


def run(ctx: Context, with_services: bool) -> list[Check]:
    return core(ctx) + (full(ctx) if with_services else [])
