"""`pipeline("text-reconstruction")`: sentence vectors (or texts, embedded first) in, rebuilt texts out.

```python
>>> import hf_tokenembed  # registers the task
>>> from transformers import pipeline
>>> rebuild = pipeline("text-reconstruction", model="checkpoints/tokenembed-reconstructor-minilm")
>>> rebuild("The bank raised its interest rates again.")
{'text': '...', 'cosine': 0.9...}
>>> rebuild(vectors, num_beams=1, verifier=False)          # (n, d) torch or numpy: one dict per row
```

A thin shell around `hf_tokenembed.controller.Reconstructor`: `preprocess` checks the inputs and embeds texts,
`_forward` decodes the whole call as one batch, `postprocess` shapes the outputs. Texts longer than the bundle's
`max_words` (40) are truncated to their first `max_words` whitespace words, with a warning: the controller writes
at most that many, and a cut text is a documented answer where an error would stop a batch.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from transformers import AutoModel, Pipeline
from transformers.pipelines import PIPELINE_REGISTRY

from hf_tokenembed.controller import Reconstructor, check_vectors

logger = logging.getLogger(__name__)

__all__ = ["TASK", "TextReconstructionPipeline", "register_pipeline"]

TASK = "text-reconstruction"
_DECODING = ("max_steps", "top_k", "num_beams", "verifier", "patience")


@dataclass
class _Batch:
    """All the inputs of one call, decoded together (the base class would run a list one item at a time)."""

    items: Any


def _is_vector(value: Any) -> bool:
    return isinstance(value, (np.ndarray, torch.Tensor))


class TextReconstructionPipeline(Pipeline):
    """Rebuild texts from sentence vectors with a `TextReconstructor` bundle.

    Inputs: a string, a list of strings (embedded with the bundle's TokenEmbedder: a round trip), or sentence
    vectors — a torch tensor or numpy array of shape `(d,)` or `(n, d)`, or a list of `(d,)` vectors.

    Parameters (at construction or per call): `num_beams`, `top_k`, `max_steps`, `verifier`, `patience` (steps
    without a higher cosine before a text ends; default: the bundle's config: verifier on), `return_steps` (add
    each text's step trace).

    Returns: one ``{"text", "cosine"[, "steps"]}`` per input (a single dict for a single input); ``cosine`` is the
    re-embedded text's cosine to the target.
    """

    _load_tokenizer = False
    _load_feature_extractor = False
    _load_image_processor = False
    _load_processor = False
    _load_video_processor = False
    _pipeline_calls_generate = False

    def __init__(self, model, *args, device: Any = None, **kwargs):
        if device not in (None, -1, "cpu") and torch.device(device).type != "cpu":
            raise ValueError(f"`device`={device!r}: text reconstruction decodes on the CPU (a FAISS CPU index)")
        super().__init__(model, *args, device=-1, **kwargs)
        self.reconstructor = Reconstructor.from_bundle(self.model)

    def __call__(self, inputs: Any, **kwargs) -> dict | list[dict]:
        """Rebuild `inputs` (see the class docstring); a list or 2-D array is decoded as one batch."""
        single = isinstance(inputs, str) or (_is_vector(inputs) and inputs.ndim == 1)
        outputs = super().__call__(_Batch(inputs), **kwargs)
        return outputs[0] if single else outputs

    def _sanitize_parameters(self, return_steps: bool | None = None, **decoding) -> tuple[dict, dict, dict]:
        unknown = sorted(set(decoding) - set(_DECODING))
        if unknown:
            raise TypeError(f"unknown parameter(s) {unknown}: the pipeline takes {[*_DECODING, 'return_steps']}")
        forward = {k: v for k, v in decoding.items() if v is not None}
        postprocess = {} if return_steps is None else {"return_steps": bool(return_steps)}
        return {}, forward, postprocess

    def preprocess(self, inputs: _Batch) -> dict[str, torch.Tensor]:
        items = inputs.items
        if isinstance(items, str):
            items = [items]
        elif _is_vector(items):
            return {"targets": check_vectors(items, self.reconstructor.sentence_dim, name="inputs")}
        if not isinstance(items, Sequence) or not len(items):
            raise ValueError(
                f"`inputs` must be a string, a list of strings or sentence vectors, got {type(items).__name__}"
                + (" (empty)" if isinstance(items, Sequence) else "")
            )
        if all(_is_vector(v) for v in items):
            vectors = [torch.as_tensor(np.asarray(v) if isinstance(v, np.ndarray) else v) for v in items]
            if any(v.ndim != 1 for v in vectors) or len({v.shape for v in vectors}) != 1:
                raise ValueError("`inputs`: a list of vectors must hold vectors of one shape (d,)")
            return {"targets": check_vectors(torch.stack(vectors), self.reconstructor.sentence_dim, name="inputs")}
        if not all(isinstance(t, str) for t in items):
            kinds = sorted({type(t).__name__ for t in items})
            raise TypeError(f"`inputs` must be all strings or all vectors, got {kinds}")
        return {"targets": self.model.encode([self._checked_text(t, i) for i, t in enumerate(items)])}

    def _checked_text(self, text: str, index: int) -> str:
        words = text.split()
        if not words:
            raise ValueError(f"`inputs` item {index} is an empty text: there is nothing to embed")
        limit = self.model.config.max_words
        if len(words) > limit:
            logger.warning("`inputs` item %d has %d words: truncated to its first %d", index, len(words), limit)
            return " ".join(words[:limit])
        return text

    def _forward(self, model_inputs: dict[str, torch.Tensor], **decoding) -> dict[str, list[dict]]:
        return {"results": self.reconstructor.reconstruct(model_inputs["targets"], return_steps=True, **decoding)}

    def postprocess(self, model_outputs: dict[str, list[dict]], return_steps: bool = False) -> list[dict]:
        return [
            {"text": r["text"], "cosine": r["cosine"], **({"steps": r["steps"]} if return_steps else {})}
            for r in model_outputs["results"]
        ]


def register_pipeline() -> None:
    """Register the `text-reconstruction` task (idempotent)."""
    if TASK not in PIPELINE_REGISTRY.supported_tasks:
        PIPELINE_REGISTRY.register_pipeline(TASK, pipeline_class=TextReconstructionPipeline, pt_model=AutoModel)
