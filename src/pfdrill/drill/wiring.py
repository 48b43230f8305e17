"""The real drill environment: the engine's ports wired to pfdrill's components.

:class:`StackEnvironmentFactory` builds a :class:`DrillEnvironment` for a
running stack (``pfdrill cluster up``): the cluster through
:class:`~pfdrill.cluster.client.KubeClient`, detection through Prometheus and
the notification sink, the runbook through the executor's sandbox, evidence
from pfctl's incident store and the sandbox's files. Adapters live in
:mod:`pfdrill.drill.adapters`. A component that is not available yet is an
:class:`~pfdrill.errors.EnvironmentProblem` naming it — before anything runs.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, cast

from pfdrill.drill.environment import DrillEnvironment
from pfdrill.drill.ports import FaultCatalog, RunbookRunner
from pfdrill.errors import EnvironmentProblem
from pfdrill.model.sla import TimingProfile
from pfdrill.settings.config import Config, load_config
from pfdrill.settings.paths import Paths


class RunbookChecker:
    """Checks that a runbook exists and has the named sections; runs nothing."""

    def validate(self, runbook: str, sections: Sequence[str]) -> None:
        from pfdrill.runbook import runner

        for section in sections:  # one by one, as the drill runs them
            runner.load(runbook, [section])
        if not sections:
            runner.load(runbook)

    def run_section(self, runbook: str, section: str, env: Any) -> Any:
        raise EnvironmentProblem("RunbookChecker only validates; use the drill environment")


class AnyFault:
    """A catalog that accepts every fault: for checking the rest of a drill file first."""

    def names(self) -> Sequence[str]:
        return ()

    def create(self, name: str) -> Any:
        return self

    def validate(self, params: Any) -> None:
        return None


def fault_catalog() -> FaultCatalog:
    """The fault catalog without a cluster: validates fault names and parameters."""
    from pfdrill.faults.catalog import CATALOG

    return cast(FaultCatalog, CATALOG)


def static_checkers() -> tuple[FaultCatalog, RunbookRunner]:
    """What ``pfdrill drill validate`` checks a drill file against, without a cluster."""
    return fault_catalog(), RunbookChecker()


@dataclasses.dataclass(frozen=True)
class StackEnvironmentFactory:
    provider: str = "kwok"
    name: str = "pfdrill"
    kubeconfig: Path | None = None
    context: str | None = None
    config: Config = dataclasses.field(default_factory=load_config)
    paths: Paths = dataclasses.field(default_factory=Paths.from_env)
    progress: Callable[[str], None] = dataclasses.field(default=lambda _m: None)

    @classmethod
    def from_options(cls, *, provider: str = "kwok", name: str = "pfdrill",
                     kubeconfig: Path | None = None, context: str | None = None,
                     config: Path | None = None,
                     progress: Callable[[str], None] | None = None) -> StackEnvironmentFactory:
        return cls(provider=provider, name=name, kubeconfig=kubeconfig, context=context,
                   config=load_config(config), progress=progress or (lambda _m: None))

    def build(self, profile: TimingProfile) -> DrillEnvironment:
        """Bring the whole environment up (idempotent: fast when it runs), then wire it."""
        from pfdrill.cluster.provider import ProviderKind
        from pfdrill.drill import adapters
        from pfdrill.stack.environment import Stack

        Stack(kind=ProviderKind.parse(self.provider), name=self.name, paths=self.paths,
              config=self.config, kubeconfig=str(self.kubeconfig) if self.kubeconfig else None,
              context=self.context).up_all(profile.value, progress=self.progress)
        return adapters.build(self, profile)
