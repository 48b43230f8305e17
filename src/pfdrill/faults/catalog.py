"""``CATALOG``: the fault catalog without a cluster, for checking drill files.

``pfdrill drill validate`` asks ``CATALOG.create(name).validate(params)`` of
every drill: unknown faults and bad parameters are refused exactly as an
injection would refuse them, and nothing is contacted. To inject, use a
catalog bound to a cluster: :class:`pfdrill.faults.fault.Catalog` (direct) or
:class:`pfdrill.chaos.fault.ChaosCatalog` (through chaostoolkit, with journals;
:func:`pfdrill.chaos.fault.catalog_for` builds one for a running stack).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pfdrill.errors import EnvironmentProblem
from pfdrill.faults.base import Observation
from pfdrill.faults.kind import FaultKind
from pfdrill.faults.registry import DRIVERS
from pfdrill.model.drill import ParamValue
from pfdrill.model.evidence import ChaosJournal


class UnboundFault:
    """Validates like the real fault; anything that would touch a cluster is refused."""

    def __init__(self, kind: FaultKind) -> None:
        self.kind = kind

    def validate(self, params: Mapping[str, ParamValue]) -> None:
        DRIVERS[self.kind].validate(params)

    def _unbound(self) -> EnvironmentProblem:
        return EnvironmentProblem(f"fault {self.kind.value}: this catalog only validates; inject "
                                  "through a catalog bound to a cluster (pfdrill.chaos.fault.catalog_for)")

    def inject(self, params: Mapping[str, ParamValue]) -> None:
        raise self._unbound()

    def prove(self) -> Observation:
        raise self._unbound()

    def rollback(self) -> None:
        return None  # nothing was injected through it

    def root_cause_terms(self) -> Sequence[str]:
        return DRIVERS[self.kind].terms

    def journal(self) -> ChaosJournal | None:
        return None


class StaticCatalog:
    def names(self) -> Sequence[str]:
        return [k.value for k in FaultKind]

    def create(self, name: str) -> UnboundFault:
        return UnboundFault(FaultKind.parse(name))


CATALOG = StaticCatalog()
