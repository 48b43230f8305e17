"""cluster: the adapter to Kubernetes, and the providers that create clusters.

The only package that imports the ``kubernetes`` client. It may run the
``kwokctl`` and ``kind`` CLIs and talk to API servers; nothing else.

- :mod:`pfdrill.cluster.client` — the :class:`ClusterClient` protocol every
  other layer uses, and :class:`KubeClient`, its implementation on the
  Kubernetes Python client;
- :mod:`pfdrill.cluster.fake` — an in-memory fake for unit tests of logic;
- :mod:`pfdrill.cluster.provider` — the provider interface and registry;
  :mod:`~pfdrill.cluster.kwok`, :mod:`~pfdrill.cluster.kind`,
  :mod:`~pfdrill.cluster.existing` implement it;
- :mod:`pfdrill.cluster.guard` — the safety allow-list and opt-in checks.
"""
