"""Run Debian's ``amtool`` (package prometheus-alertmanager): check Alertmanager configs.

Every Alertmanager configuration pfdrill writes is checked before anything
loads it, so a bad route or receiver is a one-line error naming the file, not
an Alertmanager that refuses to start (or a drill that never gets notified).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from pfdrill.errors import EnvironmentProblem, InvalidInput


def binary() -> str:
    found = os.environ.get("PFDRILL_AMTOOL") or shutil.which("amtool") or "/usr/bin/amtool"
    if not Path(found).is_file():
        raise EnvironmentProblem("amtool not found (apt-get install prometheus-alertmanager)")
    return found


def check_config(path: Path) -> None:
    """``amtool check-config``; raise naming the file and amtool's reason when it fails."""
    try:
        done = subprocess.run([binary(), "check-config", str(path)], capture_output=True,
                              text=True, timeout=60, check=False, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as exc:
        raise EnvironmentProblem("amtool check-config took longer than 60s") from exc
    if done.returncode != 0:
        lines = [ln.strip() for ln in (done.stdout + done.stderr).splitlines() if ln.strip()]
        reason = next((ln.split("FAILED:", 1)[1].strip() for ln in lines if "FAILED:" in ln),
                      lines[-1] if lines else f"exit status {done.returncode}")
        raise InvalidInput(f"amtool check-config: {reason}", file=path)
