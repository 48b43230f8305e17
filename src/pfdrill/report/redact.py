"""Redaction: secrets and webhook URLs never reach a report.

Every report format renders from one redacted copy of the results
(:meth:`Redactor.record`), so no writer can forget. Two layers: the exact
values the drill environment knows to be secret (webhook URLs, tokens), and
patterns for what nobody listed — URLs of webhook or notification paths, URLs
with credentials, ``*_WEBHOOK=`` assignments, bearer tokens, ``token=``/
``password=`` pairs and PEM blocks.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, TypeVar

from pfdrill.model.codec import Record

R = TypeVar("R", bound=Record)

MASK = "[REDACTED]"

_CHANNELS = "alertmanager|slack|security|stakeholder|team"
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"-----BEGIN [A-Z0-9 ]+-----.*?-----END [A-Z0-9 ]+-----", re.S), MASK),
    # an assignment of a webhook variable: the whole value goes
    (re.compile(r"\b([A-Z0-9_]*WEBHOOK[A-Z0-9_]*)(\s*[=:]\s*)(\"[^\"]*\"|'[^']*'|\S+)"),
     rf"\1\2{MASK}"),
    # URLs that are webhooks or notification endpoints, wherever they point
    (re.compile(rf"https?://[^\s\"'<>]*(?:hook|/(?:{_CHANNELS})(?:/|\b))[^\s\"'<>]*", re.I),
     "[REDACTED-URL]"),
    # credentials inside any URL
    (re.compile(r"(https?://)[^/\s:@\"']+:[^/\s@\"']+@"), rf"\1{MASK}@"),
    (re.compile(r"(?i)\b(authorization\s*:\s*(?:bearer|basic)\s+)\S+"), rf"\1{MASK}"),
    (re.compile(r"(?i)\b((?:access_|api_|auth_)?(?:token|password|passwd|secret|api_?key)"
                r"\s*[=:]\s*)(\"[^\"]*\"|'[^']*'|[^\s&,;]+)"), rf"\1{MASK}"),
)


class Redactor:
    def __init__(self, secrets: Iterable[str] = ()) -> None:
        # longest first, so a URL is masked whole before a token inside it
        self._secrets = sorted({s for s in secrets if s and len(s) >= 6}, key=len, reverse=True)

    def text(self, value: str) -> str:
        for secret in self._secrets:
            value = value.replace(secret, MASK)
        for pattern, replacement in _PATTERNS:
            value = pattern.sub(replacement, value)
        return value

    def tree(self, value: Any) -> Any:
        """A copy of a JSON-able tree with every string redacted (keys too)."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.tree(v) for v in value]
        if isinstance(value, dict):
            return {self.text(str(k)): self.tree(v) for k, v in value.items()}
        return value

    def record(self, rec: R) -> R:
        """The same record with every string in it redacted."""
        return type(rec).from_dict(self.tree(rec.to_dict()))
