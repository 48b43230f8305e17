"""pfctl: the fabric operator CLI the runbook calls (`./pfctl ...`). Talks to the cluster, the incident store, the sink and Prometheus.
"""
