"""The self-contained HTML report: inline CSS, inline SVG, no script, no external asset."""

from __future__ import annotations

import functools
import importlib.resources

import jinja2

from pfdrill.model.result import MEASURE_DEFINITIONS, DrillResult, SuiteResult
from pfdrill.report import svg


@functools.cache
def _template() -> jinja2.Template:
    text = importlib.resources.files("pfdrill.report").joinpath("report.html.j2").read_text(
        encoding="utf-8")
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined,
                             trim_blocks=True, lstrip_blocks=True)
    return env.from_string(text)


def _secs(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} s"


def _since(r: DrillResult, at: float | None) -> str:
    """A drill-relative moment as seconds after the injection."""
    if at is None:
        return "—"
    if r.injected_at is None:
        return f"{at:.1f} s"
    return f"+{at - r.injected_at:.1f} s"


def render(suite: SuiteResult) -> str:
    return _template().render(suite=suite, definitions=MEASURE_DEFINITIONS, secs=_secs,
                              since=_since, timeline=svg.timeline, series=svg.all_series)
