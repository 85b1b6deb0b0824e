"""Token-space evaluators (sentence-transformers `SentenceEvaluator` style) and the data-folder builder.

```python
>>> from hf_tokenembed.evaluation import evaluate_model, format_metrics
>>> print(format_metrics(evaluate_model(model, "data", split="test")))
```
"""

from __future__ import annotations

from .base import CachedEncoder, TokenSpaceBaseEvaluator, retrieval_at_k, top_k
from .builder import DEFAULT_MAX_ITEMS, METRIC_ORDER, evaluate_model, evaluators_from_data, format_metrics
from .context_type import ContextTypeRetrievalEvaluator, find_vocabulary_occurrences
from .geometry import GeometryPreservationEvaluator, raw_backbone
from .metrics import metric_path
from .mwe_gloss import MWEGlossRetrievalEvaluator
from .order_awareness import OrderAwarenessEvaluator, perturb_sentence
from .sense_retrieval import SenseRetrievalEvaluator
from .synonyms import SynonymRecallEvaluator
from .token_space import TokenSpaceEvaluator
from .wic import WiCEvaluator, best_threshold, wic_cosines

__all__ = [
    "DEFAULT_MAX_ITEMS",
    "METRIC_ORDER",
    "CachedEncoder",
    "ContextTypeRetrievalEvaluator",
    "GeometryPreservationEvaluator",
    "MWEGlossRetrievalEvaluator",
    "OrderAwarenessEvaluator",
    "SenseRetrievalEvaluator",
    "SynonymRecallEvaluator",
    "TokenSpaceBaseEvaluator",
    "TokenSpaceEvaluator",
    "WiCEvaluator",
    "best_threshold",
    "evaluate_model",
    "evaluators_from_data",
    "find_vocabulary_occurrences",
    "format_metrics",
    "metric_path",
    "perturb_sentence",
    "raw_backbone",
    "retrieval_at_k",
    "top_k",
    "wic_cosines",
]
