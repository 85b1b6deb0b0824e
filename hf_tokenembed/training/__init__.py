"""Training: arguments, the frozen-feature cache, stage-1 examples and the Trainer subclass."""

from __future__ import annotations

from .arguments import RECIPES, ControllerTrainingArguments, TokenHeadTrainingArguments
from .callbacks import HardNegativeRefreshCallback
from .controller_data import ControllerData, build_controller_data
from .controller_trainer import ControllerTrainer, PlacerTrainer, SelectorTrainer
from .examples import Stage1Examples, build_stage1_examples
from .feature_cache import FrozenFeatureCache
from .model_card import render_bundle_card, render_model_card
from .original_recipe import OriginalRecipeLoss
from .trainer import TokenHeadTrainer

__all__ = [
    "RECIPES",
    "ControllerData",
    "ControllerTrainer",
    "ControllerTrainingArguments",
    "FrozenFeatureCache",
    "HardNegativeRefreshCallback",
    "OriginalRecipeLoss",
    "PlacerTrainer",
    "SelectorTrainer",
    "Stage1Examples",
    "TokenHeadTrainer",
    "TokenHeadTrainingArguments",
    "build_controller_data",
    "build_stage1_examples",
    "render_bundle_card",
    "render_model_card",
]
