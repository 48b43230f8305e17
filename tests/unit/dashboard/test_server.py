"""The dashboard's HTTP side on 127.0.0.1: page and assets, SSE by role, the control API."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from pfdrill.dashboard.feed import Feed
from pfdrill.dashboard.server import DashboardServer
from pfdrill.errors import InvalidInput
from pfdrill.gameday import machine, plan
from pfdrill.model.gameday import Action, Command, GameDayState, Role
from pfdrill.model.live import LiveEvent, LiveKind
from pfdrill.model.timeline import EventKind, TimelineEvent

pytestmark = pytest.mark.servers

REPO = Path(__file__).resolve().parents[3]
NAME = "enforcement-disabled-drift"
TOKENS = {Role.FACILITATOR: "f-secret-token", Role.OBSERVER: "o-secret-token"}


class Controller:
    def __init__(self) -> None:
        self.got: list[tuple[Command, Role]] = []

    def command(self, cmd: Command, role: Role) -> str:
        if cmd.action is Action.ROLLBACK:
            raise InvalidInput("no inject is running to roll back")
        self.got.append((cmd, role))
        return f"{cmd.action.value}: accepted"


@pytest.fixture
def state() -> GameDayState:
    gp = plan.load(REPO / "drills" / "gameday.yaml")
    return machine.injected(machine.starting(machine.new("gd", gp, 0.0), NAME, 1.0), NAME,
                            t0_wall=1.0, injected_at=2.0, incident_id="x")


@pytest.fixture
def served(state: GameDayState) -> Iterator[tuple[DashboardServer, Controller]]:
    feed = Feed()
    feed.publish(LiveEvent(wall=1.0, run_id="gd", kind=LiveKind.GAMEDAY, gameday=state))
    controller = Controller()
    server = DashboardServer(feed, title="Test day", tokens=lambda: TOKENS, controller=controller)
    url = server.start()
    assert url.startswith("http://127.0.0.1:")
    try:
        yield server, controller
    finally:
        server.stop()


def test_the_page_and_its_assets_come_from_this_server(served: tuple[DashboardServer,
                                                                      Controller]) -> None:
    server, _ = served
    page = httpx.get(server.url)
    assert page.status_code == 200 and "<title>Test day" in page.text
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert assets == ["data:,", "/static/app.css", "/static/app.js"]
    for asset in assets[1:]:
        body = httpx.get(server.url + asset.lstrip("/")).text
        # the only absolute URL in the assets is the SVG namespace, which is never fetched
        assert set(re.findall(r"https?://[^\s\"'`)]+", body)) <= {"http://www.w3.org/2000/svg"}
    assert httpx.get(server.url + "static/secret.txt").status_code == 404


def read_events(url: str, token: str, want: int) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    with httpx.stream("GET", f"{url}events", params={"token": token}, timeout=10) as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        for line in r.iter_lines():
            if line.startswith("data: "):
                out.append(json.loads(line[6:]))
                if len(out) >= want:
                    break
    return out


def test_events_by_role(served: tuple[DashboardServer, Controller]) -> None:
    server, _ = served
    server.feed.publish(LiveEvent(wall=2.0, run_id="gd", kind=LiveKind.EVENT, drill=NAME,
                                  event=TimelineEvent(2.0, EventKind.INJECTED,
                                                      "fault enforcement_disabled injected")))
    server.feed.publish(LiveEvent(wall=3.0, run_id="gd", kind=LiveKind.EVENT, drill=NAME,
                                  event=TimelineEvent(9.0, EventKind.ALERT_FIRING,
                                                      "PolicyEnforcementDisabled firing")))
    facilitator = read_events(server.url, TOKENS[Role.FACILITATOR], 3)
    assert [e["kind"] for e in facilitator] == ["gameday", "event", "event"]
    assert facilitator[1]["drill"] == NAME
    responder = read_events(server.url, "", 2)  # no token: the room's view
    assert [e["kind"] for e in responder] == ["gameday", "event"]
    assert NAME not in json.dumps(responder)


def test_events_published_later_arrive_live(served: tuple[DashboardServer, Controller]) -> None:
    server, _ = served
    got: list[dict[str, object]] = []
    reader = threading.Thread(target=lambda: got.extend(
        read_events(server.url, TOKENS[Role.OBSERVER], 2)))
    reader.start()
    threading.Event().wait(0.3)  # the browser is connected and has had the replay
    server.feed.publish(LiveEvent(wall=4.0, run_id="r1", kind=LiveKind.EVENT, drill="d",
                                  event=TimelineEvent(1.0, EventKind.NOTE, "later")))
    reader.join(10)
    assert [e["kind"] for e in got] == ["gameday", "event"]


def test_the_control_api(served: tuple[DashboardServer, Controller]) -> None:
    server, controller = served
    post = f"{server.url}api/command"
    body = {"action": "pause"}
    assert httpx.post(post, json=body).status_code == 403  # responders only watch
    assert httpx.post(post, json=body, headers={"Authorization": "Bearer nope"}).status_code \
        == 401
    ok = httpx.post(post, json=body, headers={"Authorization": f"Bearer {TOKENS[Role.FACILITATOR]}"})
    assert ok.status_code == 202 and ok.json()["message"] == "pause: accepted"
    note = httpx.post(post, json={"action": "note", "text": "hi"},
                      headers={"Authorization": f"Bearer {TOKENS[Role.OBSERVER]}"})
    assert note.status_code == 202
    assert [(c.action, r) for c, r in controller.got] == [(Action.PAUSE, Role.FACILITATOR),
                                                           (Action.NOTE, Role.OBSERVER)]
    refused = httpx.post(post, json={"action": "rollback"},
                         headers={"Authorization": f"Bearer {TOKENS[Role.FACILITATOR]}"})
    assert refused.status_code == 409 and "no inject is running" in refused.json()["error"]
    bad = httpx.post(post, json={"action": "dance"},
                     headers={"Authorization": f"Bearer {TOKENS[Role.FACILITATOR]}"})
    assert bad.status_code == 400
    state = httpx.get(f"{server.url}api/state").json()
    assert state["role"] == "responder" and not state["controls"]
    assert NAME not in json.dumps(state["gameday"])
    state = httpx.get(f"{server.url}api/state", params={"token": TOKENS[Role.FACILITATOR]}).json()
    assert state["role"] == "facilitator" and state["controls"]
