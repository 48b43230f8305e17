"""fabric: the reference Provability Fabric (sidecar-watcher, policy-adapter) and its deployment. HTTP servers, file reads, cluster via ClusterClient.
"""
