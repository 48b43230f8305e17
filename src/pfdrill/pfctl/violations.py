"""Summaries of the watcher's decision log lines: ``analyze --violations`` and ``logs analyze``.

Lines are the fabric's logfmt (:mod:`pfdrill.fabric.logline`), with or without
a ``kubectl logs --prefix`` in front. Lines that are not fabric log lines are
counted as unparsed, never silently dropped.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Iterable
from typing import Any

from pfdrill.fabric import logline


def _top(counter: Counter[str], n: int = 20) -> dict[str, int]:
    return dict(counter.most_common(n))


def summarise(lines: Iterable[str]) -> dict[str, Any]:
    by_type: Counter[str] = Counter()
    by_principal: Counter[str] = Counter()
    by_rule: Counter[str] = Counter()
    by_reason: Counter[str] = Counter()
    by_mode: Counter[str] = Counter()
    by_outcome: Counter[str] = Counter()
    total = unparsed = 0
    first = last = ""
    for raw in lines:
        if not raw.strip():
            continue
        total += 1
        entry = logline.parse(raw)
        if entry is None:
            unparsed += 1
            continue
        first = first or entry.ts
        last = entry.ts or last
        for tag in entry.tags or ("(none)",):
            by_type[tag] += 1
        f = entry.fields
        if entry.event == "decision":
            by_principal[f.get("principal", "-")] += 1
            by_rule[f.get("rule", "-")] += 1
            by_reason[f.get("reason", "-")] += 1
            by_mode[f.get("mode", "-")] += 1
            by_outcome[f.get("outcome", "-")] += 1
        else:
            by_rule[f"event:{entry.event}"] += 1
    return {
        "total": total, "parsed": total - unparsed, "unparsed": unparsed,
        "first": first, "last": last,
        "by_type": _top(by_type), "by_principal": _top(by_principal), "by_rule": _top(by_rule),
        "by_reason": _top(by_reason), "by_mode": _top(by_mode), "by_outcome": _top(by_outcome),
    }


def _ts(text: str) -> dt.datetime | None:
    try:
        t = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return t if t.tzinfo else t.replace(tzinfo=dt.UTC)


def search(logs: dict[str, str], pattern: re.Pattern[str], since: dt.datetime) -> dict[str, Any]:
    """``logs analyze``: lines newer than ``since`` that match ``pattern``, summarised."""
    matched: list[str] = []
    per_pod: Counter[str] = Counter()
    per_word: Counter[str] = Counter()
    scanned = 0
    for pod, text in logs.items():
        for line in text.splitlines():
            entry = logline.parse(line)
            when = _ts(entry.ts) if entry else None
            if when is not None and when < since:
                continue
            scanned += 1
            hits = pattern.findall(line)
            if not hits:
                continue
            matched.append(f"{pod}: {line}")
            per_pod[pod] += 1
            for h in hits:
                per_word[(h if isinstance(h, str) else h[0]).lower()] += 1
    summary = summarise(m.split(": ", 1)[1] for m in matched)
    return {"since": since.isoformat(), "pattern": pattern.pattern, "scanned": scanned,
            "matched": len(matched), "by_pod": _top(per_pod), "by_match": _top(per_word),
            "summary": summary, "examples": matched[-10:]}
