"""toolchain: builds and caches the embedded cluster's binaries from Go modules.

Runs ``go`` (never downloads a release binary), writes the cache under
``~/.cache/pfdrill/toolchain`` (``$PFDRILL_CACHE_DIR``), keyed by version, with a
manifest of versions and sha256 sums. A second ``ensure`` does nothing.
"""
