"""``python -m pfdrill.pfctl``: what the sandbox's ``./pfctl`` runs."""

from __future__ import annotations

import sys

from pfdrill.pfctl.cli import main

sys.exit(main())
