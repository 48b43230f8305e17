"""The CPU and memory the runtime reports for ``kubectl top`` (real /proc of real processes)."""

from __future__ import annotations

import subprocess
import sys
import time
from decimal import Decimal

from kubernetes.utils import parse_quantity

from pfdrill.runtime import usage

# Spends some CPU starting up, then idles, as a server waiting for requests does.
IDLE_AFTER_WORK = "import time\nx = sum(i * i for i in range(3_000_000))\nprint('ready', flush=True)\ntime.sleep(60)\n"


def test_an_idle_process_reports_the_cpu_it_spent_since_it_started() -> None:
    """metrics-server drops a container whose cumulative CPU is 0, and kwok integrates the
    rates it is given from the first one on: a first sample of 0 kept an idle pod out of
    ``kubectl top`` for good (a full test run, 2026-12-04: 1 of 2 pods listed for 120 s)."""
    proc = subprocess.Popen([sys.executable, "-c", IDLE_AFTER_WORK], stdout=subprocess.PIPE,
                            text=True, start_new_session=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        sampler = usage.UsageSampler()
        first, mem = sampler.sample(proc.pid)
        assert first > 0 and mem > 1024 * 1024
        time.sleep(0.3)
        idle, _ = sampler.sample(proc.pid)
        assert idle < first  # later samples are the rate between samples
    finally:
        proc.kill()
        proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


def test_no_process_reports_nothing() -> None:
    assert usage.UsageSampler().sample(None) == (0.0, 0)


def test_a_small_rate_is_not_rounded_to_zero() -> None:
    assert parse_quantity(usage.quantity_cpu(0.0004)) == Decimal("0.0004")
    assert parse_quantity(usage.quantity_cpu(1.5)) == Decimal("1.5")
    assert usage.quantity_cpu(-1) == "0n"
    assert parse_quantity(usage.quantity_memory(20 * 1024 * 1024)) == 20 * 1024 * 1024
