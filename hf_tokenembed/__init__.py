"""hf_tokenembed: sense-aware token embeddings on E5-family encoders, as Hugging Face citizens.

Importing the package registers its models with `AutoConfig` / `AutoModel` and the `text-reconstruction` pipeline
task with transformers' `PIPELINE_REGISTRY`.
"""

from __future__ import annotations

from transformers import AutoConfig, AutoModel

from .models import (
    Placer,
    PlacerConfig,
    Selector,
    SelectorConfig,
    TextReconstructor,
    TextReconstructorConfig,
    TokenEmbedder,
    TokenEmbedderConfig,
)
from .pipelines import TextReconstructionPipeline, register_pipeline

__version__ = "0.2.0"

__all__ = [
    "Placer",
    "PlacerConfig",
    "Selector",
    "SelectorConfig",
    "TextReconstructionPipeline",
    "TextReconstructor",
    "TextReconstructorConfig",
    "TokenEmbedder",
    "TokenEmbedderConfig",
    "__version__",
]


def _register() -> None:
    """Register with the Auto classes, and mark the classes so `save_pretrained` ships them as remote code."""
    for config_class, model_class in (
        (TokenEmbedderConfig, TokenEmbedder), (SelectorConfig, Selector), (PlacerConfig, Placer),
        (TextReconstructorConfig, TextReconstructor),
    ):  # fmt: skip
        AutoConfig.register(config_class.model_type, config_class, exist_ok=True)
        AutoModel.register(config_class, model_class, exist_ok=True)
        config_class.register_for_auto_class()
        model_class.register_for_auto_class("AutoModel")
    register_pipeline()


_register()
