"""A fake runbook executor: the runbook's sections as effects on a :class:`FakeWorld`.

Section names follow the seed runbook's headings ("Incident Response Actions /
Immediate Mitigation"); a name matches on its last part, case-insensitively,
so either form works. The effects are what the real bash would do (patch the
ConfigMap, scale, notify a webhook, write the incident report...).
A section listed in ``world.broken_sections`` has its first change command
fail with exit 1 and no effect — a broken runbook step.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Mapping, Sequence

from pfdrill.drill.fake.world import WATCHERS, FakeWorld
from pfdrill.drill.ports import CommandRun, SectionRun
from pfdrill.errors import InvalidInput
from pfdrill.model.detection import Channel
from pfdrill.model.evidence import CommandOutcome, IncidentRecord
from pfdrill.model.fabric import FABRIC

Env = Mapping[str, str]


@dataclasses.dataclass(frozen=True)
class Cmd:
    text: str
    effect: Callable[[FakeWorld, Env], str] | None = None  # returns output
    change: bool = False  # a change is what a broken step breaks


def _cm(key: str, value: str) -> Callable[[FakeWorld, Env], str]:
    def do(w: FakeWorld, env: Env) -> str:
        w.cluster.patch_configmap(w.namespace, FABRIC.policy_config, {key: value})
        return "configmap/policy-config patched"
    return do


def _scale(n: int) -> Callable[[FakeWorld, Env], str]:
    def do(w: FakeWorld, env: Env) -> str:
        w.cluster.scale_deployment(w.namespace, FABRIC.watcher, n)
        return "deployment.apps/sidecar-watcher scaled"
    return do


def _notify(channel: Channel, text: str) -> Callable[[FakeWorld, Env], str]:
    def do(w: FakeWorld, env: Env) -> str:
        w.notify(channel, text.replace("$INCIDENT_ID", env.get("INCIDENT_ID", "")))
        return "ok"
    return do


def _when(sev: str, effect: Callable[[FakeWorld, Env], str]) -> Callable[[FakeWorld, Env], str]:
    def do(w: FakeWorld, env: Env) -> str:
        return effect(w, env) if env.get("SEVERITY") == sev else ""
    return do


def _create_incident(w: FakeWorld, env: Env) -> str:
    iid = env["INCIDENT_ID"]
    w.incidents[iid] = IncidentRecord(incident_id=iid, severity=env.get("SEVERITY", ""),
                                      status="investigating",
                                      created_wall=w.clock.now().isoformat(),
                                      description="Policy enforcement failure detected")
    return f"incident {iid} created"


def _update_incident(**changes: str) -> Callable[[FakeWorld, Env], str]:
    def do(w: FakeWorld, env: Env) -> str:
        iid = env["INCIDENT_ID"]
        inc = w.incidents.get(iid)
        if inc is None:
            raise RuntimeError(f"no incident {iid}")
        now = w.clock.now().isoformat()
        values = {k: (now if v == "@now" else v) for k, v in changes.items()}
        w.incidents[iid] = dataclasses.replace(inc, **values)  # type: ignore[arg-type]
        return f"incident {iid} updated"
    return do


def _report(w: FakeWorld, env: Env) -> str:
    text = (f"# Policy Enforcement Incident Report\n\n## Incident Details\n"
            f"- **Severity**: {env.get('SEVERITY')}\n- **Duration**: {env.get('DURATION')}\n"
            f"- **Impact**: {env.get('IMPACT')}\n\n## Root Cause\n{env.get('ROOT_CAUSE', '')}\n\n"
            f"## Actions Taken\n{env.get('ACTIONS_TAKEN', '')}\n\n## Lessons Learned\n"
            f"{env.get('LESSONS_LEARNED', '')}\n\n## Follow-up Actions\n"
            f"{env.get('FOLLOW_UP_ACTIONS', '')}\n")
    w.files["incident-report.md"] = text.encode()
    return "incident-report.md written"


def _file(name: str, data: bytes) -> Callable[[FakeWorld, Env], str]:
    def do(w: FakeWorld, env: Env) -> str:
        w.files[name] = data
        return f"{name} written"
    return do


def _add_rule(w: FakeWorld, env: Env) -> str:
    w.rules.add("PolicyEnforcementFailure")
    return "rule policy_enforcement_failure added; Prometheus reloaded"


SECTIONS: dict[str, tuple[Cmd, ...]] = {
    "incident detection": (
        Cmd("kubectl get events -n production --sort-by='.lastTimestamp'"),
        Cmd("./pfctl status --env production"),
        Cmd("kubectl get pods -n production")),
    "incident declaration": (
        Cmd('./pfctl incident create --severity $SEVERITY --id $INCIDENT_ID', _create_incident,
            change=True),
        Cmd("curl -X POST $SLACK_WEBHOOK -d '{\"text\":\"incident declared\"}'",
            _notify(Channel.SLACK, "incident $INCIDENT_ID declared")),
        Cmd('./pfctl status update --status "investigating"')),
    "policy violation analysis": (
        Cmd("./pfctl analyze --violations violations.log --output analysis.json"),
        Cmd("./pfctl config show --env production --format json > config.json"),
        Cmd("sha256sum artifact/dfa.json"),
        Cmd("./pfctl validate --dfa artifact/dfa.json")),
    "initial assessment": (
        Cmd("./pfctl collect --env production --output incident.tar.gz",
            _file("incident.tar.gz", b"\x1f\x8bfake-tarball")),),
    "immediate mitigation": (
        Cmd("kubectl patch configmap policy-config -n production --patch "
            "'{\"data\":{\"enforcement_mode\":\"disabled\"}}'",
            _when("SEV-1", _cm("enforcement_mode", "disabled")), change=True),
        Cmd("kubectl scale deployment sidecar-watcher -n production --replicas=0",
            _when("SEV-1", _scale(0)), change=True),
        Cmd("curl -X POST $SECURITY_WEBHOOK -d '{\"text\":\"enforcement disabled\"}'",
            _when("SEV-1", _notify(Channel.SECURITY, "Policy enforcement disabled due to "
                                                     "SEV-1 incident"))),
        Cmd("kubectl scale deployment sidecar-watcher -n production --replicas=3",
            _when("SEV-2", _scale(3)), change=True),
        Cmd("kubectl patch configmap policy-config -n production --patch "
            "'{\"data\":{\"performance_mode\":\"enabled\"}}'",
            _when("SEV-2", _cm("performance_mode", "enabled")), change=True)),
    "policy enforcement recovery": (
        Cmd("kubectl patch configmap policy-config ... enforcement_mode shadow",
            _cm("enforcement_mode", "shadow"), change=True),
        Cmd("kubectl patch configmap policy-config ... enforcement_mode monitor",
            _cm("enforcement_mode", "monitor"), change=True),
        Cmd("kubectl patch configmap policy-config ... enforcement_mode enforce",
            _cm("enforcement_mode", "enforce"), change=True),
        Cmd(f"kubectl scale deployment sidecar-watcher -n production --replicas={WATCHERS}",
            _scale(WATCHERS), change=True)),
    "performance recovery": (
        Cmd("kubectl patch configmap policy-config ... performance_mode disabled",
            _cm("performance_mode", "disabled"), change=True),
        Cmd(f"kubectl scale deployment sidecar-watcher -n production --replicas={WATCHERS}",
            _scale(WATCHERS), change=True)),
    "incident documentation": (
        Cmd("cat > incident-report-$(date +%Y%m%d-%H%M%S).md << EOF ...", _report, change=True),),
    "post-mortem": (
        Cmd('./pfctl incident schedule-postmortem --incident-id $INCIDENT_ID --date ...',
            _update_incident(postmortem_wall="@now"), change=True),
        Cmd("./pfctl incident prepare-postmortem --incident-id $INCIDENT_ID --output pm.pdf",
            _file("postmortem.pdf", b"%PDF-1.4\n% fake post-mortem\n%%EOF\n"), change=True)),
    "process improvements": (
        Cmd('git commit -m "Update runbooks based on incident $INCIDENT_ID"', change=True),
        Cmd("./pfctl monitoring update --based-on-incident $INCIDENT_ID", _add_rule,
            change=True)),
    "stakeholder updates": (
        Cmd('./pfctl status update --status "resolved"'),
        Cmd("curl -X POST $STAKEHOLDER_WEBHOOK -d '{\"text\":\"resolved\"}'",
            _notify(Channel.STAKEHOLDER, "Policy Enforcement Incident Resolved"), change=True),
        Cmd('./pfctl incident update --incident-id $INCIDENT_ID --status "resolved"',
            _update_incident(status="resolved", resolved_wall="@now",
                             resolution="Policy enforcement restored"), change=True)),
    "team communication": (
        Cmd("curl -X POST $TEAM_WEBHOOK -d '{\"text\":\"update\"}'",
            _notify(Channel.TEAM, "Incident $INCIDENT_ID Update: Resolved"), change=True),
        Cmd('./pfctl meeting schedule --topic "Incident $INCIDENT_ID Follow-up"',
            _file("follow-up.ics", b"BEGIN:VCALENDAR\nEND:VCALENDAR\n"), change=True)),
}


def _key(section: str) -> str:
    return section.split("/")[-1].strip().lower()


class FakeRunbook:
    def __init__(self, world: FakeWorld) -> None:
        self._w = world

    def validate(self, runbook: str, sections: Sequence[str]) -> None:
        for s in sections:
            if _key(s) not in SECTIONS:
                raise InvalidInput(f"section {s!r} is not in the runbook", file=runbook)

    def run_section(self, runbook: str, section: str, env: Env) -> SectionRun:
        self.validate(runbook, [section])
        w = self._w
        broken = next((why for name, why in w.broken_sections.items()
                       if _key(name) == _key(section)), None)
        runs: list[CommandRun] = []
        ok = True
        for cmd in SECTIONS[_key(section)]:
            start: dt.datetime = w.clock.now()
            w.clock.sleep(w.command_s)
            w.tick()
            if broken and cmd.change and ok:
                ok = False
                runs.append(CommandRun(cmd.text, CommandOutcome.FAILED, 1, start, w.command_s,
                                       output=broken, reason=broken))
                continue
            try:
                out = cmd.effect(w, env) if cmd.effect else "ok"
            except Exception as exc:
                ok = False
                runs.append(CommandRun(cmd.text, CommandOutcome.FAILED, 1, start, w.command_s,
                                       output=str(exc), reason=str(exc)))
                continue
            runs.append(CommandRun(cmd.text, CommandOutcome.OK, 0, start, w.command_s,
                                   output=out))
        return SectionRun(section=section, ok=ok, commands=tuple(runs))
