"""Hard-negative mining over the current vocabulary vectors with FAISS, refreshed during training."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

import faiss
import numpy as np
import torch
from torch import Tensor

logger = logging.getLogger(__name__)

__all__ = ["HardNegativeMiner"]

Exclusions = Callable[[int], set[int]] | Sequence[set[int]] | None


class HardNegativeMiner:
    """The `k` nearest vocabulary entries of each anchor that are not the anchor, its positive or its variants.

    The miner holds an inner-product FAISS index over the L2-normalised vocabulary vectors (cosine similarity):
    exact (`faiss.IndexFlatIP`) up to `exact_below` entries, IVF beyond (`nprobe` of `4 * sqrt(V)` cells searched
    per query: hard negatives need to be near, not provably nearest, and a large vocabulary is searched every
    step). The vectors move while the model trains, so the index is rebuilt with :meth:`refresh` (see
    `hf_tokenembed.training.HardNegativeRefreshCallback`, which does it every `refresh_every` steps). Between two
    refreshes an anchor's neighbours cannot change, so each anchor is searched once and then remembered.

    Unlike the original recipe's single hard negative with no guard, `mine` never returns the anchor, the
    positive, or anything in the anchor's exclusion set (its synonyms, inflections and spelling variants), so a
    mined "negative" is not a false negative by construction.

    Args:
        k: Hard negatives per anchor.
        refresh_every: Training steps between two index rebuilds (read by
            `hf_tokenembed.training.HardNegativeRefreshCallback`).
        precompute_depth: When > 0, each refresh searches the `precompute_depth` nearest entries of every entry in
            one batched search (cheaper per anchor than a search per step when most entries will be anchors before
            the next refresh); 0 searches each step's new anchors as they come.
        exact_below: Largest vocabulary searched exhaustively.
        nprobe: IVF cells visited per query above `exact_below`.

    Example:
        ::

            miner = HardNegativeMiner(k=4, refresh_every=500)
            miner.refresh(model.encode_words(vocab))                                   # (V, d)
            negative_ids = miner.mine(anchor_ids, positive_ids, exclude=synonym_ids)   # (B, 4)
    """

    def __init__(
        self, k: int, refresh_every: int = 500, precompute_depth: int = 0, exact_below: int = 20_000, nprobe: int = 16
    ):
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise ValueError(f"`k` must be a positive int, got {k!r}")
        if isinstance(refresh_every, bool) or not isinstance(refresh_every, int) or refresh_every < 1:
            raise ValueError(f"`refresh_every` must be a positive int, got {refresh_every!r}")
        if isinstance(precompute_depth, bool) or not isinstance(precompute_depth, int) or precompute_depth < 0:
            raise ValueError(f"`precompute_depth` must be an int >= 0, got {precompute_depth!r}")
        for name, value in (("exact_below", exact_below), ("nprobe", nprobe)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"`{name}` must be a positive int, got {value!r}")
        self.k = k
        self.exact_below = exact_below
        self.nprobe = nprobe
        self.refresh_every = refresh_every
        self.precompute_depth = precompute_depth
        self.index: faiss.Index | None = None
        self.vectors: np.ndarray | None = None
        self.refresh_count = 0
        self._neighbours: dict[int, np.ndarray] = {}  # anchor id -> nearest ids, since the last refresh

    def __repr__(self) -> str:
        size = "not built" if self.index is None else f"{self.vocab_size} vectors"
        return f"{type(self).__name__}(k={self.k}, refresh_every={self.refresh_every}, index={size})"

    @property
    def vocab_size(self) -> int:
        """Number of vocabulary vectors in the index (0 before the first refresh)."""
        return 0 if self.vectors is None else self.vectors.shape[0]

    def needs_refresh(self, step: int) -> bool:
        """Whether the index should be rebuilt at training step `step`."""
        return self.index is None or (step > 0 and step % self.refresh_every == 0)

    def refresh(self, vectors: Tensor) -> None:
        """Rebuild the index over `vectors`: `(V, d)`, one row per vocabulary id (normalised here)."""
        if isinstance(vectors, np.ndarray):
            vectors = torch.from_numpy(vectors)
        if not isinstance(vectors, Tensor):
            raise TypeError(f"`vectors` must be a torch.Tensor (V, d), got {type(vectors).__name__}")
        if vectors.ndim != 2 or not vectors.is_floating_point():
            raise ValueError(
                f"`vectors` must be a 2-D float tensor (V, d), got {vectors.dtype} {tuple(vectors.shape)}"
            )
        if self.k >= vectors.shape[0]:
            raise ValueError(f"`k`={self.k} must be smaller than the vocabulary size {vectors.shape[0]}")
        array = vectors.detach().to("cpu", torch.float32).numpy()
        if not np.isfinite(array).all():
            raise ValueError("`vectors` contains NaN or infinite values")
        array = np.ascontiguousarray(array)
        faiss.normalize_L2(array)
        if len(array) > self.exact_below:  # IVF: a few cells of similar vectors searched per query, not all
            nlist = int(4 * np.sqrt(len(array)))
            index = faiss.IndexIVFFlat(
                faiss.IndexFlatIP(array.shape[1]), array.shape[1], nlist, faiss.METRIC_INNER_PRODUCT
            )
            index.train(array)
            index.nprobe = self.nprobe
        else:
            index = faiss.IndexFlatIP(array.shape[1])
        index.add(array)
        self.index, self.vectors = index, array
        self._neighbours = {}
        if self.precompute_depth:
            _, found = index.search(array, min(self.precompute_depth, len(array)))
            self._neighbours = dict(enumerate(found))
        self.refresh_count += 1
        logger.debug("hard-negative index rebuilt over %d vectors (refresh #%d)", len(array), self.refresh_count)

    def mine(
        self,
        anchor_ids: Tensor,
        positive_ids: Tensor,
        exclude: Exclusions = None,
        *,
        queries: Tensor | None = None,
    ) -> Tensor:
        """The `k` hardest negatives of each anchor, nearest first: a `(B, k)` LongTensor of vocabulary ids.

        Args:
            anchor_ids: `(B,)` vocabulary ids of the anchors (never returned; their vectors are the queries).
            positive_ids: `(B,)` vocabulary ids of the positives (never returned); `-1` for a positive that is not
                a vocabulary entry (e.g. a word in context).
            exclude: Ids never to return for an anchor: a function `anchor_id -> set[int]`, or one set per row.
            queries: Optional `(B, d)` query vectors to search with instead of the anchors' indexed vectors.
        """
        if self.index is None or self.vectors is None:
            raise ValueError("`refresh` must be called with the vocabulary vectors before `mine`")
        if self.k >= self.vocab_size:
            raise ValueError(f"`k`={self.k} must be smaller than the vocabulary size {self.vocab_size}")
        anchors = _ids(anchor_ids, "anchor_ids", self.vocab_size)
        positives = _ids(positive_ids, "positive_ids", self.vocab_size, allow_missing=True)
        if len(positives) != len(anchors):
            raise ValueError(f"`positive_ids` has {len(positives)} entries for {len(anchors)} anchors")
        exclusions = self._exclusions(exclude, anchors)
        if queries is None:
            query_array = self.vectors[anchors]
        else:
            if (
                not isinstance(queries, Tensor)
                or queries.ndim != 2
                or queries.shape != (len(anchors), self.vectors.shape[1])
            ):
                raise ValueError(
                    f"`queries` must be a ({len(anchors)}, {self.vectors.shape[1]}) tensor, "
                    f"got {getattr(queries, 'shape', type(queries).__name__)}"
                )
            query_array = np.ascontiguousarray(queries.detach().to("cpu", torch.float32).numpy())
            faiss.normalize_L2(query_array)
        out = np.empty((len(anchors), self.k), dtype=np.int64)
        if len(anchors) == 0:
            return torch.from_numpy(out)
        depth = min(self.vocab_size, self.k + 2 + max(len(s) for s in exclusions))
        pending = list(range(len(anchors)))
        while pending:
            found = self._nearest(anchors, query_array, pending, depth, remember=queries is None)
            still = []
            for row, ids in zip(pending, found):
                banned = exclusions[row] | {int(anchors[row]), int(positives[row])}
                kept = [int(i) for i in ids if i >= 0 and int(i) not in banned][: self.k]
                if len(kept) == self.k:
                    out[row] = kept
                elif depth >= self.vocab_size:
                    raise ValueError(
                        f"anchor {int(anchors[row])} has only {len(kept)} candidates left after excluding the anchor, "
                        f"positive and {len(exclusions[row])} variants; lower `k`={self.k}"
                    )
                else:
                    still.append(row)
            pending = still
            depth = min(self.vocab_size, depth * 2)
        return torch.from_numpy(out)

    def _nearest(
        self, anchors: np.ndarray, query_array: np.ndarray, rows: list[int], depth: int, remember: bool
    ) -> list[np.ndarray]:
        """The `depth` nearest ids of each row's query; an anchor's own vector is searched once per refresh."""
        known = self._neighbours if remember else {}
        missing = [row for row in rows if len(known.get(int(anchors[row]), ())) < depth]
        searched = {}
        if missing:
            _, found = self.index.search(np.ascontiguousarray(query_array[missing]), depth)
            searched = dict(zip(missing, found))
            if remember:
                known.update((int(anchors[row]), ids) for row, ids in searched.items())
        return [searched[row] if row in searched else known[int(anchors[row])][:depth] for row in rows]

    @staticmethod
    def _exclusions(exclude: Exclusions, anchors: np.ndarray) -> list[set[int]]:
        if exclude is None:
            return [set() for _ in anchors]
        if callable(exclude):
            sets = [exclude(int(a)) for a in anchors]
        elif isinstance(exclude, Sequence) and not isinstance(exclude, str):
            if len(exclude) != len(anchors):
                raise ValueError(f"`exclude` has {len(exclude)} sets for {len(anchors)} anchors")
            sets = list(exclude)
        else:
            raise TypeError(f"`exclude` must be a callable, a list of sets or None, got {type(exclude).__name__}")
        checked = []
        for i, ids in enumerate(sets):
            if ids is None:
                ids = set()
            if not isinstance(ids, (set, frozenset, list, tuple)):
                raise TypeError(f"`exclude` gave {type(ids).__name__} for row {i}; expected a set of ids")
            checked.append({int(x) for x in ids})
        return checked


def _ids(ids: Tensor, name: str, vocab_size: int, allow_missing: bool = False) -> np.ndarray:
    if isinstance(ids, (list, tuple)):
        ids = torch.tensor(ids, dtype=torch.long)
    if not isinstance(ids, Tensor) or ids.ndim != 1 or ids.is_floating_point() or ids.dtype == torch.bool:
        raise TypeError(f"`{name}` must be a 1-D integer tensor, got {getattr(ids, 'dtype', type(ids).__name__)}")
    array = ids.detach().cpu().numpy().astype(np.int64)
    low = -1 if allow_missing else 0
    if len(array) and (array.min() < low or array.max() >= vocab_size):
        raise ValueError(
            f"`{name}` must be vocabulary ids in [{low}, {vocab_size}), got [{array.min()}, {array.max()}]"
        )
    return array
