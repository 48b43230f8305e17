"""Console scripts of the fabric's services: ``sidecar-watcher`` and ``policy-adapter``.

Apart from the servers themselves, so that a pfdrill installed without its
``fabric`` extra answers in one line naming it instead of an import traceback.
"""

from __future__ import annotations

from pfdrill.console import script
from pfdrill.model.fabric import FABRIC


def watcher() -> None:
    script("pfdrill.fabric.watcher", FABRIC.watcher)


def adapter() -> None:
    script("pfdrill.fabric.adapter", FABRIC.adapter)
