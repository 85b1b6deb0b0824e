"""The Selector model (self-contained, so it can travel to the hub as remote code)."""

from __future__ import annotations

from .configuration import SelectorConfig
from .modeling import Selector, SelectorOutput

__all__ = ["Selector", "SelectorConfig", "SelectorOutput"]
