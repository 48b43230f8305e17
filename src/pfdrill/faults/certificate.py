"""Certificate corruption — the runbook's second named fault.

Two families, by ``mode``:

- the **trust bundle** in Secret ``fabric-certs`` is damaged:
  ``flip`` flips bits of the CA public keys (the bundle no longer matches its
  own key ids), ``truncate`` cuts the file in half, ``wrong_key`` replaces it
  with a well-formed bundle of a CA nobody uses. The watcher refuses a corrupt
  bundle loudly and keeps the last good one (``trust_bundle_ok`` 0, the bridge
  guarantee broken); a wrong key it accepts, and then every certificate fails.
- **bad certificates in the traffic**: ``expired``, ``not_yet_valid`` or
  ``other_ca`` (signed by a different CA) — a locust run of otherwise
  compliant requests, ``fraction`` of them with the bad certificate, at ``rate``
  requests per second.

Proof: for the bundle, its bytes no longer verify and every watcher reports it
(``trust_bundle_ok`` 0) — or, for ``wrong_key``, the watchers' certificate
failure ratio is above 1%; for traffic, certificate failures arrive at the
injected rate.
"""

from __future__ import annotations

import dataclasses
import enum
import json
from collections.abc import Callable

from pfdrill.errors import InvalidInput, ObjectNotFound
from pfdrill.fabric import certs
from pfdrill.fabric.authority import Authority
from pfdrill.faults import traffic
from pfdrill.faults.base import Observation, Params, Recorder
from pfdrill.faults.context import FaultContext
from pfdrill.faults.kind import FaultKind
from pfdrill.faults.metrics import delta
from pfdrill.faults.observe import PROVE_WINDOW_S, TOLERANCE, gauge_everywhere
from pfdrill.faults.params import Param, ParamSpec
from pfdrill.faults.state import FaultState
from pfdrill.load.plan import TrafficKind
from pfdrill.load.traffic import IdentitySet
from pfdrill.model import metrics as m
from pfdrill.model.drill import ParamValue
from pfdrill.model.fabric import FABRIC

SECRET = FABRIC.certs_secret
# The runbook's SEV-1 line: certificate verification failures above 1%.
FAILURE_RATIO = 0.01


class Mode(enum.Enum):
    FLIP = "flip"
    TRUNCATE = "truncate"
    WRONG_KEY = "wrong_key"
    EXPIRED = "expired"
    NOT_YET_VALID = "not_yet_valid"
    OTHER_CA = "other_ca"

    @property
    def in_traffic(self) -> bool:
        return self in (Mode.EXPIRED, Mode.NOT_YET_VALID, Mode.OTHER_CA)


@dataclasses.dataclass(frozen=True)
class Settings:
    mode: Mode
    fraction: float
    rate: float

    @classmethod
    def of(cls, params: Params) -> Settings:
        return cls(Mode(str(params["mode"])), float(params.get("fraction", 1.0)),
                   float(params.get("rate", 0.0)))


