"""runtime: the process runtime that runs annotated kwok pods as local processes.

It plays the kubelet (and kube-proxy) for pods annotated
``pfdrill.dev/runtime: process``: starts their container commands, projects
ConfigMap/Secret volumes to files and updates them live, proxies Services,
serves logs/exec/port-forward through kwok's CRDs, restarts crashed processes
with back-off, and publishes Prometheus scrape targets. The contract is in
``deploy/RUNTIME-CONTRACT.md``.

I/O: the Kubernetes API through ``ClusterClient``; local processes, files under
the runtime's state dir, and TCP listeners on 127.0.0.1.
"""
