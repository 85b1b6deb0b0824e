"""Nearest-neighbour inspection for the CLI: encode queries (optionally in a context) and print a table."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import torch

from hf_tokenembed.data.wordnet import find_form

from .entries import IndexEntry
from .vocab_index import Neighbor, VocabIndex

logger = logging.getLogger(__name__)

__all__ = ["POS_FAMILIES", "encode_queries", "format_neighbors", "neighbors", "pos_matches", "query_pos"]


def encode_queries(
    embedder: Any, queries: Sequence[str], context: str | None = None, *, batch_size: int = 32
) -> tuple[torch.Tensor, list[str]]:
    """Vectors for ``queries``: in-context when ``context`` contains the query, else the word/phrase vector.

    Returns the (n, d) vectors and a description of each (``"bank"`` or ``"bank @ We sat on the river bank."``).
    """
    if isinstance(queries, str):
        raise TypeError("queries must be a list of strings, not a single string")
    queries = list(queries)
    if not queries:
        raise ValueError("queries is empty")
    for i, q in enumerate(queries):
        if not isinstance(q, str) or not q.strip():
            raise ValueError(f"queries[{i}] must be a non-empty string, got {q!r}")
    if context is not None and not isinstance(context, str):
        raise TypeError(f"context must be a str or None, got {type(context).__name__}")
    spans = [find_form(context, q) if context else None for q in queries]
    for q, span in zip(queries, spans):
        if context and span is None:
            logger.warning("%r does not occur in the context; using its context-free vector", q)
    vectors = torch.empty(len(queries), int(embedder.token_dim), dtype=torch.float32)
    in_ctx = [i for i, s in enumerate(spans) if s is not None]
    free = [i for i, s in enumerate(spans) if s is None]
    if in_ctx:
        out = embedder.encode_in_context([context] * len(in_ctx), [spans[i] for i in in_ctx], batch_size=batch_size)
        vectors[in_ctx] = torch.as_tensor(out).detach().to("cpu", torch.float32)
    if free:
        out = embedder.encode_words([queries[i] for i in free], batch_size=batch_size)
        vectors[free] = torch.as_tensor(out).detach().to("cpu", torch.float32)
    labels = [f"{q} @ {context}" if s is not None else q for q, s in zip(queries, spans)]
    return vectors, labels


POS_FAMILIES = {"n": {"n"}, "v": {"v"}, "a": {"a", "s"}, "r": {"r"}}  # WordNet's satellite adjectives count as "a"


def pos_matches(entry: IndexEntry, pos: str) -> bool:
    """Whether `entry` can stand for a word of part of speech `pos`: any word or MWE, or a sense of that one."""
    return entry.kind != "sense" or entry.pos in POS_FAMILIES[pos]


def neighbors(
    index: VocabIndex,
    embedder: Any,
    queries: Sequence[str],
    context: str | None = None,
    *,
    k: int = 10,
    distinct_case: bool = False,
    pos: str | None = None,
) -> list[list[Neighbor]]:
    """Nearest index entries of each query (encoded with `encode_queries`).

    With `distinct_case`, a label is kept once whatever its case ("Bank" and "bank" share a vector in an uncased
    space). With `pos` (a WordNet part of speech: ``"n"``, ``"v"``, ``"a"``, ``"r"``), sense entries of another part
    of speech are left out, words and MWEs stay: "bank" in "the bank of the river" is then matched against the
    senses a noun can have. ``pos="auto"`` reads each query's part of speech in `context` with a spaCy tagger
    (`wordnet_pos_in_context`; the `pos` extra); a query it cannot tag is not filtered. Either filter keeps the `k`
    nearest entries it lets through among the `3 * k` nearest.
    """
    if pos is not None and pos not in (*POS_FAMILIES, "auto"):
        raise ValueError(f"`pos` must be one of {[*sorted(POS_FAMILIES), 'auto']} or None, got {pos!r}")
    if pos == "auto" and context is None:
        raise ValueError('`pos="auto"` tags each query in its context: pass a `context`')
    vectors, _ = encode_queries(embedder, queries, context)
    poses = query_pos(queries, context) if pos == "auto" else [pos] * len(vectors)
    if not distinct_case and all(p is None for p in poses):
        return index.search(vectors, k=k)
    results = []
    for hits, wanted in zip(index.search(vectors, k=min(3 * k, len(index))), poses):
        kept, seen = [], set()
        for hit in hits:
            if wanted is not None and not pos_matches(hit.entry, wanted):
                continue
            if distinct_case:
                label = hit.entry.label.casefold()
                if label in seen:
                    continue
                seen.add(label)
            kept.append(hit)
        results.append(kept[:k])
    return results


def query_pos(queries: Sequence[str], context: str) -> list[str | None]:
    """Each query's WordNet part of speech where it occurs in `context` (spaCy's tagger), `None` where it is not."""
    from hf_tokenembed.data.pos_tagging import wordnet_pos_in_context

    spans = [find_form(context, q) for q in queries]
    poses = [wordnet_pos_in_context(context, span) if span is not None else None for span in spans]
    for q, p in zip(queries, poses):
        if p is None:
            logger.info("no part of speech for %r in %r: its sense entries are not filtered", q, context)
    return poses


def format_neighbors(
    results: Sequence[Sequence[Neighbor]] | Sequence[Neighbor],
    queries: Sequence[str] | None = None,
    *,
    show_kind: bool = True,
    show_synset: bool = True,
    precision: int = 3,
) -> str:
    """A readable table per query: rank, score, label, kind and synset.

    ``results`` is what `VocabIndex.search` returns (one list, or one list per query).
    """
    if results and isinstance(results[0], Neighbor):
        results = [results]  # a single query's list
    if queries is not None and len(queries) != len(results):
        raise ValueError(f"queries has {len(queries)} items but results has {len(results)}")
    blocks = []
    for qi, hits in enumerate(results):
        title = queries[qi] if queries is not None else f"query {qi}"
        header = ["rank", "score", "entry"] + (["kind"] if show_kind else []) + (["synset"] if show_synset else [])
        rows = []
        for rank, (entry, score) in enumerate(hits, 1):
            row = [str(rank), f"{score:.{precision}f}", entry.label]
            if show_kind:
                row.append(entry.kind)
            if show_synset:
                row.append(entry.synset or "")
            rows.append(row)
        widths = [
            max(len(header[c]), *(len(r[c]) for r in rows)) if rows else len(header[c]) for c in range(len(header))
        ]
        right = {0, 1}

        def fmt(cells: list[str], widths: list[int] = widths, right: set[int] = right) -> str:
            return "  ".join(
                c.rjust(w) if j in right else c.ljust(w) for j, (c, w) in enumerate(zip(cells, widths))
            ).rstrip()

        lines = [title, fmt(header), fmt(["-" * w for w in widths])] + [fmt(r) for r in rows]
        if not rows:
            lines.append("(no results)")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)
