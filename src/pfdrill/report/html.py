"""The self-contained HTML report: inline CSS, inline SVG, no script, no external asset."""

from __future__ import annotations

import functools
import importlib.resources

import jinja2

from pfdrill.model.result import MEASURE_DEFINITIONS, DrillResult, SuiteResult
from pfdrill.report import svg


def _resource(name: str) -> str:
    return importlib.resources.files("pfdrill.report").joinpath(name).read_text(encoding="utf-8")


@functools.cache
def template(name: str) -> jinja2.Template:
    """A report template; every page inlines the same stylesheet (``report.css``)."""
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined,
                             trim_blocks=True, lstrip_blocks=True)
    return env.from_string(_resource(name), globals={"css": _resource("report.css")})


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
    return template("report.html.j2").render(suite=suite, definitions=MEASURE_DEFINITIONS, secs=_secs,
                              since=_since, timeline=svg.timeline, series=svg.all_series)
