"""Sense scoring, the one path behind `SenseRetrievalEvaluator`, bench_index and the index check: does a word's
in-context vector in a WordNet example sentence pick that example's sense among the senses of its lemma?

The protocol (`sense_queries`, `score_senses`):

- Queries are the evaluated lemmas' WordNet example sentences (never ``"lemma: gloss"`` definition contexts), one
  per (sentence, span, synset).
- The candidates are every sense of the lemma with the query's part of speech (two or more, else the query is not
  scored). Each is represented by the same recipe, gold and non-gold alike, from what never contains the query:
  its `SENSE_SOURCES` (gloss as a context and as a text, its other examples, its synonyms, its hypernym's gloss),
  with every example equal to the query sentence left out (leave-one-out).
- The nearest candidate is the prediction; a tie among ``n`` top candidates counts ``1/n`` of a hit for each gold
  one among them, never a win for the first. Fine accuracy asks for the synset; coarse accuracy asks for the
  lexicographer file (``noun.artifact`` vs ``noun.group``: the homograph case) and is scored on the queries whose
  candidates span two or more files. Random and first-WordNet-sense baselines are scored on the same queries.

`score_index_senses` scores a `VocabIndex`'s sense entries (built without the queries) with the same queries and
the same scoring.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from hf_tokenembed.data import lemma_key
from hf_tokenembed.index import SENSE_SOURCES, VocabIndex, encode_contexts, encode_sense_sources
from hf_tokenembed.index.senses import _valid_span

logger = logging.getLogger(__name__)

__all__ = ["score_index_senses", "score_sense_queries", "score_senses", "sense_queries", "sense_rows"]


def sense_rows(senses: Any, lemmas: Iterable[str]) -> list[dict[str, Any]]:
    """The senses-table rows of ``lemmas`` (any casing), one per (lemma, synset), in WordNet order."""
    keys = {lemma_key(lemma) for lemma in lemmas}
    if hasattr(senses, "column_names"):  # a datasets.Dataset: select by the word column, no cache files
        keep = [i for i, word in enumerate(senses["word"]) if lemma_key(word) in keys]
        senses = senses.select(keep, keep_in_memory=True).to_list()
    rows, seen = [], set()
    for row in senses:
        key = (lemma_key(row["word"]), row["synset"])
        if key[0] in keys and key not in seen:
            seen.add(key)
            rows.append(row)
    return rows


def sense_queries(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every WordNet example of ``rows`` as a query: ``lemma``, ``pos``, ``sentence``, ``span``, ``synset`` and
    ``lexname``, deduplicated."""
    queries, seen = [], set()
    for row in rows:
        for sentence, span in zip(row.get("examples") or [], row.get("spans") or []):
            valid = _valid_span(sentence, span)
            key = (sentence, valid, row["synset"])
            if valid is None or key in seen:
                continue
            seen.add(key)
            queries.append(
                {
                    "lemma": lemma_key(row["word"]), "pos": row.get("pos"), "sentence": sentence, "span": valid,
                    "synset": row["synset"], "lexname": row.get("lexname"),
                }
            )  # fmt: skip
    return queries


Candidates = Callable[[dict[str, Any]], tuple[list[str], list[str], np.ndarray]]


def score_sense_queries(queries: Sequence[dict], vectors: np.ndarray, candidates: Candidates) -> dict[str, Any]:
    """Fine and coarse accuracy (ties as ``1/n``) with their random and first-sense baselines.

    ``candidates(query) -> (synsets, lexnames, vectors)`` in WordNet order; queries with fewer than two candidates
    or without their gold synset among them are not scored (``coverage``).
    """
    vectors = vectors / np.linalg.norm(vectors, axis=1, keepdims=True).clip(1e-12)
    fine, coarse = [], []  # per scored query: (hit, random, first sense)
    sizes = []
    for query, q in zip(queries, vectors):
        synsets, lexnames, mat = candidates(query)
        if len(synsets) < 2 or query["synset"] not in synsets:
            continue
        scores = mat @ q
        top = np.flatnonzero(scores >= scores.max() - 1e-6)
        gold = np.array([s == query["synset"] for s in synsets])
        fine.append((gold[top].mean(), gold.mean(), float(gold[0])))
        sizes.append(len(synsets))
        same_file = np.array([name == query["lexname"] for name in lexnames])
        if not same_file.all():
            coarse.append((same_file[top].mean(), same_file.mean(), float(same_file[0])))

    def mean(rows: list, column: int) -> float:
        return float(np.mean([r[column] for r in rows])) if rows else float("nan")

    return {
        "fine_accuracy": mean(fine, 0), "coarse_accuracy": mean(coarse, 0),
        "fine_random": mean(fine, 1), "coarse_random": mean(coarse, 1),
        "fine_first_sense": mean(fine, 2), "coarse_first_sense": mean(coarse, 2),
        "num_queries": len(queries), "num_scored": len(fine), "num_coarse": len(coarse),
        "coverage": len(fine) / len(queries) if len(queries) else float("nan"),
        "mean_candidates": float(np.mean(sizes)) if sizes else float("nan"),
    }  # fmt: skip


