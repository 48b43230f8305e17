"""``pfctl certs verify`` and ``pfctl rotate --credentials``: the trust bundle in Secret fabric-certs.

Verification parses the bundle strictly (a corrupt bundle is refused with the
Secret named) and proves the issuing path: a certificate from pfdrill's CA
for this context must verify against the bundle.

Rotation never breaks a decision: a new CA key is *added* to the bundle
(old and new trusted together) and the watcher is restarted rolling. Canary
requests signed by the old CA are sent before, during and after the roll;
requests signed by the new CA after it, on a fresh connection per watcher pod
and more (a Service balances connections, not requests) — every one must be
allowed. During the roll a pod that has not yet read the new bundle rightly
refuses the new CA: clients get new certificates only once the rotation has
finished. (CI, 2026-12-03: a check that "the watcher has the new bundle" answered
by one of two pods let new-CA canaries reach the other mid-roll.) The old key
stays trusted until ``--retire-old`` (clients must have moved to new
certificates first).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from pfdrill.errors import InvalidInput, PfdrillError
from pfdrill.fabric import certs, readiness
from pfdrill.fabric.authority import CA_FILE, Authority, ca_dir
from pfdrill.fabric.policy import ConfigRefused, EnforcementMode, PolicyConfig
from pfdrill.model.fabric import FABRIC
from pfdrill.pfctl import canary
from pfdrill.pfctl.context import Context


class RotationFailed(PfdrillError):
    """Decisions failed while the credentials rotated."""


def _secret_source(ctx: Context) -> str:
    return f"secret {ctx.namespace}/{FABRIC.certs_secret}"


def read_bundle(ctx: Context) -> tuple[dict[str, bytes], certs.TrustBundle]:
    data = ctx.client.get_secret(ctx.namespace, FABRIC.certs_secret)
    raw = data.get(certs.BUNDLE_KEY)
    if raw is None:
        raise InvalidInput(f"no {certs.BUNDLE_KEY} key", file=_secret_source(ctx))
    return data, certs.TrustBundle.parse(raw, source=_secret_source(ctx))


def context_ca(ctx: Context) -> Authority | None:
    path = ca_dir(ctx.env.context or "default") / CA_FILE
    return Authority.load(path) if path.is_file() else None


def verify_bundle(bundle: certs.TrustBundle, authority: Authority | None) -> dict[str, Any]:
    out: dict[str, Any] = {"keys": list(bundle.key_ids), "fingerprint": bundle.fingerprint}
    if authority is None:
        out["issuer"] = "no pfdrill CA for this context: issuing path not checked"
        return out
    probe = authority.issue("pfctl-probe", ["read"])
    try:
        certs.verify(probe.certificate, bundle, time.time())
    except certs.CertificateRejected as exc:
        raise InvalidInput(f"the context's CA ({authority.key_id}) is not trusted by the bundle: "
                           f"{exc.reason}") from None
    out["issuer"] = f"certificates from CA {authority.key_id} verify"
    return out


def verify_file(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise InvalidInput("trust bundle file does not exist", file=path)
    return verify_bundle(certs.TrustBundle.parse(path.read_bytes(), source=path), None)


def _mode(ctx: Context) -> EnforcementMode:
    try:
        return PolicyConfig.parse(ctx.client.get_configmap(
            ctx.namespace, FABRIC.policy_config)).enforcement_mode
    except ConfigRefused:
        return EnforcementMode.ENFORCE


def rotate(ctx: Context, settle_s: float = 60.0, retire_old: bool = False) -> dict[str, Any]:
    data, bundle = read_bundle(ctx)
    old = context_ca(ctx)
    if old is None:
        raise InvalidInput(f"no CA key for context {ctx.env.context!r} under pfdrill's state dir: "
                           f"nothing to rotate from")
    if old.key_id not in bundle.keys:
        raise InvalidInput(f"the context's CA {old.key_id} is not in the current bundle")
    if ctx.client.get_deployment(ctx.namespace, FABRIC.watcher).ready == 0:
        raise InvalidInput(f"no ready {FABRIC.watcher}: a rotation could not be verified (and "
                           f"would change nothing that decides); bring the watchers back first")
    url = ctx.watcher_url()
    mode = _mode(ctx)
    new = Authority.generate()
    keep = ctx.state_dir / "rotated-ca" / f"{new.key_id}.key"
    new.save(keep)
    probes = canary.compliant(old)[:2] + canary.compliant(new)[:2]
    sent = failed = retried = 0
    problems: list[str] = []

    def probe(include_new: bool) -> None:
        nonlocal sent, failed, retried
        batch = probes if include_new else probes[:2]
        for r in canary.run(url, batch, mode):
            sent += 1
            retried += bool(r.retried)
            if not r.allow:
                failed += 1
                problems.append(f"{r.name}: {r.outcome} {r.detail}")

    probe(include_new=False)
    merged = certs.TrustBundle.merge([bundle, new.bundle()])
    ctx.client.replace_secret(ctx.namespace, FABRIC.certs_secret,
                              {**data, certs.BUNDLE_KEY: merged.to_json().encode()})
    deadline = time.monotonic() + settle_s
    # Until the watcher has the new bundle, only old-CA certificates may be expected to pass.
    while True:
        results = canary.run(url, probes[2:], mode)
        if all(r.allow for r in results) or time.monotonic() > deadline:
            break
        probe(include_new=False)
        time.sleep(0.5)
    ctx.client.rollout_restart(ctx.namespace, FABRIC.watcher)
    pods = readiness.pod_http(ctx.client, ctx.env.runtime_dir or None)
    while time.monotonic() < deadline:
        probe(include_new=False)
        if readiness.workload(ctx.client, ctx.namespace, FABRIC.watcher, pod_http=pods).ok:
            break
        time.sleep(0.5)
    else:
        problems.append(f"{FABRIC.watcher} did not settle within {settle_s:g}s")
    # every pod now started with both keys: each connection may land on another one
    for _ in range(2 * max(1, ctx.client.get_deployment(ctx.namespace, FABRIC.watcher).ready)):
        probe(include_new=True)
    if retire_old:
        ctx.client.replace_secret(ctx.namespace, FABRIC.certs_secret,
                                  {**data, certs.BUNDLE_KEY: new.bundle().to_json().encode()})
    result = {"old_key": old.key_id, "new_key": new.key_id,
              "bundle_keys": [new.key_id] if retire_old else list(merged.key_ids),
              "new_ca_key_file": str(keep), "mode": mode.value, "decisions": sent,
              "failed_decisions": failed, "transport_retries": retried,
              "problems": problems[:10]}
    if failed or problems:
        raise RotationFailed(f"rotation broke {failed} of {sent} decisions: "
                             f"{'; '.join(problems[:3])}")
    return result
