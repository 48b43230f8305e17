"""``drills/schedule.yaml``: load and validate it into a :class:`ScheduleSpec`.

Every problem is one :class:`~pfdrill.errors.InvalidInput` naming the file
and line, e.g.::

    drills/schedule.yaml:9: schedules[0].cron: '0 6 * *' is not a five-field cron expression

Where the file is, for commands that are not told (pfctl in a runbook, the
CronJob): ``$PFDRILL_SCHEDULE``, else ``drills/schedule.yaml`` in the working
directory or the nearest parent that has one (:func:`locate`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import itertools
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from croniter import croniter

from pfdrill.drill import suitefile
from pfdrill.errors import InvalidInput
from pfdrill.formats import yamldoc
from pfdrill.formats.yamldoc import Document, PathPart
from pfdrill.model.drill import SuiteSpec
from pfdrill.model.sla import TimingProfile
from pfdrill.settings import paths


class Frequency(enum.Enum):
    """How often something runs; ordered from most to least frequent."""

    HOURLY = "hourly"
    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"

    @property
    def rank(self) -> int:
        return list(Frequency).index(self)

    @property
    def cron(self) -> str:
        """The cron a new entry of this frequency gets (06:00 UTC, Mondays, the 1st)."""
        return {"hourly": "0 * * * *", "daily": "0 6 * * *", "weekly": "0 6 * * 1",
                "monthly": "0 6 1 * *"}[self.value]

    def covers(self, wanted: Frequency) -> bool:
        """Running this often satisfies a request to run ``wanted`` often."""
        return self.rank <= wanted.rank

    @classmethod
    def parse(cls, text: str) -> Frequency:
        for f in cls:
            if f.value == text.strip().lower():
                return f
        raise InvalidInput(f"frequency {text!r} is not one of {', '.join(f.value for f in cls)}")

    @classmethod
    def of_cron(cls, expr: str) -> Frequency:
        """The frequency a cron expression fires at: its longest gap over ten weeks."""
        start = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)  # a Monday: every pattern starts fresh
        it = croniter(expr, start)
        fires = [start]
        while fires[-1] < start + dt.timedelta(days=70) and len(fires) < 3000:
            fires.append(it.get_next(dt.datetime))
        gap = max((b - a for a, b in itertools.pairwise(fires[1:])),
                  default=dt.timedelta(days=31))
        for f, limit in ((cls.HOURLY, dt.timedelta(hours=1)), (cls.DAILY, dt.timedelta(days=1)),
                         (cls.WEEKLY, dt.timedelta(days=7))):
            if gap <= limit:
                return f
        return cls.MONTHLY


class NotifyOn(enum.Enum):
    ALWAYS = "always"
    FAILURE = "failure"


@dataclasses.dataclass(frozen=True)
class Webhook:
    """Where the summary goes. ``url`` is never printed: :meth:`describe` names its source."""

    url: str = ""
    env: str = ""
    secret_name: str = ""
    secret_key: str = ""

    def resolve(self, environ: Mapping[str, str]) -> str | None:
        if self.url:
            return self.url
        value = environ.get(self.env, "").strip()
        return value or None

    def describe(self) -> str:
        return f"${self.env}" if self.env else "the URL in the schedule file"


@dataclasses.dataclass(frozen=True)
class InCluster:
    """How ``pfdrill schedule render`` writes the CronJob and its RBAC."""

    namespace: str = "production"
    service_account: str = "pfdrill-drills"
    image: str = "pfdrill:0.1.0"
    config_map: str = "pfdrill-config"
    canary_ca_secret: str = "pfdrill-canary-ca"
    starting_deadline_seconds: int = 3600
    successful_jobs_history_limit: int = 3
    failed_jobs_history_limit: int = 5
    active_deadline_seconds: int = 7200


@dataclasses.dataclass(frozen=True)
class Entry:
    """One scheduled suite run."""

    name: str
    suite_ref: str  # as written, relative to the schedule file
    suite_file: Path
    cron: str
    frequency: Frequency
    profile: TimingProfile | None = None
    drills: tuple[str, ...] = ()  # empty: every drill of the suite
    line: int | None = None

    def runs(self, drill: str) -> bool:
        return not self.drills or drill in self.drills


@dataclasses.dataclass(frozen=True)
class ScheduleSpec:
    file: Path
    entries: tuple[Entry, ...]
    webhook: Webhook
    keep: int
    notify_on: NotifyOn = NotifyOn.ALWAYS
    history_claim: str = "pfdrill-history"
    history_size: str = "1Gi"
    scenarios: Mapping[str, Frequency] = dataclasses.field(default_factory=dict)
    in_cluster: InCluster = InCluster()

    def entry(self, name: str) -> Entry:
        for e in self.entries:
            if e.name == name:
                return e
        raise InvalidInput(f"no schedule named {name!r} (has: "
                           f"{', '.join(e.name for e in self.entries)})", file=self.file)

    def suites(self) -> dict[Path, SuiteSpec]:
        """Every suite the schedule names, loaded once each."""
        return {e.suite_file: _suite(e.suite_file) for e in self.entries}


def schema() -> dict[str, Any]:
    return suitefile.package_schema("pfdrill.schedule", "schedule.schema.json")


def _suite(path: Path) -> SuiteSpec:
    return suitefile.load(path)


def locate(explicit: str | Path | None = None, cwd: Path | None = None) -> Path:
    """The schedule file (:func:`pfdrill.settings.paths.schedule_file`); bad input when none."""
    found = paths.schedule_file(explicit, cwd)
    if found is None:
        raise InvalidInput(f"no schedule file: set ${paths.SCHEDULE_ENV} or run where "
                           f"{paths.SCHEDULE_FILE} exists")
    return found


def _fail(message: str, file: Path, index: Document, path: list[PathPart]) -> InvalidInput:
    line = index.line(path)
    return InvalidInput(f"{yamldoc.dotted(path)}: {message}", file=file, line=line,
                        text=index.text(line))


def _entry(raw: dict[str, Any], i: int, file: Path, index: Document) -> Entry:
    path: list[PathPart] = ["schedules", i]
    cron = " ".join(str(raw["cron"]).split())
    if len(cron.split()) != 5 or not croniter.is_valid(cron):
        raise _fail(f"{raw['cron']!r} is not a five-field cron expression (minute hour "
                    f"day-of-month month day-of-week, UTC)", file, index, [*path, "cron"])
    suite_file = (file.parent / raw["suite"]).resolve()
    if not suite_file.is_file():
        raise _fail(f"suite file {raw['suite']!r} does not exist (looked at {suite_file})",
                    file, index, [*path, "suite"])
    try:
        suite = _suite(suite_file)
    except InvalidInput as exc:
        raise _fail(f"suite {raw['suite']!r} is invalid: {exc.one_line()}", file, index,
                    [*path, "suite"]) from None
    drills: tuple[str, ...] = () if raw.get("drills", "all") == "all" else tuple(raw["drills"])
    names = [d.name for d in suite.drills]
    for j, name in enumerate(drills):
        if name not in names:
            raise _fail(f"no drill {name!r} in suite {suite.name!r} (has: {', '.join(names)})",
                        file, index, [*path, "drills", j])
    return Entry(name=raw["name"], suite_ref=raw["suite"], suite_file=suite_file, cron=cron,
                 frequency=Frequency.of_cron(cron),
                 profile=TimingProfile(raw["profile"]) if raw.get("profile") else None,
                 drills=drills, line=index.line(path))


def load(path: str | Path) -> ScheduleSpec:
    """Read and validate a schedule file, the suites it names and its scenario promises."""
    file = Path(path)
    index = yamldoc.load(file)
    data = index.root
    if not isinstance(data, dict):
        raise InvalidInput("a schedule file is a mapping with 'schedules', 'notify' and "
                           "'history'", file=file, line=1)
    suitefile.validate_schema(data, file, index, against=schema())
    entries: list[Entry] = []
    for i, raw in enumerate(data["schedules"]):
        if raw["name"] in (e.name for e in entries):
            raise _fail(f"duplicate schedule name {raw['name']!r}", file, index,
                        ["schedules", i, "name"])
        entries.append(_entry(raw, i, file, index))
    hook = data["notify"]["webhook"]
    secret = hook.get("secret") or {}
    history = data["history"]
    spec = ScheduleSpec(
        file=file, entries=tuple(entries),
        webhook=Webhook(url=hook.get("url", ""), env=hook.get("env", ""),
                        secret_name=secret.get("name", ""), secret_key=secret.get("key", "")),
        keep=int(history["keep"]), notify_on=NotifyOn(data["notify"].get("when", "always")),
        history_claim=history.get("claim", "pfdrill-history"),
        history_size=history.get("size", "1Gi"),
        scenarios={str(k): Frequency(v) for k, v in (data.get("scenarios") or {}).items()},
        in_cluster=InCluster(**(data.get("in_cluster") or {})))
    _check_scenarios(spec, index)
    return spec


def _check_scenarios(spec: ScheduleSpec, index: Document) -> None:
    """Each promised scenario resolves to drills that run at least that often."""
    from pfdrill.schedule import scenario

    for name, wanted in spec.scenarios.items():
        try:
            drills = scenario.resolve(name, spec)
        except InvalidInput as exc:
            raise _fail(exc.message, spec.file, index, ["scenarios", name]) from None
        for suite_file, drill in drills:
            if not any(e.suite_file == suite_file and e.runs(drill) and e.frequency.covers(wanted)
                       for e in spec.entries):
                raise _fail(f"scenario {name!r} is promised {wanted.value}, but drill "
                            f"{drill!r} is in no schedule that runs {wanted.value} or more often "
                            f"(pfctl chaos update adds it)", spec.file, index, ["scenarios", name])
