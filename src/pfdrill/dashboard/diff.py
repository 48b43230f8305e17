"""What changed between two looks at the world, as observations. Pure.

The pollers (:mod:`.world`) keep the last look and hand both to these
functions: alerts going pending, firing, resolved; ConfigMap keys changing;
Deployments scaled or becoming ready; new Kubernetes events; notifications.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import TypeVar

from pfdrill.model.cluster import DeploymentState, EventInfo
from pfdrill.model.detection import Channel, SinkRequest
from pfdrill.model.live import Observation, Source

AlertLook = Mapping[str, tuple[str, str, str]]  # key -> (name, state, severity)
_SHOWN = 60  # characters of a ConfigMap value shown


def level(severity: str) -> str:
    return {"SEV-1": "critical", "SEV-2": "critical", "SEV-3": "warning"}.get(severity, "info")


def alert_key(name: str, labels: Mapping[str, str]) -> str:
    return name + "{" + ",".join(f"{k}={v}" for k, v in sorted(labels.items())
                                 if k != "alertname") + "}"


def alerts(before: AlertLook, now: AlertLook, wall: float) -> list[Observation]:
    out: list[Observation] = []
    for key, (name, state, severity) in sorted(now.items()):
        prev = before.get(key)
        if prev is None or prev[1] != state:
            out.append(Observation(wall, Source.PROMETHEUS, state, name,
                                   f"{name} {state}" + (f" ({severity})" if severity else ""),
                                   level(severity) if state == "firing" else "info"))
    for key, (name, state, _severity) in sorted(before.items()):
        if key not in now:
            kind = "resolved" if state == "firing" else "cleared"
            out.append(Observation(wall, Source.PROMETHEUS, kind, name, f"{name} {kind}"))
    return out


def _show(value: str | None) -> str:
    if value is None:
        return "(unset)"
    one = " ".join(value.split())
    return repr(one if len(one) <= _SHOWN else one[: _SHOWN - 1] + "…")


T = TypeVar("T")


def _objects(kind: str, before: Mapping[str, T], now: Mapping[str, T], wall: float,
             changes: Callable[[str, T, T], list[tuple[str, str]]]) -> list[Observation]:
    """Created and deleted objects of a kind, and what ``changes`` says of the others."""
    out: list[Observation] = []
    for name in sorted(set(before) | set(now)):
        old, new = before.get(name), now.get(name)
        if old is None or new is None:
            what = "created" if old is None else "deleted"
            out.append(Observation(wall, Source.KUBERNETES, kind.lower(), name,
                                   f"{kind} {name} {what}", "warning"))
            continue
        out += [Observation(wall, Source.KUBERNETES, kind.lower(), name, f"{kind} {name} {text}",
                            lvl) for text, lvl in changes(name, old, new)]
    return out


def _configmap(name: str, old: Mapping[str, str], new: Mapping[str, str]
               ) -> list[tuple[str, str]]:
    changed = [f"{k}: {_show(old.get(k))} → {_show(new.get(k))}"
               for k in sorted(set(old) | set(new)) if old.get(k) != new.get(k)]
    return [("; ".join(changed), "warning")] if changed else []


def _deployment(name: str, old: DeploymentState, new: DeploymentState) -> list[tuple[str, str]]:
    out = []
    if old.replicas != new.replicas:
        out.append((f"scaled {old.replicas} → {new.replicas}", "warning"))
    if old.ready != new.ready:
        out.append((f"ready {new.ready}/{new.replicas}", "info"))
    return out


def configmaps(before: Mapping[str, Mapping[str, str]], now: Mapping[str, Mapping[str, str]],
               wall: float) -> list[Observation]:
    return _objects("ConfigMap", before, now, wall, _configmap)


def deployments(before: Mapping[str, DeploymentState], now: Mapping[str, DeploymentState],
                wall: float) -> list[Observation]:
    return _objects("Deployment", before, now, wall, _deployment)


def event_key(e: EventInfo) -> tuple[str, ...]:
    return (e.kind, e.name, e.reason, e.message, e.last_timestamp, str(e.count))


def events(seen: set[tuple[str, ...]], now: Sequence[EventInfo],
           wall: float) -> list[Observation]:
    """Events not seen before (``seen`` is updated)."""
    out: list[Observation] = []
    for e in now:
        key = event_key(e)
        if key in seen:
            continue
        seen.add(key)
        out.append(Observation(wall, Source.KUBERNETES, "event", f"{e.kind}/{e.name}",
                               f"{e.type or 'Normal'} {e.reason} {e.kind}/{e.name}: {e.message}",
                               "warning" if e.type == "Warning" else "info"))
    return out


def notification(n: SinkRequest) -> Observation:
    if n.channel is Channel.ALERTMANAGER:
        alerts_ = n.alerts()
        text = ", ".join(f"{a.alertname} {a.status}" for a in alerts_) or n.path
        worst = max((level(a.severity) for a in alerts_ if a.status == "firing"),
                    key=("info", "warning", "critical").index, default="info")
        return Observation(n.received_at, Source.SINK, "notification", n.channel.value,
                           f"Alertmanager notified: {text}", worst)
    body = n.body
    if isinstance(n.json, dict) and isinstance(n.json.get("text"), str):
        body = n.json["text"]
    else:
        try:
            parsed = json.loads(n.body)
            body = parsed.get("text", n.body) if isinstance(parsed, dict) else n.body
        except ValueError:
            pass
    first = " ".join(str(body).split())[:160]
    return Observation(n.received_at, Source.SINK, "notification", n.channel.value,
                       f"{n.channel.value} notified: {first}")
