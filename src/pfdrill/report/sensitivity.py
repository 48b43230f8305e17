"""Sensitivity reports: a table per alert (text), JSON, and an HTML page with MTTD against size.

The HTML page sits next to the probes' own drill reports (``report.html`` of
the same run) and draws, per alert, every size tried — detected ones at their
MTTD, missed ones on the SLA line — over the physical bound as a curve, with
the table's threshold and the bound theory's prediction marked.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from pfdrill.model.sensitivity import Sensitivity, Trial, TrialOutcome
from pfdrill.report import html, svg, writer

HTML = "sensitivity.html"
JSON = "sensitivity.json"
_BADGE = {"agrees": "ok", "mis_set": "bad", "inconclusive": "err",
          "detected": "ok", "missed": "bad", "error": "err"}


def _secs(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} s"


def _size(r: Sensitivity, t: Trial | None) -> str:
    if t is None:
        return "—"
    signal = f" (signal {t.signal:.4g})" if t.signal is not None and t.signal != t.size else ""
    return f"{t.size:.4g}{r.unit}{signal}"


def text(results: Sequence[Sensitivity]) -> str:
    """Fixed-width tables, one per alert, with the verdict under each."""
    out: list[str] = []
    for r in results:
        out.append(f"{r.alert}: {r.fault} by {r.param} (rule pfdrill:{r.signal} {r.rule}; "
                   f"table {r.row} from {r.table_threshold:g}; SLA {r.detect_s:g} s)")
        out.append(f"  bound theory: edge at {r.predicted_size:.4g}{r.unit}; "
                   f"steady-state noise ±{r.noise:.3g}")
        rows = [("SIZE", "SIGNAL", "OUTCOME", "MTTD", "BOUND")]
        for t in r.trials:
            rows.append((f"{t.size:.4g}{r.unit}", "—" if t.signal is None else f"{t.signal:.4g}",
                         t.outcome.value, _secs(t.mttd_s), _secs(t.bound_s)))
        widths = [max(len(row[c]) for row in rows) for c in range(len(rows[0]))]
        out += ["  " + "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
                for row in rows]
        out.append(f"  largest missed: {_size(r, r.largest_missed)}; smallest detected: "
                   f"{_size(r, r.smallest_detected)}")
        out.append(f"  {r.verdict.value.upper().replace('_', '-')}: {r.message}")
        errors = [t for t in r.trials if t.outcome is TrialOutcome.ERROR]
        out += [f"  error at {t.size:.4g}{r.unit}: {t.reason}" for t in errors]
        out.append("")
    return "\n".join(out)


def document(results: Sequence[Sensitivity], run_id: str) -> dict[str, object]:
    return {"format": "pfdrill-sensitivity/1", "run_id": run_id,
            "results": [r.to_dict() for r in results]}


def chart(r: Sensitivity) -> str:
    hits = [(t.size, t.mttd_s) for t in r.trials
            if t.outcome is TrialOutcome.DETECTED and t.mttd_s is not None]
    misses = [t.size for t in r.trials if t.outcome is TrialOutcome.MISSED]
    markers = [(r.predicted_size, "pred", "bound theory's edge")]
    if r.table_size is not None:
        markers.append((r.table_size, "tbl", f"table {r.table_threshold:g}"))
    return svg.scatter(f"{r.alert}: MTTD against {r.param} (bound below, SLA {r.detect_s:g} s "
                       "above)", r.unit, r.bound_curve, hits, misses, r.detect_s, markers)


def write(directory: Path, results: Sequence[Sensitivity], run_id: str) -> Path:
    """``sensitivity.json`` and ``sensitivity.html`` in ``directory``; returns the HTML path."""
    directory.mkdir(parents=True, exist_ok=True)
    page = html.template("sensitivity.html.j2").render(
        results=results, run_id=run_id, chart=chart, secs=_secs, size=_size, badge=_BADGE)
    writer.write_file(directory / JSON, json.dumps(document(results, run_id), indent=1) + "\n")
    writer.write_file(directory / HTML, page)
    return directory / HTML
