"""faults: the fault catalog. Each fault is a module with `validate`, `inject`, `prove` and `rollback`; changes the cluster only through ClusterClient.
"""
