"""Training: arguments, the frozen-feature cache, stage-1 examples and the Trainer subclass."""

from __future__ import annotations

from .arguments import RECIPES, TokenHeadTrainingArguments
from .callbacks import HardNegativeRefreshCallback
from .examples import Stage1Examples, build_stage1_examples
from .feature_cache import FrozenFeatureCache
from .model_card import render_model_card
from .original_recipe import OriginalRecipeLoss
from .trainer import TokenHeadTrainer

__all__ = [
    "RECIPES",
    "FrozenFeatureCache",
    "HardNegativeRefreshCallback",
    "OriginalRecipeLoss",
    "Stage1Examples",
    "TokenHeadTrainer",
    "TokenHeadTrainingArguments",
    "build_stage1_examples",
    "render_model_card",
]
