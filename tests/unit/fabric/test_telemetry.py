from __future__ import annotations

import io
import re

from fabric_support import FakePermits

from pfdrill.fabric.adapter import Adapter
from pfdrill.fabric.logsink import LogSink
from pfdrill.fabric.service import Watcher
from pfdrill.model import metrics


def families(exposition: bytes) -> set[str]:
    return set(re.findall(r"^# TYPE (\S+) ", exposition.decode(), re.M))


def test_watcher_exports_exactly_the_contract() -> None:
    w = Watcher(FakePermits(), LogSink(io.StringIO()))
    expected = {m.name for m in metrics.WATCHER_METRICS}
    assert families(w.telemetry.render()) == expected
    assert b"_created" not in w.telemetry.render()


def test_adapter_exports_exactly_the_contract() -> None:
    a = Adapter(LogSink(io.StringIO()))
    assert families(a.telemetry.render()) == {m.name for m in metrics.ADAPTER_METRICS}


def test_async_log_sink_writes_everything_in_order() -> None:
    from pfdrill.fabric.logline import LogLine

    stream = io.StringIO()
    sink = LogSink(stream)
    sink.set_async(True, batch_size=7)
    for i in range(50):
        sink.emit(LogLine("INFO", "x", (), {"i": str(i)}))
    sink.emit(LogLine("DEBUG", "hidden"))
    sink.close()
    got = [line.split("i=")[1] for line in stream.getvalue().splitlines()]
    assert got == [str(i) for i in range(50)]
