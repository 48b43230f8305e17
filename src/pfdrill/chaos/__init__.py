"""chaos: the fault catalog as chaostoolkit activities, and experiments run with chaostoolkit-lib.

- :mod:`~pfdrill.chaos.actions`, :mod:`~pfdrill.chaos.probes` — Python activities
  any experiment can use (``"module": "pfdrill.chaos.actions", "func": "inject_fault"``);
  where the cluster is comes from the experiment's ``configuration``
  (:mod:`~pfdrill.chaos.target`: ``--var pfdrill_context=...`` or ``PFDRILL_*`` env);
- :mod:`~pfdrill.chaos.control` — the control every pfdrill scenario declares:
  refuses bad scenarios, stops the method when a pfdrill activity fails;
- :mod:`~pfdrill.chaos.experiment` — builds the scenarios (``scenarios/*.json``)
  and the drill's inject/rollback experiments; :mod:`~pfdrill.chaos.scenario`
  checks experiment files;
- :mod:`~pfdrill.chaos.runner` — runs them through chaostoolkit-lib and keeps the
  journal; :mod:`~pfdrill.chaos.fault` — the drill engine's fault catalog on top.

I/O: what the fault catalog does (through :mod:`pfdrill.faults`), reading the
kwok stack's runtime files, and writing journals and chaostoolkit logs.
"""
