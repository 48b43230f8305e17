"""drill: orchestration of one drill through its phases, on a monotonic clock, with observers. I/O only through the layers below.

Entry points: :class:`pfdrill.drill.engine.Drill` (one drill from its record;
see the example there), :func:`pfdrill.drill.suite.run_file` (what ``pfdrill
drill run`` does), :mod:`pfdrill.drill.suitefile` (drill files),
:mod:`pfdrill.drill.ports` (the collaborators' interfaces) with
:mod:`pfdrill.drill.fake` (their fakes) and :mod:`pfdrill.drill.wiring` (the
real ones).
"""
