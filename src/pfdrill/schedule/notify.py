"""POST the run's summary to the team's webhook.

The body is JSON ``{"text": <markdown>}``, which Slack, Mattermost and Teams
incoming webhooks and pfdrill's notification sink all accept. The URL is a
secret (it carries a token): no message, log or exception here contains it.
"""

from __future__ import annotations

import httpx

from pfdrill.errors import ServiceUnavailable
from pfdrill.schedule.spec import Webhook

TIMEOUT_S = 20.0


def post(url: str, webhook: Webhook, text: str) -> int:
    """Send ``text``; the HTTP status on success, :class:`ServiceUnavailable` otherwise."""
    try:
        response = httpx.post(url, json={"text": text}, timeout=TIMEOUT_S)
    except httpx.HTTPError as exc:
        # httpx puts the URL into its messages: name only the kind of failure
        raise ServiceUnavailable(f"summary webhook ({webhook.describe()}) unreachable: "
                                 f"{type(exc).__name__}") from None
    if response.status_code >= 300:
        raise ServiceUnavailable(f"summary webhook ({webhook.describe()}) answered HTTP "
                                 f"{response.status_code}")
    return response.status_code
