"""The columns the stage-1 benchmarks compare: the raw backbone, the original recipe and this project's model."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from transformers import AutoModel

import hf_tokenembed  # noqa: F401  (registers the Auto classes)
from hf_tokenembed.evaluation import raw_backbone

__all__ = ["stage1_models"]


def stage1_models(model: str, original: str) -> dict[str, Any]:
    """``{"raw backbone", "original recipe" (when `original` holds a model), "this project"}``, in eval mode.

    The raw backbone is `model`'s own backbone, mean-pooled, with no LoRA and no head.
    """
    trained = AutoModel.from_pretrained(model).eval()
    models = {"raw backbone": raw_backbone(trained)}
    if Path(original, "config.json").is_file():
        models["original recipe"] = AutoModel.from_pretrained(original).eval()
    models["this project"] = trained
    return models
