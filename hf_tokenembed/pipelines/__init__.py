"""Pipelines: `text-reconstruction`, registered with transformers' `PIPELINE_REGISTRY` on `import hf_tokenembed`."""

from __future__ import annotations

from .text_reconstruction import TASK, TextReconstructionPipeline, register_pipeline

__all__ = ["TASK", "TextReconstructionPipeline", "register_pipeline"]