def _encode_queries(embedder: Any, queries: Sequence[dict], batch_size: int, progress: bool) -> np.ndarray:
    return encode_contexts(
        embedder, [q["sentence"] for q in queries], [q["span"] for q in queries], batch_size=batch_size,
        progress=progress, desc="Sense queries",
    ).numpy()  # fmt: skip


def _check(rows: list, lemmas: Any) -> list[dict[str, Any]]:
    queries = sense_queries(rows)
    if not queries:
        raise ValueError(f"`lemmas` has no WordNet example sentence in `senses` ({len(rows)} sense rows found)")
    return queries


def score_senses(
    embedder: Any,
    senses: Any,
    lemmas: Iterable[str],
    *,
    sources: Sequence[str] = SENSE_SOURCES,
    batch_size: int = 64,
    progress: bool = False,
) -> dict[str, Any]:
    """Score ``embedder`` on the ``lemmas``' example sentences, each candidate rebuilt without the query.

    Args:
        embedder: A `TokenEmbedder` (``encode_in_context``, ``encode_words``, ``token_dim``).
        senses: The senses table (a `datasets.Dataset` or row dicts).
        lemmas: The evaluated lemmas (held out from training: the WiC split's lemmas).
        sources: The sense-vector parts (see `SENSE_SOURCES`); the same for every candidate.
        batch_size: Encoder batch size.
        progress: Show progress bars.

    Returns:
        See `score_sense_queries`.
    """
    lemmas = list(lemmas)
    rows = sense_rows(senses, lemmas)
    queries = _check(rows, lemmas)
    parts = encode_sense_sources(embedder, rows, sources=sources, batch_size=batch_size, progress=progress)
    by_lemma: dict[tuple[str, Any], list[int]] = {}
    for i, row in enumerate(rows):
        by_lemma.setdefault((lemma_key(row["word"]), row.get("pos")), []).append(i)

    def candidates(query: dict[str, Any]) -> tuple[list[str], list[str], np.ndarray]:
        ids = by_lemma[(query["lemma"], query["pos"])]
        vectors, found = parts.combine(ids, leave_out=query["sentence"])
        kept = [i for i, ok in zip(ids, found.tolist()) if ok]
        return [rows[i]["synset"] for i in kept], [rows[i].get("lexname") for i in kept], vectors[found].numpy()

    result = score_sense_queries(queries, _encode_queries(embedder, queries, batch_size, progress), candidates)
    logger.info("Sense scoring (leave-one-out): %s", result)
    return result


def score_index_senses(
    index: VocabIndex,
    embedder: Any,
    senses: Any,
    lemmas: Iterable[str],
    *,
    batch_size: int = 64,
    progress: bool = False,
) -> dict[str, Any]:
    """Score a `VocabIndex`'s sense entries (built without the queries' sentences) on the ``lemmas``' examples.

    The candidates of a query are the index's sense entries of its lemma with its part of speech; their lexicographer
    files come from ``senses``. Returns what `score_sense_queries` returns.
    """
    lemmas = list(lemmas)
    rows = sense_rows(senses, lemmas)
    queries = _check(rows, lemmas)
    info = {row["synset"]: (row.get("pos"), row.get("lexname")) for row in rows}
    by_lemma: dict[tuple[str, Any], list[int]] = {}
    seen = set()
    for i, entry in enumerate(index.entries):
        key = (lemma_key(entry.surface), entry.synset)
        if entry.kind == "sense" and entry.synset in info and key not in seen:  # "bank" and "Bank": one entry
            seen.add(key)
            by_lemma.setdefault((key[0], info[entry.synset][0]), []).append(i)

    def candidates(query: dict[str, Any]) -> tuple[list[str], list[str], np.ndarray]:
        ids = by_lemma.get((query["lemma"], query["pos"]), [])
        synsets = [index.entries[i].synset for i in ids]
        return synsets, [info[s][1] for s in synsets], index.reconstruct(ids) if ids else np.empty((0, 1))

    result = score_sense_queries(queries, _encode_queries(embedder, queries, batch_size, progress), candidates)
    logger.info("Sense scoring (index): %s", result)
    return result
