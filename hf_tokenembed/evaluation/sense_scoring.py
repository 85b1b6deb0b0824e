"""Sense scoring, shared by `SenseRetrievalEvaluator`, bench_index and the index check: is a word's in-context vector nearest to the right sense entry of that word?

Uses WiC-style rows (``lemma``, ``pos``, ``sentence1``, ``start1``, ``end1``, ``synset1`` and the same for 2). The
WiC sentences are WordNet examples, so the index must be built without them (``exclude_sentences=wic_sentences(...)``)
for the figure to be held-out.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from hf_tokenembed.data import gloss_context, lemma_key
from hf_tokenembed.index import VocabIndex, encode_contexts
from hf_tokenembed.index.senses import _valid_span

logger = logging.getLogger(__name__)

__all__ = [
    "evaluate_sense_loo",
    "evaluate_sense_retrieval",
    "synset_has_pos",
    "score_sense_items",
    "wic_items",
]

_POS = {"noun": "n", "verb": "v", "adj": "a", "adjective": "a", "s": "a", "adv": "r", "adverb": "r"}


def _norm_pos(pos: str | None) -> str | None:
    if not pos:
        return None
    pos = str(pos).lower()
    return _POS.get(pos, pos if len(pos) == 1 else None)


def wic_items(rows: Any) -> list[dict[str, Any]]:
    """Both sides of each WiC row as (lemma, pos, sentence, span, synset) items, deduplicated."""
    items, seen = [], set()
    data = rows.to_list() if hasattr(rows, "to_list") else list(rows)
    for row in data:
        for side in ("1", "2"):
            key = (row[f"sentence{side}"], int(row[f"start{side}"]), int(row[f"end{side}"]), row[f"synset{side}"])
            if key in seen:
                continue
            seen.add(key)
            items.append(
                {
                    "lemma": row["lemma"],
                    "pos": _norm_pos(row.get("pos")),
                    "sentence": key[0],
                    "span": (key[1], key[2]),
                    "synset": key[3],
                    "definition": key[0].startswith(f"{row['lemma']}: ") and key[1] == 0,
                }
            )
    return items


def evaluate_sense_retrieval(
    index: VocabIndex,
    embedder: Any,
    rows: Any,
    *,
    same_pos: bool = True,
    batch_size: int = 32,
    progress: bool = False,
) -> dict[str, Any]:
    """Accuracy of picking the gold synset as the nearest sense entry of the lemma.

    Args:
        index: A `VocabIndex` with sense entries (built without the evaluated sentences).
        embedder: The embedder that built it.
        rows: WiC-style rows (one split).
        same_pos: Only compare against senses of the item's part of speech.
        batch_size: Encoder batch size.
        progress: Show a progress bar.

    Returns:
        ``accuracy`` (over items whose gold synset has an entry), ``accuracy_multi`` (items with >= 2 candidate
        senses), ``accuracy_examples`` / ``accuracy_definitions`` (WordNet example sentences vs ``"lemma: gloss"``
        definition contexts), ``coverage``, ``num_items``, ``num_scored``, ``random_baseline`` (expected accuracy of a random
        pick), ``first_sense_baseline`` (always the first-listed WordNet sense) and ``mean_candidates``.
    """
    items = wic_items(rows)
    if not items:
        raise ValueError("rows is empty")
    vectors = encode_contexts(
        embedder, [it["sentence"] for it in items], [it["span"] for it in items], batch_size=batch_size,
        progress=progress, desc="WiC contexts",
    )  # fmt: skip
    queries = vectors.numpy()
    by_lower: dict[str, list[int]] = {}
    for i, e in enumerate(index.entries):
        if e.kind == "sense":
            by_lower.setdefault(e.surface.lower(), []).append(i)
    cache: dict[str, tuple[list[str | None], np.ndarray]] = {}

    def candidates(it: dict[str, Any]) -> tuple[list[str], np.ndarray]:
        lemma = lemma_key(it["lemma"])
        if lemma not in cache:
            ids = by_lower.get(lemma, [])
            cache[lemma] = ([index.entries[i].synset for i in ids], index.reconstruct(ids))
        synsets, mat = cache[lemma]
        keep = [j for j, syn in enumerate(synsets) if not same_pos or synset_has_pos(syn, it["pos"])]
        return [synsets[j] for j in keep], mat[keep]

    result = score_sense_items(items, queries, candidates)
    logger.info("Sense retrieval (index): %s", result)
    return result


def synset_has_pos(synset: str | None, pos: str | None) -> bool:
    """Whether `synset` ("bank.n.01") has part of speech `pos` (n, v, a, r; None matches anything)."""
    if pos is None or not synset:
        return True
    parts = synset.rsplit(".", 2)
    return len(parts) == 3 and _norm_pos(parts[1]) == pos


def score_sense_items(items: list[dict[str, Any]], queries: np.ndarray, candidates) -> dict[str, Any]:
    """Accuracy of argmax over ``candidates(item) -> (synsets, vectors)`` against each item's gold synset."""
    queries = queries / np.linalg.norm(queries, axis=1, keepdims=True).clip(1e-12)
    correct = correct_multi = first = multi = scored = 0
    random_sum = cand_sum = 0.0
    by_type = {True: [0, 0], False: [0, 0]}  # definition contexts vs example sentences: [correct, scored]
    for it, q in zip(items, queries):
        synsets, mat = candidates(it)
        if it["synset"] not in synsets:
            continue
        scored += 1
        hit = synsets[int(np.argmax(mat @ q))] == it["synset"]
        correct += hit
        by_type[it["definition"]][0] += hit
        by_type[it["definition"]][1] += 1
        first += synsets[0] == it["synset"]
        random_sum += 1.0 / len(synsets)
        cand_sum += len(synsets)
        if len(synsets) > 1:
            multi += 1
            correct_multi += hit
    nan = float("nan")
    return {
        "num_items": len(items),
        "num_scored": scored,
        "coverage": scored / len(items),
        "accuracy": correct / scored if scored else nan,
        "accuracy_multi": correct_multi / multi if multi else nan,
        "num_multi": multi,
        "accuracy_examples": by_type[False][0] / by_type[False][1] if by_type[False][1] else nan,
        "num_examples": by_type[False][1],
        "accuracy_definitions": by_type[True][0] / by_type[True][1] if by_type[True][1] else nan,
        "num_definitions": by_type[True][1],
        "random_baseline": random_sum / scored if scored else nan,
        "first_sense_baseline": first / scored if scored else nan,
        "mean_candidates": cand_sum / scored if scored else nan,
    }


