"""Sense vectors for homographs: in-context vectors over WordNet examples and gloss, plus corpus clustering.

A sense vector is the renormalised mean of the word's in-context vectors over the sense's WordNet example sentences
and its gloss rendered as context (``"bank: sloping land ..."`` with the span of ``bank``). When WordNet has no
examples for any sense of a homograph, the word's corpus contexts are clustered with k-means (one cluster per
sense) and each sense is pulled towards the cluster that matches its gloss best (one-to-one: the assignment of
largest total similarity).

`build_sense_vectors` is shared with the training stage; it takes ``exclude_sentences`` so evaluations can keep
their query sentences out of the vectors they are scored against.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from hf_tokenembed.data.vocab import WORD_RE
from hf_tokenembed.data.wordnet import gloss_context

logger = logging.getLogger(__name__)

__all__ = ["build_sense_vectors", "encode_contexts", "find_word_contexts"]


def _valid_span(text: str, span: Any) -> tuple[int, int] | None:
    try:
        start, end = int(span[0]), int(span[1])
    except (TypeError, ValueError, IndexError):
        return None
    if 0 <= start < end <= len(text):
        return start, end
    return None


def encode_contexts(
    embedder: Any,
    sentences: Sequence[str],
    spans: Sequence[tuple[int, int]],
    *,
    batch_size: int = 64,
    progress: bool = False,
    desc: str = "Encoding contexts",
    chunk_size: int = 2048,
) -> torch.Tensor:
    """`embedder.encode_in_context` in chunks under one progress bar; returns (N, d) float32 on CPU."""
    if len(sentences) != len(spans):
        raise ValueError(f"sentences and spans must have the same length, got {len(sentences)} and {len(spans)}")
    if not sentences:
        return torch.empty(0, int(embedder.token_dim), dtype=torch.float32)
    parts = []
    with tqdm(total=len(sentences), desc=desc, unit="ctx", disable=not progress) as bar:
        for i in range(0, len(sentences), chunk_size):
            chunk_s, chunk_p = list(sentences[i : i + chunk_size]), [tuple(s) for s in spans[i : i + chunk_size]]
            out = embedder.encode_in_context(chunk_s, chunk_p, batch_size=batch_size, show_progress_bar=False)
            parts.append(torch.as_tensor(out).detach().to("cpu", torch.float32))
            bar.update(len(chunk_s))
    return torch.cat(parts)


def find_word_contexts(
    sentences: Iterable[str],
    words: Iterable[str],
    *,
    max_per_word: int = 32,
    exclude_sentences: set[str] | None = None,
) -> dict[str, list[tuple[str, tuple[int, int]]]]:
    """Up to ``max_per_word`` (sentence, char span) occurrences of each single word, matched case-insensitively."""
    targets = {w.lower() for w in words}
    found: dict[str, list[tuple[str, tuple[int, int]]]] = defaultdict(list)
    if not targets or max_per_word <= 0:
        return {}
    full: set[str] = set()
    exclude = exclude_sentences or set()
    for sentence in sentences:
        if sentence in exclude:
            continue
        for match in WORD_RE.finditer(sentence):
            token = match.group(0).lower()
            if token in targets and token not in full:
                occurrences = found[token]
                if occurrences and occurrences[-1][0] is sentence:
                    continue  # one occurrence per sentence
                occurrences.append((sentence, match.span()))
                if len(occurrences) >= max_per_word:
                    full.add(token)
                    if len(full) == len(targets):
                        return dict(found)
    return dict(found)


def _normalize(x: torch.Tensor) -> torch.Tensor:
    return torch.nn.functional.normalize(x, dim=-1)


def build_sense_vectors(
    embedder: Any,
    senses: Any,
    *,
    exclude_sentences: Iterable[str] | None = None,
    include_gloss: bool = True,
    corpus_sentences: Iterable[str] | None = None,
    max_corpus_contexts: int = 32,
    batch_size: int = 64,
    progress: bool = False,
    seed: int = 0,
) -> tuple[torch.Tensor, list[dict[str, Any]]]:
    """Build one L2-normalised vector per (word, synset) row of a senses table.

    Args:
        embedder: Anything with ``encode_in_context(sentences, spans, batch_size=, show_progress_bar=)`` and
            ``token_dim`` (a `TokenEmbedder`).
        senses: The ``senses/`` dataset (or a list of row dicts) with ``word``, ``synset``, ``gloss``, ``examples``,
            ``spans`` and optionally ``pos``, ``lexname``.
        exclude_sentences: Sentences never used (held-out evaluation sentences); they are dropped from the WordNet
            examples and from the corpus contexts.
        include_gloss: Add the gloss rendered as context (``"bank: sloping land"``) to each sense.
        corpus_sentences: Corpus sentences; when given, homographs without any (non-excluded) WordNet example get
            k-means clusters of up to ``max_corpus_contexts`` of their corpus contexts, one cluster per sense.
        max_corpus_contexts: Contexts per word for the clustering (0 disables it).
        batch_size: Encoder batch size.
        progress: Show a progress bar.
        seed: k-means seed.

    Returns:
        ``(vectors, meta)``: a (num_rows, d) float32 tensor, and per row a dict with ``word``, ``synset``, ``pos``,
        ``lexname``, ``gloss``, ``num_examples`` (examples used), ``num_excluded`` and ``source``.
    """
    rows = senses.to_list() if hasattr(senses, "to_list") else list(senses)
    exclude = set(exclude_sentences or ())
    dim = int(embedder.token_dim)
    if not rows:
        return torch.empty(0, dim, dtype=torch.float32), []
    for key in ("word", "synset", "gloss"):
        if key not in rows[0]:
            raise ValueError(f"senses is missing the {key!r} column")

    texts: list[str] = []
    spans: list[tuple[int, int]] = []
    owner: list[int] = []
    gloss_pos: dict[int, int] = {}
    meta: list[dict[str, Any]] = []
    for i, row in enumerate(rows):
        examples = row.get("examples") or []
        ex_spans = row.get("spans") or []
        used = excluded = 0
        for text, span in zip(examples, ex_spans):
            if text in exclude:
                excluded += 1
                continue
            valid = _valid_span(text, span)
            if valid is None:
                logger.debug("Skipping example with invalid span %r for %s: %r", span, row["synset"], text)
                continue
            texts.append(text)
            spans.append(valid)
            owner.append(i)
            used += 1
        if include_gloss and row.get("gloss"):
            text, span = gloss_context(row["word"], row["gloss"])
        if include_gloss and row.get("gloss") and text in exclude:
            excluded += 1  # a WiC definition context ("bank: sloping land ...") is held out like an example
        elif include_gloss and row.get("gloss"):
            gloss_pos[i] = len(texts)
            texts.append(text)
            spans.append(span)
            owner.append(i)
        if used == 0 and i not in gloss_pos:
            # Everything was held out (or unusable): fall back to the word's context-free vector, flagged as such.
            texts.append(row["word"].replace("_", " "))
            spans.append((0, len(texts[-1])))
            owner.append(i)
            source = "word"
        else:
            source = "examples+gloss" if used and i in gloss_pos else ("examples" if used else "gloss")
        meta.append(
            {
                "word": row["word"],
                "synset": row["synset"],
                "pos": row.get("pos"),
                "lexname": row.get("lexname"),
                "gloss": row.get("gloss"),
                "num_examples": used,
                "num_excluded": excluded,
                "source": source,
            }
        )

    encoded = encode_contexts(embedder, texts, spans, batch_size=batch_size, progress=progress, desc="Sense contexts")
    owner_t = torch.tensor(owner, dtype=torch.long)
    sums = torch.zeros(len(rows), dim, dtype=torch.float32).index_add_(0, owner_t, encoded)
    counts = torch.bincount(owner_t, minlength=len(rows)).clamp_min(1).unsqueeze(1).float()
    vectors = _normalize(sums / counts)

    if corpus_sentences is not None and max_corpus_contexts > 0:
        _add_corpus_clusters(
            embedder, rows, meta, vectors, encoded, gloss_pos, corpus_sentences, exclude,
            max_corpus_contexts=max_corpus_contexts, batch_size=batch_size, progress=progress, seed=seed,
        )  # fmt: skip
    return vectors, meta


def _add_corpus_clusters(
    embedder: Any,
    rows: list[dict[str, Any]],
    meta: list[dict[str, Any]],
    vectors: torch.Tensor,
    encoded: torch.Tensor,
    gloss_pos: dict[int, int],
    corpus_sentences: Iterable[str],
    exclude: set[str],
    *,
    max_corpus_contexts: int,
    batch_size: int,
    progress: bool,
    seed: int,
) -> None:
    """Pull each sense of an example-less homograph towards its best-matching corpus cluster (in place)."""
    import faiss
    from scipy.optimize import linear_sum_assignment

    by_word: dict[str, list[int]] = defaultdict(list)
    for i, row in enumerate(rows):
        by_word[row["word"]].append(i)
    targets = {
        w: idx
        for w, idx in by_word.items()
        if len(idx) > 1 and " " not in w and "_" not in w and all(meta[i]["num_examples"] == 0 for i in idx)
    }
    if not targets:
        return
    contexts = find_word_contexts(
        corpus_sentences, targets, max_per_word=max_corpus_contexts, exclude_sentences=exclude
    )
    words = [w for w in targets if len(contexts.get(w.lower(), ())) >= 2 * len(targets[w])]
    if not words:
        return
    flat = [c for w in words for c in contexts[w.lower()]]
    enc = encode_contexts(
        embedder, [s for s, _ in flat], [p for _, p in flat], batch_size=batch_size, progress=progress,
        desc="Corpus contexts",
    )  # fmt: skip
    offset = 0
    pulled = 0
    for w in words:
        n = len(contexts[w.lower()])
        x = np.ascontiguousarray(enc[offset : offset + n].numpy(), dtype=np.float32)
        offset += n
        idx = targets[w]
        kmeans = faiss.Kmeans(x.shape[1], len(idx), niter=20, spherical=True, seed=seed, min_points_per_centroid=1)
        kmeans.train(x)
        centroids = kmeans.centroids / np.linalg.norm(kmeans.centroids, axis=1, keepdims=True).clip(1e-12)
        sim = vectors[idx].numpy() @ centroids.T
        for r, c in zip(*linear_sum_assignment(sim, maximize=True)):
            i = idx[r]
            if meta[i]["num_examples"] == 0:
                base = encoded[gloss_pos[i]] if i in gloss_pos else vectors[i]
                vectors[i] = _normalize(base + torch.from_numpy(centroids[c]))
                meta[i]["source"] = "gloss+corpus"
                pulled += 1
    logger.info("Corpus clustering adjusted %d example-less senses of %d homographs", pulled, len(words))
