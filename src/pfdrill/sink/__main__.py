"""``python -m pfdrill.sink``: run the notification sink in the foreground."""

from __future__ import annotations

import sys

from pfdrill.sink import service

sys.exit(service.main())
