"""settings: where pfdrill keeps things and what it is allowed to touch.

Reads the optional config file (``--config``, ``$PFDRILL_CONFIG``); no network,
no cluster access.
"""

from pfdrill.settings.config import Config, load_config
from pfdrill.settings.paths import Paths

__all__ = ["Config", "Paths", "load_config"]
