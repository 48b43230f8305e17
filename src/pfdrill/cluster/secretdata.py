"""The values held in a namespace's Secrets, in every form a report could show them.

A runbook may read a Secret (``kubectl get secret ... -o jsonpath=...``, with or
without ``base64 -d``) and its output goes into the evidence. Nobody lists
those values as secret, and no pattern recognises a password by its look, so
the drill takes them from the cluster itself and hands them to the report
redaction: each value decoded (when it is text) and as the API carries it
(base64).
"""

from __future__ import annotations

import base64
import binascii

from pfdrill.cluster.client import ClusterClient
from pfdrill.errors import ClusterError


def values(client: ClusterClient, namespace: str) -> tuple[str, ...]:
    """Every Secret value in ``namespace``, decoded and base64; none when the cluster does not
    let pfdrill list Secrets (a scheduled job's Role need not): nothing to redact it could
    read itself, and the generic patterns still apply."""
    try:
        items = client.list_objects("v1", "Secret", namespace)
    except ClusterError:
        return ()
    found: list[str] = []
    for item in items:
        for held in (item.get("data") or {}).values():
            raw = _raw(held)
            if not raw:
                continue
            found.append(base64.b64encode(raw).decode("ascii"))
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                continue
            found += [text, text.strip()]
    return tuple(dict.fromkeys(v for v in found if v))


def _raw(held: object) -> bytes | None:
    """A Secret value's bytes: the API carries base64 text; a client may hand bytes."""
    if isinstance(held, bytes):
        return held
    if isinstance(held, str):
        try:
            return base64.b64decode(held, validate=True)
        except binascii.Error:
            return None
    return None
