"""Sense vectors for homographs: WordNet examples, gloss, synonyms and hypernym gloss, plus corpus clustering.

A sense vector is the renormalised mean of its `SENSE_SOURCES` parts (each normalised): the word in its WordNet
example sentences, the word in its gloss (``"bank: sloping land ..."`` with the span of ``bank``), the gloss as a
whole text, the synset's other lemmas and the word in its hypernym's gloss. When WordNet has no
examples for any sense of a homograph, the word's corpus contexts are clustered with k-means (one cluster per
sense) and each sense is pulled towards the cluster that matches its gloss best (one-to-one: the assignment of
largest total similarity).

`build_sense_vectors` builds the VocabIndex's sense entries; `encode_sense_sources` encodes the parts once so that
sense scoring (`hf_tokenembed.evaluation.sense_scoring`) can rebuild each candidate without the query sentence.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from hf_tokenembed.data.vocab import WORD_RE
from hf_tokenembed.data.wordnet import gloss_context

logger = logging.getLogger(__name__)

__all__ = [
    "SENSE_SOURCES",
    "SenseSources",
    "build_sense_vectors",
    "encode_contexts",
    "encode_sense_sources",
    "find_word_contexts",
]


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


SENSE_SOURCES = ("examples", "gloss_context", "gloss_text", "synonyms", "hypernym_gloss")
"""What a sense vector is made of, each part L2-normalised and weighted equally: the word in its WordNet example
sentences (mean), the word in its gloss (``"bank: sloping land ..."``, span of ``bank``), the gloss as a whole text
(the word tower, as MWE↔gloss matching reads glosses), the synset's other lemmas (mean) and the word in its
hypernym's gloss."""


