"""One interface for every way pfdrill gets a cluster: kwok (embedded), kind, existing.

Providers are found through a registry keyed by :class:`ProviderKind`::

    provider = pfdrill.cluster.provider.create(ProviderKind.KWOK, name="pfdrill")
    provider.up(progress=print)
    client = KubeClient(provider.kubeconfig(), provider.context())
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from pfdrill.errors import InvalidInput
from pfdrill.model.cluster import ClusterStatus

Progress = Callable[[str], None]


class ProviderKind(enum.Enum):
    KWOK = "kwok"
    KIND = "kind"
    EXISTING = "existing"

    @classmethod
    def parse(cls, text: str) -> ProviderKind:
        for k in cls:
            if k.value == text.strip().lower():
                return k
        raise InvalidInput(f"unknown provider {text!r}: expected one of {', '.join(k.value for k in cls)}")


class Provider(Protocol):
    kind: ProviderKind
    name: str

    def up(self, progress: Progress = ...) -> ClusterStatus:
        """Create (or reuse) the cluster and wait until it is ready. Idempotent."""
        ...

    def down(self, progress: Progress = ...) -> None:
        """Remove the cluster and everything it started. Idempotent."""
        ...

    def status(self) -> ClusterStatus: ...

    def kubeconfig(self) -> Path: ...

    def context(self) -> str: ...


def create(kind: ProviderKind, **options: Any) -> Provider:
    """Build a provider from the registry; options are the provider's constructor arguments."""
    from pfdrill.cluster import existing, kwok
    from pfdrill.cluster import kind as kind_mod

    registry: dict[ProviderKind, Callable[..., Provider]] = {
        ProviderKind.KWOK: kwok.KwokProvider,
        ProviderKind.KIND: kind_mod.KindProvider,
        ProviderKind.EXISTING: existing.ExistingProvider,
    }
    return registry[kind](**options)
