"""The TextReconstructor bundle (self-contained, so it can travel to the hub as remote code)."""

from __future__ import annotations

from .configuration import DECODING_DEFAULTS, TextReconstructorConfig
from .modeling import TextReconstructor, quantize_keys

__all__ = ["DECODING_DEFAULTS", "TextReconstructor", "TextReconstructorConfig", "quantize_keys"]