def evaluate_sense_loo(
    embedder: Any,
    senses: Any,
    rows: Any,
    *,
    same_pos: bool = True,
    include_gloss: bool = True,
    batch_size: int = 32,
    progress: bool = False,
) -> dict[str, Any]:
    """Leave-one-out sense retrieval: each item's sense vectors are rebuilt without the item's own sentence.

    The candidates are the lemma's rows of the ``senses`` table; a sense vector is the renormalised mean of the
    in-context vectors of its examples and gloss context (as in `build_sense_vectors`) minus any context equal to
    the query sentence (WiC sentences are WordNet examples or ``"lemma: gloss"`` definitions). A sense left with no
    context drops out of the candidates; if that is the gold sense, the item is not scored (see ``coverage``).
    Returns the same keys as `evaluate_sense_retrieval`.
    """
    items = wic_items(rows)
    if not items:
        raise ValueError("rows is empty")
    lemmas = {lemma_key(it["lemma"]) for it in items}
    if hasattr(senses, "filter"):
        senses = senses.filter(lambda w: lemma_key(w) in lemmas, input_columns="word", keep_in_memory=True)
    table = senses.to_list() if hasattr(senses, "to_list") else list(senses)
    table = [r for r in table if lemma_key(r["word"]) in lemmas]
    texts: list[str] = []
    spans: list[tuple[int, int]] = []
    per_lemma: dict[str, list[tuple[str, list[int]]]] = {}
    for row in table:
        ids = []
        contexts = list(zip(row.get("examples") or [], row.get("spans") or []))
        if include_gloss and row.get("gloss"):
            contexts.append(gloss_context(row["word"], row["gloss"]))
        for text, span in contexts:
            valid = _valid_span(text, span)
            if valid is not None:
                ids.append(len(texts))
                texts.append(text)
                spans.append(valid)
        per_lemma.setdefault(lemma_key(row["word"]), []).append((row["synset"], ids))
    encoded = encode_contexts(embedder, texts, spans, batch_size=batch_size, progress=progress, desc="Sense contexts")
    ctx = encoded.numpy()
    queries = encode_contexts(
        embedder, [it["sentence"] for it in items], [it["span"] for it in items], batch_size=batch_size,
        progress=progress, desc="WiC contexts",
    ).numpy()  # fmt: skip

    def candidates(it: dict[str, Any]) -> tuple[list[str], np.ndarray]:
        synsets, vectors = [], []
        for synset, ids in per_lemma.get(lemma_key(it["lemma"]), []):
            if same_pos and not synset_has_pos(synset, it["pos"]):
                continue
            keep = [i for i in ids if texts[i] != it["sentence"]]  # leave the query sentence out
            if keep:
                v = ctx[keep].mean(axis=0)
                synsets.append(synset)
                vectors.append(v / max(float(np.linalg.norm(v)), 1e-12))
        return synsets, (np.stack(vectors) if vectors else np.empty((0, ctx.shape[1]), dtype=np.float32))

    result = score_sense_items(items, queries, candidates)
    logger.info("Sense retrieval (leave-one-out): %s", result)
    return result