def flip_keys(raw: bytes) -> bytes:
    """The bundle with one bit flipped in every CA public key (key ids left as they were)."""
    try:
        data = json.loads(raw)
        for entry in data["keys"]:
            key = bytearray(certs.b64d(entry["public_key"]))
            key[0] ^= 0x01
            entry["public_key"] = certs.b64e(bytes(key))
        return (json.dumps(data, indent=2, sort_keys=True) + "\n").encode()
    except (ValueError, KeyError, TypeError, IndexError):
        # Not a bundle we can read: flip raw bytes in the middle instead.
        out = bytearray(raw or b"{}")
        out[len(out) // 2] ^= 0xFF
        return bytes(out)


def _bundle_damage(mode: Mode, raw: bytes) -> bytes:
    if mode is Mode.FLIP:
        return flip_keys(raw)
    if mode is Mode.TRUNCATE:
        return raw[: max(1, len(raw) // 2)]
    return Authority.generate().bundle().to_json().encode()  # WRONG_KEY


BAD_IDENTITIES: dict[Mode, Callable[[Authority], IdentitySet]] = {
    Mode.EXPIRED: traffic.expired,
    Mode.NOT_YET_VALID: traffic.not_yet_valid,
    Mode.OTHER_CA: traffic.other_ca,
}


def _prove_bundle(ctx: FaultContext, s: Settings) -> Observation:
    try:
        raw = ctx.cluster.get_secret(ctx.namespace, SECRET).get(certs.BUNDLE_KEY, b"")
    except ObjectNotFound:
        return Observation(False, f"Secret {SECRET} is gone")
    if s.mode is Mode.WRONG_KEY:
        try:
            bundle = certs.TrustBundle.parse(raw)
        except InvalidInput as exc:
            return Observation(False, f"the replacement bundle does not parse: {exc}")
        ours = ctx.authority().key_id
        before, after = ctx.window(PROVE_WINDOW_S)
        checked = delta(before, after, m.CERTS.name)
        failed = checked - delta(before, after, m.CERTS_VERIFIED.name)
        ratio = failed / checked if checked else 0.0
        return Observation(
            ours not in bundle.key_ids and ratio > FAILURE_RATIO,
            f"{SECRET} trusts {', '.join(bundle.key_ids)} (not the fabric CA {ours}); "
            f"{failed:g}/{checked:g} certificates failed verification ({ratio:.1%})")
    try:
        certs.TrustBundle.parse(raw)
    except InvalidInput as exc:
        broken = f"{SECRET} no longer verifies ({exc.message})"
    else:
        return Observation(False, f"{SECRET} still holds a valid trust bundle")
    ok, seen = gauge_everywhere(ctx.scrape(), m.TRUST_BUNDLE_OK.name, None, 0.0)
    return Observation(ok, f"{broken}; {seen}")


def _prove_traffic(ctx: FaultContext, s: Settings) -> Observation:
    before, after = ctx.window(PROVE_WINDOW_S, nudge=0)
    span = after.at - before.at
    checked = delta(before, after, m.CERTS.name)
    failed = checked - delta(before, after, m.CERTS_VERIFIED.name)
    expected = s.fraction * s.rate * span
    ratio = failed / checked if checked else 0.0
    return Observation(
        failed >= TOLERANCE * expected and ratio > FAILURE_RATIO,
        f"{failed:g} certificate failures in {span:.1f}s (injected {s.fraction * s.rate:g}/s "
        f"{s.mode.value}); failure ratio {ratio:.1%}")


class CertificateCorruption:
    kind = FaultKind.CERTIFICATE_CORRUPTION
    summary = ("the trust bundle in fabric-certs corrupted (flip, truncate, wrong_key), or traffic "
               "with expired, not-yet-valid or foreign-CA certificates")
    spec = ParamSpec((
        Param("mode", "what is corrupted", default=Mode.FLIP.value,
              choices=tuple(md.value for md in Mode)),
        Param("fraction", "traffic modes: share of the generated requests with the bad certificate",
              default=1.0, low=0.0, high=1.0, low_open=True),
        Param("rate", "traffic modes: generated requests per second", default=10.0,
              low=0.0, high=2000.0, low_open=True),
    ))
    terms = ("certificate", "cert", "trust bundle", FABRIC.certs_secret)

    def validate(self, params: Params) -> dict[str, ParamValue]:
        out = self.spec.resolve(self.kind.value, params)
        if not Mode(str(out["mode"])).in_traffic:
            extra = sorted(k for k in ("fraction", "rate") if k in params)
            if extra:
                raise InvalidInput(f"fault {self.kind.value}: parameter {extra[0]} applies only "
                                   f"to the traffic modes (expired, not_yet_valid, other_ca), "
                                   f"not mode={out['mode']}")
            out.pop("fraction", None)
            out.pop("rate", None)
        return out

    def inject(self, ctx: FaultContext, params: Params, rec: Recorder) -> None:
        s = Settings.of(params)
        if not s.mode.in_traffic:
            raw = ctx.cluster.get_secret(ctx.namespace, SECRET).get(certs.BUNDLE_KEY, b"")
            rec.set_secret(SECRET, {certs.BUNDLE_KEY: _bundle_damage(s.mode, raw)})
            return
        authority = ctx.authority()
        bad = BAD_IDENTITIES[s.mode](authority)
        runs = [({TrafficKind.COMPLIANT: s.fraction * s.rate}, bad),
                ({TrafficKind.COMPLIANT: (1 - s.fraction) * s.rate}, ctx.identities())]
        traffic.start(rec, self.kind.value, runs,
                      f"{s.rate:g} req/s, {s.fraction:.0%} with {s.mode.value} certificates")

    def prove(self, ctx: FaultContext, state: FaultState) -> Observation:
        s = Settings.of(state.params)
        return _prove_traffic(ctx, s) if s.mode.in_traffic else _prove_bundle(ctx, s)
