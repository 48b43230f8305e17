"""fabric: the reference Provability Fabric — sidecar-watcher, policy-adapter, their certificates and deployment.

It may serve HTTP (aiohttp), call the policy adapter over HTTP, read the
projected ConfigMap/Secret directories it is given, write its state dump into
its working directory, keep the per-cluster CA key under pfdrill's state dir,
and change a cluster only through :class:`pfdrill.cluster.client.ClusterClient`.

Pure parts (certificates, DFA, labels, decision pipeline, config parsing) have
no I/O of their own, so unit tests drive them directly; the servers
(:mod:`~pfdrill.fabric.watcher`, :mod:`~pfdrill.fabric.adapter`) wire them to
files, HTTP and Prometheus metrics.
"""
