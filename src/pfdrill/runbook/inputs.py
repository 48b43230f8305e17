"""What a runbook runs against, and the drill's variables it sees.

:class:`Environment` names the drill cluster and the services around it (the
notification sink, Prometheus, the alert rules); :class:`DrillVars` are the
``SEVERITY``, ``INCIDENT_ID``, ``DURATION``, ... a runbook reads;
:class:`Options` bound how long things may take.
"""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

from pfdrill.errors import InvalidInput
from pfdrill.model.codec import Record
from pfdrill.model.fabric import NAMESPACE, RUNBOOK_VARIABLES
from pfdrill.model.severity import Severity

# $X_WEBHOOK → the sink path it posts to (each channel on its own path).
WEBHOOKS: dict[str, str] = {
    "SLACK_WEBHOOK": "slack",
    "SECURITY_WEBHOOK": "security",
    "STAKEHOLDER_WEBHOOK": "stakeholder",
    "TEAM_WEBHOOK": "team",
}


@dataclasses.dataclass(frozen=True)
class Environment(Record):
    kubeconfig: str
    context: str
    namespace: str = NAMESPACE
    sink_url: str = ""  # e.g. http://127.0.0.1:41233 (webhooks post to <sink>/<channel>)
    prometheus_url: str = ""
    alertmanager_url: str = ""
    rules_file: str = ""  # the live alert rules file pfctl monitoring edits
    rules_configmap: str = ""  # or, Prometheus in the cluster: its rules ConfigMap name[/key]
    kubectl: str = ""  # the real kubectl binary ('' = the first on PATH)
    schedule_file: str = ""  # drills/schedule.yaml: the sandbox gets a copy pfctl chaos update edits
    runtime_dir: str = ""  # kwok process runtime state (Service addresses for pfctl)
    watcher_url: str = ""  # where pfctl reaches the watcher when no runtime_dir says

    def kubectl_path(self) -> str:
        found = self.kubectl or shutil.which("kubectl") or ""
        if not found:
            raise InvalidInput("no kubectl found: put one on PATH or pass its path")
        return found

    def webhooks(self) -> dict[str, str]:
        if not self.sink_url:
            return {}
        base = self.sink_url.rstrip("/")
        return {name: f"{base}/{path}" for name, path in WEBHOOKS.items()}


@dataclasses.dataclass(frozen=True)
class DrillVars(Record):
    """The drill-provided variables a runbook reads (the seed uses all of them)."""

    severity: str = "SEV-1"
    incident_id: str = ""
    duration: str = ""
    impact: str = ""
    root_cause: str = ""
    actions_taken: str = ""
    lessons_learned: str = ""
    follow_up_actions: str = ""
    description: str = "Policy enforcement drill"

    def __post_init__(self) -> None:
        try:
            sev = Severity.parse(self.severity)
        except ValueError as exc:
            raise InvalidInput(str(exc)) from None
        object.__setattr__(self, "severity", sev.value)

    def env(self) -> dict[str, str]:
        return {name: str(getattr(self, field)) for name, field in RUNBOOK_VARIABLES.items()}


@dataclasses.dataclass(frozen=True)
class Options(Record):
    stream_seconds: float = 3.0  # how long `kubectl logs -f` / port-forward run before being stopped
    command_timeout: float = 180.0  # any other command
    settle_seconds: float = 60.0  # a scaled/restarted Deployment must be ready within this
    config_seconds: float = 10.0  # the watcher must accept (or refuse) a policy-config change
    output_limit: int = 65536  # bytes of stdout/stderr kept per command
    inputs: str = ""  # a directory of operator-authored files copied into the sandbox
    keep_sandbox: bool = False

    def inputs_path(self) -> Path | None:
        if not self.inputs:
            return None
        p = Path(self.inputs)
        if not p.is_dir():
            raise InvalidInput("inputs directory does not exist", file=p)
        return p
