"""``python -m pfdrill.runtime``: run the process runtime in the foreground until SIGTERM."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from pathlib import Path
from types import FrameType


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="pfdrill-runtime")
    ap.add_argument("--kubeconfig", required=True)
    ap.add_argument("--context", required=True)
    ap.add_argument("--state-dir", required=True)
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from pfdrill.cluster.client import KubeClient
    from pfdrill.runtime.reconciler import Runtime

    client = KubeClient(args.kubeconfig, args.context)
    rt = Runtime(client, Path(args.state_dir), api_server=client.server)

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        logging.getLogger("pfdrill.runtime").info("signal %d: stopping", signum)
        rt.stop_event.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    rt.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
