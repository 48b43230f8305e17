"""pfctl's configuration: named environments and where its state lives.

``$PFCTL_CONFIG`` (YAML; the runbook executor writes one into each sandbox)::

    default_env: production
    state_dir: /tmp/pfdrill-runbook-x/.pfdrill/pfctl-state   # incident store, artifacts
    repo: /tmp/pfdrill-runbook-x                              # policy git repo (config diff)
    environments:
      production:
        kubeconfig: ~/.local/state/pfdrill/clusters/pfdrill/kubeconfig
        context: kwok-pfdrill
        namespace: production
        kubectl: /usr/local/bin/kubectl
        sink_url: http://127.0.0.1:40123
        prometheus_url: http://127.0.0.1:40124
        alertmanager_url: http://127.0.0.1:40125
        rules_file: /path/to/live/rules.yml
        # or, Prometheus in the cluster: its rules ConfigMap (name[/key], in namespace)
        rules_configmap: pfdrill-alert-rules
        runtime_dir: ~/.local/state/pfdrill/runtime/pfdrill      # kwok: Service addresses

Without a file, one environment is built from ``$KUBECONFIG``,
``$PFCTL_NAMESPACE`` (default ``production``), ``$PFCTL_RULES_FILE`` and
``$PFCTL_PROMETHEUS_URL``, and state goes to ``$PFDRILL_STATE_DIR/pfctl``.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

from pfdrill.errors import InvalidInput
from pfdrill.formats import yamldoc
from pfdrill.settings.paths import Paths

_ENV_KEYS = ("kubeconfig", "context", "namespace", "kubectl", "sink_url", "prometheus_url",
             "alertmanager_url", "rules_file", "rules_configmap", "runtime_dir", "schedule_file",
             "watcher_url")
_TOP_KEYS = ("default_env", "state_dir", "repo", "environments")


@dataclasses.dataclass(frozen=True)
class EnvSettings:
    name: str
    kubeconfig: str = ""
    context: str = ""
    namespace: str = "production"
    kubectl: str = ""
    sink_url: str = ""
    prometheus_url: str = ""
    alertmanager_url: str = ""
    rules_file: str = ""
    rules_configmap: str = ""  # Prometheus in the cluster: ConfigMap name[/key] of its rules
    runtime_dir: str = ""
    schedule_file: str = ""  # drills/schedule.yaml that `pfctl chaos update` edits
    watcher_url: str = ""

    def to_dict(self) -> dict[str, str]:
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class PfctlConfig:
    environments: dict[str, EnvSettings]
    default_env: str
    state_dir: Path
    repo: Path | None = None
    source: str = "(defaults)"

    def env(self, name: str | None) -> EnvSettings:
        chosen = name or self.default_env
        if chosen not in self.environments:
            known = ", ".join(sorted(self.environments)) or "none"
            raise InvalidInput(f"unknown environment {chosen!r} (configured: {known})",
                               file=self.source if self.source != "(defaults)" else None)
        return self.environments[chosen]


def _from_env() -> PfctlConfig:
    ns = os.environ.get("PFCTL_NAMESPACE", "production")
    env = EnvSettings(
        name=ns, kubeconfig=os.environ.get("KUBECONFIG", ""), namespace=ns,
        rules_file=os.environ.get("PFCTL_RULES_FILE", ""),
        prometheus_url=os.environ.get("PFCTL_PROMETHEUS_URL", ""),
        sink_url=os.environ.get("PFCTL_SINK_URL", ""),
    )
    return PfctlConfig({ns: env}, ns, Paths.from_env().state / "pfctl")


def load(path: str | Path | None = None) -> PfctlConfig:
    chosen = path or os.environ.get("PFCTL_CONFIG")
    if not chosen:
        return _from_env()
    p = Path(chosen).expanduser()
    if not p.is_file():
        raise InvalidInput("pfctl config file does not exist", file=p)
    doc = yamldoc.load(p)
    raw: Any = doc.root if doc.root is not None else {}
    if not isinstance(raw, dict):
        raise doc.error("pfctl config must be a mapping")
    unknown = sorted(set(map(str, raw)) - set(_TOP_KEYS))
    if unknown:
        raise doc.error(f"unknown key(s) {', '.join(unknown)}", [unknown[0]])
    environments = raw.get("environments") or {}
    if not isinstance(environments, dict):
        raise doc.error("environments must map names to settings", ["environments"])
    envs: dict[str, EnvSettings] = {}
    for name, body in environments.items():
        if not isinstance(body, dict):
            raise doc.error(f"environment {name!r} must be a mapping", ["environments", name])
        bad = sorted(set(map(str, body)) - set(_ENV_KEYS))
        if bad:
            raise doc.error(f"environment {name!r}: unknown key(s) {', '.join(bad)}",
                            ["environments", name, bad[0]])
        envs[str(name)] = EnvSettings(name=str(name),
                                      **{str(k): str(v) for k, v in body.items() if v is not None})
    if not envs:
        raise doc.error("no environments configured", ["environments"])
    default = str(raw.get("default_env") or next(iter(envs)))
    state = Path(str(raw.get("state_dir") or Paths.from_env().state / "pfctl")).expanduser()
    repo = Path(str(raw["repo"])).expanduser() if raw.get("repo") else None
    return PfctlConfig(envs, default, state, repo, str(p))
