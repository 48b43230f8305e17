"""toolchain: builds and caches the cluster binaries from Go modules. Runs `go`, writes the cache.
"""
