"""The post-mortem pack: a PDF with the incident summary, its timeline as a chart, and the events.

Drawn with matplotlib's PDF backend (no display needed). The timeline holds
the incident store's events (declared, status-page updates, updates,
post-mortem scheduled) and, when pfctl ran inside a runbook, every runbook
command with its outcome (``$PFCTL_TIMELINE``, written by the executor).
"""

from __future__ import annotations

import datetime as dt
import json
import textwrap
from pathlib import Path
from typing import Any

from pfdrill.pfctl.store import Event

_COLOURS = {"ok": "#2e7d32", "failed": "#c62828", "not_executable": "#9e9e9e",
            "skipped": "#bdbdbd"}


def _when(text: str) -> dt.datetime | None:
    try:
        t = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return t if t.tzinfo else t.replace(tzinfo=dt.UTC)


def _num(t: dt.datetime) -> float:
    """matplotlib's date number: days since its epoch, 1970-01-01 UTC."""
    return t.timestamp() / 86400.0


def runbook_events(path: Path | None, incident_id: str) -> list[dict[str, Any]]:
    if path is None or not path.is_file():
        return []
    out = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and entry.get("incident_id") in ("", incident_id, None):
            out.append(entry)
    return out


def render(output: Path, incident: dict[str, Any], events: list[Event],
           commands: list[dict[str, Any]]) -> int:
    """Write the PDF; returns its page count."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt
    from matplotlib.backends.backend_pdf import PdfPages

    output.parent.mkdir(parents=True, exist_ok=True)
    pages = 0
    with PdfPages(output) as pdf:
        fig = plt.figure(figsize=(8.27, 11.69))
        fig.text(0.08, 0.94, f"Post-mortem: incident {incident['id']}", fontsize=18,
                 weight="bold")
        rows = [("Severity", incident["severity"]), ("Status", incident["status"]),
                ("Declared", incident["created_at"]), ("Resolved", incident["resolved_at"] or "-"),
                ("Description", incident["description"]),
                ("Root cause", incident["root_cause"] or "(to be determined)"),
                ("Resolution", incident["resolution"] or "-")]
        y = 0.88
        for label, value in rows:
            fig.text(0.08, y, f"{label}:", fontsize=11, weight="bold")
            wrapped = textwrap.wrap(str(value), 70) or ["-"]
            for part in wrapped:
                fig.text(0.28, y, part, fontsize=11)
                y -= 0.025
            y -= 0.01
        counts: dict[str, int] = {}
        for c in commands:
            counts[str(c.get("outcome"))] = counts.get(str(c.get("outcome")), 0) + 1
        if counts:
            summary = ", ".join(f"{v} {k}" for k, v in sorted(counts.items()))
            fig.text(0.08, y - 0.02, f"Runbook commands: {summary}", fontsize=11)
        pdf.savefig(fig)
        plt.close(fig)
        pages += 1

        fig, ax = plt.subplots(figsize=(11.69, 8.27))
        points = [(t, e.kind, e.detail) for e in events if (t := _when(e.at)) is not None]
        for i, (t, kind, _) in enumerate(points):
            ax.scatter([_num(t)], [1], marker="D", s=60, color="#1565c0", zorder=3)
            ax.annotate(kind, (_num(t), 1), xytext=(0, 12 + 14 * (i % 4)), textcoords="offset points",
                        rotation=30, fontsize=8)
        for c in commands:
            t = _when(str(c.get("at", "")))
            if t is None:
                continue
            ax.scatter([_num(t)], [0], marker="o", s=30,
                       color=_COLOURS.get(str(c.get("outcome")), "#616161"), zorder=3)
        ax.set_yticks([0, 1], ["runbook commands", "incident events"])
        ax.set_ylim(-0.6, 1.9)
        ax.set_title(f"Incident {incident['id']} timeline (UTC)")
        ax.xaxis_date()
        ax.grid(axis="x", alpha=0.3)
        fig.autofmt_xdate()
        pdf.savefig(fig)
        plt.close(fig)
        pages += 1

        lines = [f"{e.at}  {e.kind:<22} {e.detail}" for e in events]
        lines += [f"{c.get('at', '')}  {c.get('outcome')!s:<14} {c.get('section', '')}: "
                  f"{c.get('what', '')}" for c in commands]
        per_page = 48
        for start in range(0, max(len(lines), 1), per_page):
            fig = plt.figure(figsize=(8.27, 11.69))
            fig.text(0.05, 0.96, "Timeline entries", fontsize=14, weight="bold")
            for i, ln in enumerate(lines[start:start + per_page] or ["(no entries)"]):
                fig.text(0.05, 0.93 - i * 0.018, ln[:110], fontsize=7, family="monospace")
            pdf.savefig(fig)
            plt.close(fig)
            pages += 1
        meta = pdf.infodict()
        meta["Title"] = f"Post-mortem {incident['id']}"
        meta["Creator"] = "pfdrill pfctl"
    return pages