@dataclass
class SenseSources:
    """The encoded parts of every sense of a senses table (see `SENSE_SOURCES`), to combine with some left out.

    ``parts[i, j]`` is row ``i``'s vector for the non-example source ``sources[j]`` (``present[i, j]`` says whether
    it has one); ``examples`` holds one in-context vector per example, ``example_rows`` its row and
    ``example_sentences`` its sentence.
    """

    sources: tuple[str, ...]
    parts: torch.Tensor
    present: torch.Tensor
    examples: torch.Tensor
    example_rows: list[int]
    example_sentences: list[str]

    def __post_init__(self) -> None:
        self._examples_of: dict[int, list[int]] = defaultdict(list)
        for e, row in enumerate(self.example_rows):
            self._examples_of[row].append(e)

    def num_examples(self, row: int, leave_out: str | None = None) -> int:
        """How many example sentences of ``row`` remain once ``leave_out`` is left out."""
        return sum(self.example_sentences[e] != leave_out for e in self._examples_of.get(row, ()))

    def combine(self, rows: Sequence[int], leave_out: str | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Sense vectors of ``rows`` with every example equal to ``leave_out`` dropped: ``((len(rows), d), found)``,
        where ``found[i]`` is False (and the vector zero) when nothing is left of row ``i``."""
        vectors = torch.zeros(len(rows), self.parts.shape[-1])
        found = torch.zeros(len(rows), dtype=torch.bool)
        for i, row in enumerate(rows):
            parts = [self.parts[row, j] for j in range(len(self.sources)) if self.present[row, j]]
            kept = [e for e in self._examples_of.get(row, ()) if self.example_sentences[e] != leave_out]
            if kept:
                parts.append(_normalize(self.examples[kept].mean(0)))
            if parts:
                vectors[i], found[i] = _normalize(torch.stack(parts).mean(0)), True
        return vectors, found


def encode_sense_sources(
    embedder: Any,
    rows: Sequence[dict[str, Any]],
    *,
    sources: Sequence[str] = SENSE_SOURCES,
    exclude_sentences: Iterable[str] = (),
    batch_size: int = 64,
    progress: bool = False,
) -> SenseSources:
    """Encode the `SENSE_SOURCES` parts of each senses-table row once (texts in ``exclude_sentences`` never used)."""
    unknown = set(sources) - set(SENSE_SOURCES)
    if unknown or not sources:
        raise ValueError(f"`sources` must be a non-empty subset of {SENSE_SOURCES}, got {list(sources)}")
    exclude = set(exclude_sentences)
    fixed = tuple(s for s in SENSE_SOURCES if s in sources and s != "examples")
    contexts: list[tuple[str, tuple[int, int], int, int]] = []  # (text, span, row, source column or -1)
    texts: list[tuple[str, int, int]] = []  # (whole text, row, source column): the word tower
    for i, row in enumerate(rows):
        word, gloss = row["word"], row.get("gloss") or ""
        if "examples" in sources:
            for text, span in zip(row.get("examples") or [], row.get("spans") or []):
                valid = _valid_span(text, span)
                if text not in exclude and valid is not None:
                    contexts.append((text, valid, i, -1))
        for j, name in enumerate(fixed):
            if name in ("gloss_context", "hypernym_gloss"):
                definition = gloss if name == "gloss_context" else row.get("hypernym_gloss") or ""
                if definition:
                    text, span = gloss_context(word, definition)
                    if text not in exclude:
                        contexts.append((text, span, i, j))
            elif name == "gloss_text" and gloss and gloss not in exclude:
                texts.append((gloss, i, j))
            elif name == "synonyms":
                texts.extend((synonym, i, j) for synonym in row.get("synonyms") or [])
    encoded = encode_contexts(
        embedder, [c[0] for c in contexts], [c[1] for c in contexts], batch_size=batch_size, progress=progress,
        desc="Sense contexts",
    )  # fmt: skip
    words = (
        torch.as_tensor(
            embedder.encode_words([t[0] for t in texts], batch_size=batch_size, show_progress_bar=progress)
        )
        if texts
        else torch.empty(0, encoded.shape[1])
    ).to("cpu", torch.float32)
    dim = int(embedder.token_dim)
    sums = torch.zeros(len(rows), len(fixed), dim)
    for vector, (_, _, i, j) in zip(encoded, contexts):
        if j >= 0:
            sums[i, j] += vector
    for vector, (_, i, j) in zip(words, texts):
        sums[i, j] += vector
    present = sums.norm(dim=-1) > 0
    is_example = [c[3] < 0 for c in contexts]
    return SenseSources(
        sources=fixed,
        parts=_normalize(sums),
        present=present,
        examples=encoded[torch.tensor(is_example, dtype=torch.bool)] if contexts else encoded,
        example_rows=[c[2] for c in contexts if c[3] < 0],
        example_sentences=[c[0] for c in contexts if c[3] < 0],
    )


def build_sense_vectors(
    embedder: Any,
    senses: Any,
    *,
    exclude_sentences: Iterable[str] | None = None,
    sources: Sequence[str] = SENSE_SOURCES,
    corpus_sentences: Iterable[str] | None = None,
    max_corpus_contexts: int = 32,
    batch_size: int = 64,
    progress: bool = False,
    seed: int = 0,
) -> tuple[torch.Tensor, list[dict[str, Any]]]:
    """Build one L2-normalised vector per (word, synset) row of a senses table, from its `SENSE_SOURCES`.

    Args:
        embedder: Anything with ``encode_in_context(sentences, spans, batch_size=, show_progress_bar=)``,
            ``encode_words`` and ``token_dim`` (a `TokenEmbedder`).
        senses: The ``senses/`` dataset (or a list of row dicts) with ``word``, ``synset``, ``gloss``, ``examples``,
            ``spans`` and optionally ``pos``, ``lexname``, ``synonyms``, ``hypernym_gloss``.
        exclude_sentences: Texts never used (held-out evaluation sentences): dropped from the examples, and a
            gloss context equal to one (a WiC definition context) is dropped too.
        sources: The parts used (a subset of `SENSE_SOURCES`).
        corpus_sentences: Corpus sentences; when given, homographs without any (non-excluded) WordNet example get
            k-means clusters of up to ``max_corpus_contexts`` of their corpus contexts, one cluster per sense.
        max_corpus_contexts: Contexts per word for the clustering (0 disables it).
        batch_size: Encoder batch size.
        progress: Show a progress bar.
        seed: k-means seed.

    Returns:
        ``(vectors, meta)``: a (num_rows, d) float32 tensor, and per row a dict with ``word``, ``synset``, ``pos``,
        ``lexname``, ``gloss``, ``num_examples`` (examples used), ``num_excluded`` and ``source`` (the parts used,
        joined by ``+``; ``word``: nothing was left, the word's context-free vector stands in).
    """
    rows = senses.to_list() if hasattr(senses, "to_list") else list(senses)
    exclude = set(exclude_sentences or ())
    dim = int(embedder.token_dim)
    if not rows:
        return torch.empty(0, dim, dtype=torch.float32), []
    for key in ("word", "synset", "gloss"):
        if key not in rows[0]:
            raise ValueError(f"senses is missing the {key!r} column")
    parts = encode_sense_sources(
        embedder, rows, sources=sources, exclude_sentences=exclude, batch_size=batch_size, progress=progress
    )
    vectors, found = parts.combine(range(len(rows)))
    missing = [i for i in range(len(rows)) if not found[i]]
    if missing:  # everything was held out or unusable: the word's context-free vector, flagged as such
        words = [rows[i]["word"].replace("_", " ") for i in missing]
        vectors[missing] = torch.as_tensor(embedder.encode_words(words, batch_size=batch_size)).to(torch.float32)
    meta = []
    for i, row in enumerate(rows):
        used = parts.num_examples(i)
        names = (["examples"] if used else []) + [s for j, s in enumerate(parts.sources) if parts.present[i, j]]
        meta.append(
            {
                "word": row["word"],
                "synset": row["synset"],
                "pos": row.get("pos"),
                "lexname": row.get("lexname"),
                "gloss": row.get("gloss"),
                "num_examples": used,
                "num_excluded": sum(text in exclude for text in row.get("examples") or [])
                + (bool(row.get("gloss")) and gloss_context(row["word"], row["gloss"])[0] in exclude),
                "source": "+".join(names) if found[i] else "word",
            }
        )
    if corpus_sentences is not None and max_corpus_contexts > 0:
        _add_corpus_clusters(
            embedder, rows, meta, vectors, corpus_sentences, exclude, max_corpus_contexts=max_corpus_contexts,
            batch_size=batch_size, progress=progress, seed=seed,
        )  # fmt: skip
    return vectors, meta


def _add_corpus_clusters(
    embedder: Any,
    rows: list[dict[str, Any]],
    meta: list[dict[str, Any]],
    vectors: torch.Tensor,
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
                vectors[i] = _normalize(vectors[i] + torch.from_numpy(centroids[c]))
                meta[i]["source"] += "+corpus"
                pulled += 1
    logger.info("Corpus clustering adjusted %d example-less senses of %d homographs", pulled, len(words))
