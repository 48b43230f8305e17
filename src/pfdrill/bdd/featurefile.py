"""Feature files read as pytest-bdd reads them, and checked against pfdrill's step library.

pytest-bdd parses a feature only when it collects it, and a step nobody
implements or a fault parameter that does not exist surfaces mid-drill, after
the cluster was touched. :func:`check` parses with pytest-bdd's own parser
(exactly the Gherkin a drill will run), renders each scenario outline's
examples, matches every step against the step library
(:mod:`pfdrill.bdd.steps`) and checks what needs no cluster: the fault's name
and parameters and the success criteria named. Every problem is an
:class:`~pfdrill.errors.InvalidInput` naming file, line and the line's text.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from pytest_bdd.exceptions import GherkinParseError
from pytest_bdd.parser import Feature, FeatureParser
from pytest_bdd.parser import Step as GherkinStep
from pytest_bdd.steps import StepFunctionContext, step_function_context_registry

from pfdrill.bdd import plan
from pfdrill.bdd import steps as library
from pfdrill.drill import criteria
from pfdrill.errors import InvalidInput
from pfdrill.faults.catalog import CATALOG

_BREAK = re.compile(r"\r\n|\r|\n")  # the file is read with universal newlines, as pytest-bdd does


@dataclasses.dataclass(frozen=True)
class CheckedStep:
    """One step of one rendered scenario and the step definition that will run it."""

    scenario: str
    keyword: str
    text: str
    line: int
    definition: str


class _File:
    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self.lines = _BREAK.split(path.read_bytes().decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise InvalidInput(f"not UTF-8 text (byte {exc.start})", file=path) from None

    def error(self, message: str, line: int | None) -> InvalidInput:
        text = self.lines[line - 1] if line is not None and 0 < line <= len(self.lines) else None
        return InvalidInput(message, file=self.path, line=line, text=text)


def load(path: str | Path) -> Feature:
    """The feature as pytest-bdd parses it; Gherkin mistakes are InvalidInput with a line."""
    file = Path(path)
    if not file.is_file():
        raise InvalidInput("feature file does not exist", file=file)
    source = _File(file)
    try:
        return FeatureParser(str(file.parent), file.name).parse()
    except KeyError as exc:
        if exc.args != ("feature",):
            raise
        # gherkin returns a document without a feature; pytest-bdd then fails on the lookup.
        raise source.error("not valid Gherkin: no 'Feature:' in the file", None) from None
    except GherkinParseError as exc:
        raise source.error(f"not valid Gherkin: {_problem(str(exc.message)) or type(exc).__name__}",
                           exc.line if isinstance(exc.line, int) and exc.line > 0 else None
                           ) from None


def _problem(message: str) -> str:
    """gherkin's complaint without its boilerplate and positions, on one line."""
    parts = [re.sub(r"^\(\d+:\d+\):\s*", "", ln.strip()) for ln in message.splitlines()]
    parts = [p.removeprefix("Unknown parsing error: ") for p in parts]
    return "; ".join(p for p in parts if p and p != "Parser errors:")


def _definitions() -> list[StepFunctionContext]:
    """The step library's definitions (its module registers them with pytest-bdd)."""
    return [c for c in step_function_context_registry.values()
            if getattr(c.step_func, "__module__", "") == library.__name__]


def _check_intent(text: str) -> None:
    """What a drill step asks for that can be checked without a cluster: the fault, its
    parameters, the success criteria (the step's meaning is :mod:`pfdrill.bdd.plan`'s)."""
    found = plan.intent(text)
    if isinstance(found, plan.Inject):
        CATALOG.create(found.fault.name).validate(found.fault.params)
    elif isinstance(found, plan.Criteria):
        try:
            criteria.parse(found.names)
        except ValueError as exc:
            raise InvalidInput(f"unknown success criterion: {exc}") from None


def _match(step: GherkinStep, definitions: list[StepFunctionContext]) -> StepFunctionContext | None:
    for definition in definitions:
        if definition.type in (None, step.type) and definition.parser.is_matching(step.name):
            return definition
    return None


def check(path: str | Path) -> list[CheckedStep]:
    """Every step of every scenario (outlines rendered per example), each matched and checked."""
    file = Path(path)
    feature = load(file)
    source = _File(file)
    definitions = _definitions()
    out: list[CheckedStep] = []
    for template in feature.scenarios.values():
        contexts = [c for examples in template.examples for c in examples.as_contexts()] or [{}]
        for context in contexts:
            scenario = template.render(context)
            for step in scenario.steps:
                found = _match(step, definitions)
                if found is None:
                    raise source.error(f"no pfdrill step says {step.keyword} {step.name!r} "
                                       f"(scenario {scenario.name!r})", step.line_number)
                name = found.step_func.__name__
                try:
                    _check_intent(step.name)
                except InvalidInput as exc:
                    raise source.error(f"{exc.message} (scenario {scenario.name!r})",
                                       step.line_number) from None
                out.append(CheckedStep(scenario.name, step.keyword, step.name,
                                       step.line_number, name))
    return out
