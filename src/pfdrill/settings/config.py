"""pfdrill's own configuration: the safety allow-list and environment defaults.

The file is YAML::

    allowed_contexts: [kwok-pfdrill, kind-pfdrill, staging-drills, "game-day-*"]
    optin_label: pfdrill.dev/drills=enabled
    namespace: production
    prometheus_url: http://127.0.0.1:9090      # for kind/existing clusters
    alertmanager_url: http://127.0.0.1:9093
    sink_url: http://127.0.0.1:9095            # the notification sink Alertmanager posts to
    rules_dir: /etc/prometheus/rules.d         # live rule files that Prometheus loads (optional)
    rules_configmap: pfdrill-alert-rules       # or, Prometheus in the cluster: its rules ConfigMap
                                               # (name[/key], in `namespace`)
    slow_detection_margin_s: 3       # MTTD this far above its physical bound: "slow pipeline"
    slow_detection_fails: false      # true: a slow pipeline fails the detect phase
    deploy_fabric: false                       # the fabric is ours: never deploy over it

The file is ``--config``, else ``$PFDRILL_CONFIG``, else ``pfdrill.yaml`` in the
working directory (a drill repository's own, as ``pfdrill init`` writes it).
Without a file the defaults allow only the clusters pfdrill creates itself.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import os
import re
from pathlib import Path
from typing import Any

from pfdrill.errors import InvalidInput
from pfdrill.formats import yamldoc

# Shell-style patterns: by default only clusters pfdrill creates itself (kwok-pfdrill, kind-pfdrill-ci, ...).
DEFAULT_ALLOWED_CONTEXTS = ("kwok-pfdrill", "kwok-pfdrill-*", "kind-pfdrill", "kind-pfdrill-*")
DEFAULT_OPTIN_LABEL = "pfdrill.dev/drills=enabled"
FILENAME = "pfdrill.yaml"
# A ConfigMap name (DNS subdomain), optionally /key (a ConfigMap data key).
_CONFIGMAP_REF = re.compile(r"[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?(/[-._a-zA-Z0-9]{1,253})?")  # found in the working directory


@dataclasses.dataclass(frozen=True)
class Config:
    allowed_contexts: tuple[str, ...] = DEFAULT_ALLOWED_CONTEXTS
    optin_label: str = DEFAULT_OPTIN_LABEL
    namespace: str = "production"
    prometheus_url: str | None = None
    alertmanager_url: str | None = None
    sink_url: str | None = None
    # The live alert rule files the configured Prometheus loads, when pfdrill may edit them
    # (pfctl monitoring update; restored after each drill, then Prometheus is reloaded).
    rules_dir: str | None = None
    # Prometheus in the cluster: the ConfigMap (``name`` or ``name/key``, in ``namespace``)
    # its rules volume projects; pfctl monitoring edits it, each drill restores it.
    rules_configmap: str | None = None
    # A drill whose MTTD exceeds its physical bound by more than this is flagged
    # "slow detection pipeline" (a warning; a failed detect phase if slow_detection_fails).
    slow_detection_margin_s: float = 3.0
    slow_detection_fails: bool = False
    # Who owns the fabric under test. None: pfdrill deploys its reference fabric only into
    # clusters it created (kwok, kind) and only when none runs; on an existing cluster it
    # deploys nothing. False: the fabric is the team's (kind too): only verified, never
    # applied. True: deploy the reference fabric when absent, on any provider.
    deploy_fabric: bool | None = None
    source: str | None = None  # the file it came from, for messages

    @property
    def optin_key(self) -> str:
        return self.optin_label.split("=", 1)[0]

    @property
    def optin_value(self) -> str:
        return self.optin_label.split("=", 1)[1] if "=" in self.optin_label else "true"

    def context_allowed(self, context: str) -> bool:
        """Exact names or shell-style patterns (``staging-*``) from ``allowed_contexts``."""
        return any(fnmatch.fnmatchcase(context, pattern) for pattern in self.allowed_contexts)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


_KNOWN = {f.name for f in dataclasses.fields(Config)} - {"source"}


def load_config(path: str | Path | None = None) -> Config:
    """Load the config from ``path``, ``$PFDRILL_CONFIG`` or ./pfdrill.yaml; else the defaults."""
    chosen = path or os.environ.get("PFDRILL_CONFIG") or (FILENAME if Path(FILENAME).is_file()
                                                          else None)
    if not chosen:
        return Config()
    p = Path(chosen)
    if not p.is_file():
        raise InvalidInput("config file does not exist", file=p)
    doc = yamldoc.load(p)
    raw = doc.root if doc.root is not None else {}
    if not isinstance(raw, dict):
        raise doc.error("config must be a YAML mapping")
    unknown = sorted(set(map(str, raw)) - _KNOWN)
    if unknown:
        raise doc.error(f"unknown config key(s): {', '.join(unknown)}", [unknown[0]])
    contexts = raw.get("allowed_contexts", list(DEFAULT_ALLOWED_CONTEXTS))
    if not isinstance(contexts, list) or not all(isinstance(c, str) for c in contexts):
        raise doc.error("allowed_contexts must be a list of context names", ["allowed_contexts"])
    label = raw.get("optin_label", DEFAULT_OPTIN_LABEL)
    if not isinstance(label, str) or not label:
        raise doc.error("optin_label must be 'key=value'", ["optin_label"])
    margin = raw.get("slow_detection_margin_s", 3.0)
    if isinstance(margin, bool) or not isinstance(margin, int | float) or margin < 0:
        raise doc.error("slow_detection_margin_s must be a number of seconds >= 0",
                        ["slow_detection_margin_s"])
    fails = raw.get("slow_detection_fails", False)
    if not isinstance(fails, bool):
        raise doc.error("slow_detection_fails must be true or false", ["slow_detection_fails"])
    deploy_fabric = raw.get("deploy_fabric")
    if deploy_fabric is not None and not isinstance(deploy_fabric, bool):
        raise doc.error("deploy_fabric must be true or false", ["deploy_fabric"])
    for key in ("prometheus_url", "alertmanager_url"):
        if raw.get(key) is not None and not isinstance(raw[key], str):
            raise doc.error(f"{key} must be a URL", [key])
    configmap = raw.get("rules_configmap")
    if configmap is not None and (not isinstance(configmap, str)
                                  or not _CONFIGMAP_REF.fullmatch(configmap)):
        raise doc.error("rules_configmap must be a ConfigMap name, or name/key", ["rules_configmap"])
    return Config(
        allowed_contexts=tuple(contexts),
        deploy_fabric=deploy_fabric,
        optin_label=label,
        namespace=str(raw.get("namespace", "production")),
        prometheus_url=raw.get("prometheus_url"),
        alertmanager_url=raw.get("alertmanager_url"),
        sink_url=raw.get("sink_url"),
        rules_dir=raw.get("rules_dir"),
        rules_configmap=configmap,
        slow_detection_margin_s=float(margin),
        slow_detection_fails=fails,
        source=str(p),
    )
