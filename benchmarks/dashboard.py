"""How long a drill event takes from the recorder to a dashboard client.

    .venv/bin/python benchmarks/dashboard.py [--events 200] [--clients 4]

A drill's observer writes each event to the live journal
(:class:`pfdrill.drill.live.LiveJournal`); the dashboard tails the journal
directory (every 0.2 s), and streams the event to every connected client by
server-sent events. This runs the real journal, tail, feed and aiohttp server
on 127.0.0.1, with ``--clients`` SSE clients reading, and prints the latency
from the ``publish`` call to each client's receipt: median, p95 and max.
Nothing is asserted (timing belongs to figures, not to tests). The browser
test prints the same figure as the page measured it.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import threading
import time
from pathlib import Path

import httpx

from pfdrill.dashboard.board import Dashboard
from pfdrill.drill.live import LiveJournal
from pfdrill.model.live import LiveEvent, LiveKind
from pfdrill.model.timeline import EventKind, TimelineEvent


def client(url: str, want: int, got: list[float], ready: threading.Event) -> None:
    with httpx.stream("GET", f"{url}events", timeout=60) as r:
        ready.set()
        for line in r.iter_lines():
            if not line.startswith("data: "):
                continue
            event = json.loads(line[6:])
            if event.get("kind") == "event":
                got.append(time.time() - float(event["message"]))
                if len(got) >= want:
                    return


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=200)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--every", type=float, default=0.05, help="seconds between events")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        live = Path(tmp) / "live"
        board = Dashboard(journals=live)
        url = board.start()
        journal = LiveJournal(live, run_id="bench")
        results: list[list[float]] = [[] for _ in range(args.clients)]
        readies = [threading.Event() for _ in range(args.clients)]
        threads = [threading.Thread(target=client, args=(url, args.events, results[i],
                                                         readies[i]), daemon=True)
                   for i in range(args.clients)]
        for t in threads:
            t.start()
        for r in readies:
            r.wait(30)
        time.sleep(0.5)
        for i in range(args.events):
            # the publish time rides in the message: the journal's own wall would do as well
            journal.publish(LiveEvent(wall=time.time(), run_id="bench", kind=LiveKind.EVENT,
                                      drill="d", message=repr(time.time()), event=TimelineEvent(
                                          float(i), EventKind.NOTE, "bench")))
            time.sleep(args.every)
        for t in threads:
            t.join(60)
        board.stop()
    all_ms = sorted(1000 * x for r in results for x in r)
    print(f"dashboard: {len(all_ms)} deliveries ({args.events} events x {args.clients} SSE "
          f"clients), journal tail every 0.2 s")
    print(f"  publish -> client latency: median {statistics.median(all_ms):.0f} ms, "
          f"p95 {all_ms[int(0.95 * (len(all_ms) - 1))]:.0f} ms, max {all_ms[-1]:.0f} ms")


if __name__ == "__main__":
    main()
