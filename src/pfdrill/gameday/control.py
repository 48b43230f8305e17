"""The control channel: another process (``pfdrill gameday inject NAME``) talks to the running game day.

The running ``pfdrill gameday run`` serves its dashboard on 127.0.0.1 and
writes where (``<state>/gamedays/current.json``: id, pid, URL); the
facilitator's token is in the game day's ``tokens.json``, readable by this
user only. A command is a JSON ``POST /api/command`` with that token as a
bearer token — the very request the dashboard's buttons make — so the
command line and the page can never disagree about what is allowed. The
answer says whether it was accepted; a refusal carries the reason (exit 2).
"""

from __future__ import annotations

from typing import Any

import httpx

from pfdrill.errors import EnvironmentProblem, InvalidInput, SafetyRefused
from pfdrill.gameday.session import running
from pfdrill.gameday.store import GameDayDir
from pfdrill.model.gameday import Command, Role
from pfdrill.settings.paths import Paths


def _endpoint(paths: Paths | None) -> tuple[str, GameDayDir]:
    ep = running(paths)
    if ep is None:
        raise EnvironmentProblem("no game day is running here (start one with `pfdrill gameday "
                                 "run FILE`; a game day whose process died resumes that way)")
    return ep.url, GameDayDir.of(ep.id, paths)


def send(cmd: Command, *, role: Role = Role.FACILITATOR, paths: Paths | None = None) -> str:
    url, gdir = _endpoint(paths)
    token = gdir.tokens()[role]
    try:
        response = httpx.post(f"{url}api/command", json=cmd.to_dict(), timeout=30.0,
                              headers={"Authorization": f"Bearer {token}"})
    except httpx.HTTPError as exc:
        raise EnvironmentProblem(f"the game day at {url} does not answer: {exc}") from exc
    body: Any = response.json() if response.content else {}
    if response.status_code in (401, 403):
        raise SafetyRefused(str(body.get("error", response.status_code)))
    if response.status_code >= 400:
        raise InvalidInput(str(body.get("error", f"HTTP {response.status_code}")))
    return str(body.get("message", "accepted"))


def state(*, role: Role = Role.FACILITATOR, paths: Paths | None = None) -> dict[str, Any]:
    url, gdir = _endpoint(paths)
    try:
        response = httpx.get(f"{url}api/state", timeout=10.0,
                             params={"token": gdir.tokens()[role]})
    except httpx.HTTPError as exc:
        raise EnvironmentProblem(f"the game day at {url} does not answer: {exc}") from exc
    result: dict[str, Any] = response.json()
    return result
