"""FAISS vocabulary index over the token space: words, multi-word expressions and word senses."""

from __future__ import annotations

from .config import INDEX_TYPES, VocabIndexConfig
from .entries import ENTRY_KINDS, IndexEntry, load_entries, save_entries, sense_label, short_gloss
from .neighbors import encode_queries, format_neighbors, neighbors
from .senses import (
    SENSE_SOURCES,
    SenseSources,
    build_sense_vectors,
    encode_contexts,
    encode_sense_sources,
    find_word_contexts,
)
from .vocab_index import Neighbor, VocabIndex, faiss_threads, gpu_available

__all__ = [
    "ENTRY_KINDS",
    "INDEX_TYPES",
    "IndexEntry",
    "Neighbor",
    "SENSE_SOURCES",
    "SenseSources",
    "VocabIndex",
    "VocabIndexConfig",
    "build_sense_vectors",
    "encode_contexts",
    "encode_queries",
    "encode_sense_sources",
    "faiss_threads",
    "find_word_contexts",
    "format_neighbors",
    "gpu_available",
    "load_entries",
    "neighbors",
    "save_entries",
    "sense_label",
    "short_gloss",
]
