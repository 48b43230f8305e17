"""Faults made of traffic: locust runs in a background worker, with the identities they need.

The traffic kinds of :mod:`pfdrill.load` carry valid certificates issued by
the cluster's CA. Faults reuse them with *other* identities to get a single,
known defect: compliant requests whose certificates are expired, not yet
valid or issued by a foreign CA; or whose principals' clearance is ``public``,
so that every one of them breaks the non-interference rule
(the clearance must dominate the data's source label).
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from pfdrill.errors import EnvironmentProblem
from pfdrill.fabric.authority import Authority, Identity
from pfdrill.fabric.labels import Label
from pfdrill.faults.base import Recorder
from pfdrill.faults.context import FaultContext
from pfdrill.load.plan import LoadPlan, TrafficKind
from pfdrill.load.traffic import ROLES, IdentitySet

# Generated traffic stops by itself after this long, even if nobody rolls the fault back.
MAX_SECONDS = 3600.0


def require_url(ctx: FaultContext, fault: str) -> str:
    if not ctx.watcher_url:
        raise EnvironmentProblem(f"fault {fault} generates traffic and needs the sidecar-watcher "
                                 "Service URL (PFDRILL_WATCHER_URL, or the kwok runtime's services.json)")
    return ctx.watcher_url


def _reissue(issue: dict[str, Identity], base: IdentitySet) -> IdentitySet:
    return IdentitySet(valid=issue, foreign=base.foreign, expired=base.expired)


def expired(authority: Authority, now: float | None = None) -> IdentitySet:
    t = int(time.time() if now is None else now)
    ids = {p: authority.issue(p, acts, clr, not_before=t - 7200, not_after=t - 3600)
           for p, (acts, clr) in ROLES.items()}
    return _reissue(ids, IdentitySet.issue(authority, now=t))


def not_yet_valid(authority: Authority, now: float | None = None) -> IdentitySet:
    t = int(time.time() if now is None else now)
    ids = {p: authority.issue(p, acts, clr, not_before=t + 3600, not_after=t + 7200)
           for p, (acts, clr) in ROLES.items()}
    return _reissue(ids, IdentitySet.issue(authority, now=t))


def other_ca(authority: Authority) -> IdentitySet:
    stranger = Authority.generate()
    ids = {p: stranger.issue(p, acts, clr) for p, (acts, clr) in ROLES.items()}
    return _reissue(ids, IdentitySet.issue(authority))


def public_clearance(authority: Authority) -> IdentitySet:
    ids = {p: authority.issue(p, acts, Label.PUBLIC) for p, (acts, _clr) in ROLES.items()}
    return _reissue(ids, IdentitySet.issue(authority))


def start(rec: Recorder, fault: str, runs: Sequence[tuple[dict[TrafficKind, float], IdentitySet]],
          description: str, exclude: tuple[str, ...] = ()) -> None:
    """Start one worker running a locust process per ``(rates, identities)``;
    ``exclude`` names traffic variants to leave out."""
    url = require_url(rec.ctx, fault)
    items = []
    for rates, ids in runs:
        live = {k: r for k, r in rates.items() if r > 0}
        if not live:
            continue
        plan = LoadPlan(url, live, duration_s=MAX_SECONDS, exclude=exclude)
        items.append({"plan": plan.to_dict(), "identities": ids.to_dict()})
    rec.start_worker("traffic", {"runs": items, "max_seconds": MAX_SECONDS}, description)
