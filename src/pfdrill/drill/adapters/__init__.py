"""Adapters from the drill's ports (:mod:`pfdrill.drill.ports`) to pfdrill's real components.

One module per thing adapted: :mod:`.prometheus` (detection, classification,
metric series, rules), :mod:`.notifications` (the sink), :mod:`.steady` (the
fabric's steady state), :mod:`.runbook` (the executor's sandbox, incident
store and files). :mod:`pfdrill.drill.wiring` assembles them.
"""
