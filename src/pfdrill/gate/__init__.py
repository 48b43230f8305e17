"""gate: ``pfdrill gate``, the CI gate on runbook changes.

It judges a change, not a file: the runbook runs whole at the base revision
and at the head, under each severity it branches on, and only what the change
broke fails the gate (:mod:`~pfdrill.gate.regression`); then the drills the
change touches run (:mod:`~pfdrill.gate.touched`), through the one drill
sequencer, judged against the base as well.

- :mod:`~pfdrill.gate.revision` reads the change from git (subprocess ``git``);
- :mod:`~pfdrill.gate.diff`, :mod:`~pfdrill.gate.severity`,
  :mod:`~pfdrill.gate.touched`, :mod:`~pfdrill.gate.regression`: pure;
- :mod:`~pfdrill.gate.sources`: which faults and checks a source change touches;
- :mod:`~pfdrill.gate.plan`: all of that before any cluster is touched;
- :mod:`~pfdrill.gate.check`, :mod:`~pfdrill.gate.gatekeeper`: the runs, against
  the drill environment; :mod:`~pfdrill.gate.cache` keeps base results in
  ``~/.cache/pfdrill/gate``; :mod:`~pfdrill.gate.summary` writes the reports.

Allowed I/O: git, temporary directories, the cache and report directories,
and (through the drill and runbook packages) the drill environment.
"""
