"""Token-space evaluators (sentence-transformers `SentenceEvaluator` style) and the data-folder builder.

```python
>>> from hf_tokenembed.evaluation import evaluate_model, format_metrics
>>> print(format_metrics(evaluate_model(model, "data", split="test")))
```
"""

from __future__ import annotations

from .base import CachedEncoder, TokenSpaceBaseEvaluator, retrieval_at_k, top_k
from .builder import DEFAULT_MAX_ITEMS, METRIC_ORDER, evaluate_model, evaluators_from_data, format_metrics
from .context_type import FREQUENCY_BANDS, ContextTypeRetrievalEvaluator, find_vocabulary_occurrences
from .geometry import GeometryPreservationEvaluator, raw_backbone, raw_encoder
from .metrics import metric_path
from .mwe_gloss import MWEGlossRetrievalEvaluator
from .order_awareness import OrderAwarenessEvaluator
from .reconstruction import (
    BUCKETS,
    SYSTEMS,
    bucket_sentences,
    evaluate_reconstruction,
    format_reconstruction_table,
    reconstruction_scores,
    score_buckets,
)
from .sense_retrieval import SenseRetrievalEvaluator
from .sense_scoring import score_index_senses, score_sense_queries, score_senses, sense_queries, sense_rows
from .synonyms import SynonymRecallEvaluator
from .token_space import TokenSpaceEvaluator
from .wic import WiCEvaluator, best_threshold, wic_cosines
from .word_similarity import WORD_SIMILARITY_SETS, WordSimilarityEvaluator, load_word_similarity

__all__ = [
    "BUCKETS",
    "DEFAULT_MAX_ITEMS",
    "FREQUENCY_BANDS",
    "METRIC_ORDER",
    "CachedEncoder",
    "ContextTypeRetrievalEvaluator",
    "GeometryPreservationEvaluator",
    "MWEGlossRetrievalEvaluator",
    "OrderAwarenessEvaluator",
    "SYSTEMS",
    "SenseRetrievalEvaluator",
    "SynonymRecallEvaluator",
    "TokenSpaceBaseEvaluator",
    "TokenSpaceEvaluator",
    "WORD_SIMILARITY_SETS",
    "WiCEvaluator",
    "WordSimilarityEvaluator",
    "best_threshold",
    "bucket_sentences",
    "evaluate_model",
    "evaluate_reconstruction",
    "evaluators_from_data",
    "find_vocabulary_occurrences",
    "format_metrics",
    "format_reconstruction_table",
    "load_word_similarity",
    "metric_path",
    "raw_backbone",
    "raw_encoder",
    "reconstruction_scores",
    "retrieval_at_k",
    "score_buckets",
    "score_index_senses",
    "score_sense_queries",
    "score_senses",
    "sense_queries",
    "sense_rows",
    "top_k",
    "wic_cosines",
]
