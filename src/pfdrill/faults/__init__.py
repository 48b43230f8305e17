"""faults: the fault catalog — what can break in the fabric, how to break it, prove it, undo it.

Each fault is a small module (``adapter``, ``certificate``, ``reject``, ``dfa``,
``drift``, ``witness``, ``noninterference``, ``podloss``, ``degradation``,
``breakglass``) with separate ``validate``, ``inject`` and ``prove``, found through
:data:`pfdrill.faults.registry.DRIVERS` keyed by :class:`~pfdrill.faults.kind.FaultKind`;
rollback is generic (:func:`pfdrill.faults.base.undo`) over the changes each
injection journals. :class:`pfdrill.faults.fault.Catalog` is the drill engine's
fault catalog.

I/O it may do: change the cluster only through ``ClusterClient`` and only after
the blast-radius guard; read the fabric's metrics over HTTP (the runtime's
scrape targets or Prometheus) and send decide requests to the watcher; write
fault state files under pfdrill's state dir; start and stop detached worker
processes (locust traffic via :mod:`pfdrill.load`, a pod killer).

Typical use::

    ctx = FaultContext(KubeClient(kubeconfig, context), load_config(), Paths.from_env(),
                       metrics=TargetsFileReader(targets_json, "production"),
                       watcher_url="http://127.0.0.1:PORT", kubeconfig=Path(kubeconfig))
    fault = Catalog(ctx, key_prefix="game-day").create("adapter_failure")
    fault.inject({"variant": "scaled_to_zero", "failure_mode": "fail_open"})
    print(fault.prove())
    fault.rollback()
"""
