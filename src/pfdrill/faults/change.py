"""What a fault changes, as records: planned for ``--dry-run``, journalled for rollback.

Each change holds the *before* values it found and the *after* values it
sets, so rollback can put back exactly what the fault touched (and nothing
else someone changed meanwhile). Secret values are kept base64 in the 0600
state file but never appear in a description.
"""

from __future__ import annotations

import base64
import dataclasses
import enum

from pfdrill.model.codec import Record


class ChangeKind(enum.Enum):
    CONFIGMAP = "configmap"  # keys of a ConfigMap (None: key absent)
    SECRET = "secret"  # keys of a Secret, values base64 (None: key absent)
    REPLICAS = "replicas"  # a Deployment's desired replicas ({"replicas": "N"})
    PODS_DELETED = "pods_deleted"  # pods deleted once; their Deployment replaces them
    WORKER = "worker"  # a background process (generated traffic, a pod killer)


@dataclasses.dataclass(frozen=True)
class Worker(Record):
    """A background process started by a fault, found again by pid and a unique token."""

    role: str  # "traffic" | "pod_killer"
    token: str
    pid: int = 0  # 0 until the process is started
    directory: str = ""  # its spec, status and log files
    description: str = ""


@dataclasses.dataclass(frozen=True)
class Change(Record):
    kind: ChangeKind
    target: str  # ConfigMap/Secret/Deployment name, or the worker's role
    before: dict[str, str | None] = dataclasses.field(default_factory=dict)
    after: dict[str, str | None] = dataclasses.field(default_factory=dict)
    pods: tuple[str, ...] = ()
    worker: Worker | None = None

    def describe(self) -> str:
        """One line for dry runs and reports (no secret value)."""
        if self.kind is ChangeKind.CONFIGMAP:
            parts = [f"{k}: {_show(self.before.get(k))} -> {_show(self.after.get(k))}"
                     for k in sorted(self.after)]
            return f"ConfigMap {self.target}: " + "; ".join(parts)
        if self.kind is ChangeKind.SECRET:
            parts = [f"{k}: {_size(self.before.get(k))} -> {_size(self.after.get(k))}"
                     for k in sorted(self.after)]
            return f"Secret {self.target}: " + "; ".join(parts)
        if self.kind is ChangeKind.REPLICAS:
            return (f"Deployment {self.target}: replicas {self.before.get('replicas')} -> "
                    f"{self.after.get('replicas')}")
        if self.kind is ChangeKind.PODS_DELETED:
            return f"pods of {self.target} deleted: {', '.join(self.pods) or '(none yet)'}"
        what = self.worker.description if self.worker else self.target
        return f"background {self.target}: {what}"


def _show(value: str | None) -> str:
    if value is None:
        return "(absent)"
    text = value if len(value) <= 60 else value[:57] + "..."
    return repr(text)


def _size(value: str | None) -> str:
    if value is None:
        return "(absent)"
    return f"<{len(base64.b64decode(value))} bytes>"


def b64(raw: bytes | None) -> str | None:
    return None if raw is None else base64.b64encode(raw).decode("ascii")


def unb64(text: str | None) -> bytes | None:
    return None if text is None else base64.b64decode(text)
