"""Pod logs by label selector, read the way an operator does: ``kubectl logs -l``.

Through kubectl rather than the API client because that is the path a team's
cluster grants and the one the runbook itself uses (and on kwok the process
runtime serves it through the Logs CRD). One reader for every caller: the
drill's log checks and pfctl's watch for a config reload.
"""

from __future__ import annotations

import datetime as dt
import subprocess
from collections.abc import Mapping, Sequence

from pfdrill.errors import EnvironmentProblem

NO_PODS = "no pods"


class NoPods(EnvironmentProblem):
    """No pod matches the selector: nothing is running to log anything."""


class KubectlLogs:
    def __init__(self, kubectl: str, *, kubeconfig: str | None = None,
                 context: str | None = None, env: Mapping[str, str] | None = None) -> None:
        self._argv = [kubectl]
        if kubeconfig:
            self._argv += ["--kubeconfig", kubeconfig]
        if context:
            self._argv += ["--context", context]
        self._env = dict(env) if env is not None else None

    def lines(self, namespace: str, selector: str, since: dt.datetime | None = None, *,
              tail: int = -1, timeout_s: float = 30.0) -> Sequence[str]:
        """Every pod's lines (``--prefix``ed with the pod), since ``since`` if given."""
        argv = [*self._argv, "logs", "-n", namespace, "-l", selector, "--prefix",
                f"--tail={tail}", "--max-log-requests=20"]
        if since is not None:
            secs = max(1, int((dt.datetime.now(dt.UTC) - since).total_seconds()) + 1)
            argv.append(f"--since={secs}s")
        try:
            done = subprocess.run(argv, env=self._env, capture_output=True, timeout=timeout_s,
                                  check=False, stdin=subprocess.DEVNULL)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise EnvironmentProblem(f"kubectl logs -l {selector}: {exc}") from None
        text = done.stdout.decode("utf-8", "replace")
        err = done.stderr.decode("utf-8", "replace").strip()
        if done.returncode != 0:
            raise EnvironmentProblem(f"kubectl logs -l {selector}: {err}")
        if not text.strip() and "No resources found" in err + text:
            raise NoPods(f"no pod matching {selector} in {namespace}")
        return text.splitlines()
