"""Safety rules checked before any change: allowed context, opted-in namespace."""

from __future__ import annotations

from pfdrill.cluster.client import ClusterClient
from pfdrill.errors import ObjectNotFound, SafetyRefused
from pfdrill.settings.config import Config


def check_context(config: Config, context: str) -> None:
    if not config.context_allowed(context):
        src = f" in {config.source}" if config.source else " (defaults)"
        raise SafetyRefused(
            f"context {context!r} is not on the allow-list{src}: allowed are "
            f"{', '.join(config.allowed_contexts) or 'none'}")


def check_namespace(client: ClusterClient, namespace: str, config: Config) -> None:
    """Refuse unless ``namespace`` carries the opt-in label (``pfdrill.dev/drills=enabled``)."""
    try:
        labels = client.namespace_labels(namespace)
    except ObjectNotFound:
        raise SafetyRefused(f"namespace {namespace!r} does not exist in context {client.context!r}") from None
    if labels.get(config.optin_key) != config.optin_value:
        raise SafetyRefused(
            f"namespace {namespace!r} is not opted in to drills: it needs the label "
            f"{config.optin_label}")


def check(client: ClusterClient, namespace: str, config: Config) -> None:
    check_context(config, client.context)
    check_namespace(client, namespace, config)
