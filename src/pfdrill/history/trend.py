"""Per-drill trends and regressions from the run history.

A regression is flagged when the newest run of a drill is worse than its
recent past: a measure (MTTD, MTTR) above the median of the previous runs
plus a margin — the larger of an absolute margin and a fraction of the
median, so a 2 s wobble on a 10 s MTTD is not news but doubling is — or a
drill failing whose previous run passed (a drill that passed last week and
fails now is news even without a long record; one that keeps failing is not).
"""

from __future__ import annotations

import dataclasses
import statistics
from collections.abc import Sequence

from pfdrill.history.store import HistoryRow
from pfdrill.model.codec import Record

MEASURES = ("mttd", "mttr")


@dataclasses.dataclass(frozen=True)
class Policy(Record):
    window: int = 5  # previous runs the newest is compared with
    min_runs: int = 3  # fewer previous runs than this: no judgement
    margin_s: float = 5.0
    margin_ratio: float = 0.25


@dataclasses.dataclass(frozen=True)
class Regression(Record):
    drill: str
    what: str  # mttd | mttr | verdict
    latest: float | None
    median: float | None
    limit: float | None
    message: str


@dataclasses.dataclass(frozen=True)
class Trend(Record):
    drill: str
    runs: int
    passed: int
    verdicts: tuple[str, ...]  # oldest first
    mttd: tuple[float | None, ...]
    mttr: tuple[float | None, ...]
    regressions: tuple[Regression, ...] = ()
    # Verdict stability: of the runs after which the same drill (same spec hash) passed
    # again, how many failed — failures on a system that was fine, as far as the drill knows.
    false_failures: int = 0
    judged: int = 0

    @property
    def false_failure_rate(self) -> float | None:
        return self.false_failures / self.judged if self.judged else None

    @property
    def latest_verdict(self) -> str:
        return self.verdicts[-1] if self.verdicts else ""


def _measure(drill: str, what: str, values: Sequence[float | None],
             policy: Policy) -> Regression | None:
    if not values or values[-1] is None:
        return None
    latest = values[-1]
    past = [v for v in values[:-1][-policy.window:] if v is not None]
    if len(past) < policy.min_runs:
        return None
    median = statistics.median(past)
    limit = median + max(policy.margin_s, policy.margin_ratio * median)
    if latest <= limit:
        return None
    return Regression(drill=drill, what=what, latest=latest, median=median, limit=limit,
                      message=f"{what.upper()} {latest:.1f} s is above the median {median:.1f} s "
                              f"of the previous {len(past)} runs plus margin (limit "
                              f"{limit:.1f} s)")


def false_failures(rows: Sequence[HistoryRow]) -> tuple[int, int]:
    """(false failures, runs judged) over ``rows`` of one drill, oldest first.

    A run is judged when a later run with the same spec hash passed: the drill was
    then unchanged and the system could pass it, so a failure in between was the
    drill's, not the system's. Runs after the last pass of their hash are not judged.
    """
    last_pass: dict[str, int] = {}
    for i, r in enumerate(rows):
        if r.passed and r.spec_hash:
            last_pass[r.spec_hash] = i
    judged = [r for i, r in enumerate(rows) if r.spec_hash and i < last_pass.get(r.spec_hash, -1)]
    return sum(r.verdict == "failed" for r in judged), len(judged)


def trends(rows: Sequence[HistoryRow], policy: Policy = Policy()) -> list[Trend]:
    by: dict[str, list[HistoryRow]] = {}
    for r in sorted(rows, key=lambda r: (r.started_at, r.run_id)):
        by.setdefault(r.drill, []).append(r)
    out = []
    for drill, rs in sorted(by.items()):
        regs: list[Regression] = []
        for what in MEASURES:
            reg = _measure(drill, what, [getattr(r, what) for r in rs], policy)
            if reg is not None:
                regs.append(reg)
        streak = 0
        for r in reversed(rs[:-1]):
            if not r.passed:
                break
            streak += 1
        if not rs[-1].passed and streak:
            regs.append(Regression(drill=drill, what="verdict", latest=None, median=None,
                                   limit=None, message=f"failed ({rs[-1].failing_phase}: "
                                   f"{rs[-1].reason}) after {streak} passing run"
                                   f"{'s' if streak > 1 else ''}"))
        false, judged = false_failures(rs)
        out.append(Trend(drill=drill, runs=len(rs), passed=sum(r.passed for r in rs),
                         verdicts=tuple(r.verdict for r in rs),
                         mttd=tuple(r.mttd for r in rs), mttr=tuple(r.mttr for r in rs),
                         regressions=tuple(regs), false_failures=false, judged=judged))
    return out


def _stability(t: Trend) -> str:
    rate = t.false_failure_rate
    return "—" if rate is None else f"{t.false_failures}/{t.judged} ({rate:.0%})"


_BARS = "▁▂▃▄▅▆▇█"


def sparkline(values: Sequence[float | None]) -> str:
    nums = [v for v in values if v is not None]
    if not nums:
        return ""
    lo, hi = min(nums), max(nums)
    span = (hi - lo) or 1.0
    return "".join("·" if v is None else _BARS[int((v - lo) / span * (len(_BARS) - 1))]
                   for v in values)


def table(items: Sequence[Trend]) -> str:
    """A plain-text table for the terminal."""
    if not items:
        return "no drill runs recorded yet"
    head = f"{'drill':<28} {'runs':>4} {'pass':>5}  {'last':<11} {'MTTD':>7} {'trend':<12} " \
           f"{'MTTR':>7} {'trend':<12} {'false failures':<14}"
    lines = [head, "-" * len(head)]
    for t in items:
        mark = {"passed": "✓", "failed": "✗"}.get(t.latest_verdict, "!")
        last_mttd, last_mttr = t.mttd[-1], t.mttr[-1]
        lines.append(
            f"{t.drill:<28} {t.runs:>4} {t.passed:>2}/{t.runs:<2}  {mark} {t.latest_verdict:<9} "
            f"{'—' if last_mttd is None else f'{last_mttd:.1f}s':>7} "
            f"{sparkline(t.mttd[-12:]):<12} "
            f"{'—' if last_mttr is None else f'{last_mttr:.1f}s':>7} {sparkline(t.mttr[-12:]):<12} "
            f"{_stability(t)}")
    regs = [r for t in items for r in t.regressions]
    if regs:
        lines += ["", "REGRESSIONS:"] + [f"  {r.drill}: {r.message}" for r in regs]
    return "\n".join(lines)
