"""The Placer model (self-contained, so it can travel to the hub as remote code)."""

from __future__ import annotations

from .configuration import PlacerConfig
from .modeling import Placer, PlacerOutput

__all__ = ["Placer", "PlacerConfig", "PlacerOutput"]
