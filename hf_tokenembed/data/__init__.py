"""The data layer: corpora, vocabulary, multi-word expressions, offline WordNet and evaluation sets, built into a
folder of ``datasets`` tables by :func:`build_data` (``hf-tokenembed data build``)."""

from __future__ import annotations

from .build import SUMMARY_KEYS, build_data, data_fingerprint, format_summary, load_data
from .corpora import CORPUS_SOURCES, hash_split, iter_documents, load_corpus, normalize_text, split_sentences
from .eval_sets import (
    EVAL_SETS,
    EVAL_SPLITS,
    build_mwe_gloss_pairs,
    build_reconstruction_set,
    build_synonym_pairs,
    build_wic_pairs,
    held_out_sentences,
    lemma_split,
    wic_sentences,
)
from .mwe import build_mwes, count_ngrams, mine_collocations, npmi, wordnet_mwes
from .segmentation import Segmentation, Segmenter, reconstruction_entries
from .vocab import build_vocab
from .word_order import perturb_word_order
from .wordnet import (
    Sense,
    WordNet,
    assemble_wordnet,
    build_homographs,
    build_senses,
    find_form,
    find_wordnet,
    gloss_context,
    lemma_key,
    load_wordnet,
)

__all__ = [
    "CORPUS_SOURCES",
    "EVAL_SETS",
    "EVAL_SPLITS",
    "SUMMARY_KEYS",
    "Segmentation",
    "Segmenter",
    "Sense",
    "WordNet",
    "assemble_wordnet",
    "build_data",
    "build_homographs",
    "build_mwe_gloss_pairs",
    "build_mwes",
    "build_reconstruction_set",
    "build_senses",
    "build_synonym_pairs",
    "build_vocab",
    "build_wic_pairs",
    "count_ngrams",
    "data_fingerprint",
    "find_form",
    "find_wordnet",
    "format_summary",
    "gloss_context",
    "hash_split",
    "held_out_sentences",
    "iter_documents",
    "lemma_key",
    "lemma_split",
    "load_corpus",
    "load_data",
    "load_wordnet",
    "mine_collocations",
    "normalize_text",
    "npmi",
    "perturb_word_order",
    "reconstruction_entries",
    "split_sentences",
    "wic_sentences",
    "wordnet_mwes",
]
