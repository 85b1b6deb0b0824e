"""Configuration of a `VocabIndex`: which FAISS index type and its knobs."""

from __future__ import annotations

import dataclasses
import logging
import math
from dataclasses import dataclass
from typing import Any

logger = logging.getLogger(__name__)

__all__ = ["INDEX_TYPES", "VocabIndexConfig"]

INDEX_TYPES = ("exact", "hnsw", "ivfpq", "auto")


def _check_int(name: str, value: Any, minimum: int, *, allow_none: bool = False) -> None:
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"VocabIndexConfig.{name} must be an int, got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"VocabIndexConfig.{name} must be >= {minimum}, got {value}")


@dataclass
class VocabIndexConfig:
    """How the vocabulary index is built and searched.

    Args:
        index_type: ``"exact"`` (flat inner product), ``"hnsw"``, ``"ivfpq"`` or ``"auto"``. ``"auto"`` picks exact
            up to ``exact_max_entries`` entries, HNSW up to ``hnsw_max_entries`` and IVF-PQ beyond.
        exact_max_entries: Largest vocabulary that ``"auto"`` serves with the exact index.
        hnsw_max_entries: Largest vocabulary that ``"auto"`` serves with HNSW.
        hnsw_m: HNSW graph degree (``M``).
        hnsw_ef_construction: HNSW ``efConstruction`` (build-time beam).
        hnsw_ef_search: HNSW ``efSearch`` (query-time beam); the default reaches recall@10 >= 0.97 against exact
            search on the real vocabulary (see benchmarks/RESULTS.md).
        ivf_nlist: IVF cells; ``None`` means ``4 * sqrt(N)`` (clamped so every cell gets training points).
        pq_m: PQ sub-quantisers; ``None`` picks the largest divisor of the dimension that is <= dim / 8.
        pq_nbits: Bits per PQ code.
        ivf_nprobe: IVF cells visited per query.
        use_gpu: ``True`` requires a FAISS GPU build, ``False`` never uses one, ``None`` uses it when available
            (exact and IVF-PQ only; HNSW stays on CPU).
        normalize_queries: L2-normalise queries so scores are cosine similarities.
        normalize_vectors: L2-normalise the indexed vectors. Off for a maximum-inner-product search over vectors
            whose norms carry information (the Selector's keys extended by its per-entry bias).
        sense_words: Which words get sense entries: ``"homographs"`` (the data folder's ``homographs/`` table: senses
            in different lexicographer files; falls back to ``"polysemous"`` when the table is missing) or
            ``"polysemous"`` (every word with at least ``sense_min_synsets`` synsets). Such a word always keeps its
            sense-neutral word entry too.
        sense_min_synsets: Minimum synsets for a word to get sense entries.
        sense_corpus_contexts: For homographs without any WordNet example, how many corpus contexts (from
            ``corpus/`` train) to cluster with k-means, one cluster per sense (0 disables the corpus clustering).
        seed: Seed for training (IVF-PQ, k-means).
    """

    index_type: str = "auto"
    exact_max_entries: int = 200_000
    hnsw_max_entries: int = 5_000_000
    hnsw_m: int = 32
    hnsw_ef_construction: int = 80
    hnsw_ef_search: int = 128
    ivf_nlist: int | None = None
    pq_m: int | None = None
    pq_nbits: int = 8
    ivf_nprobe: int = 16
    use_gpu: bool | None = None
    normalize_queries: bool = True
    normalize_vectors: bool = True
    sense_words: str = "homographs"
    sense_min_synsets: int = 2
    sense_corpus_contexts: int = 16
    seed: int = 0

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise ``ValueError``/``TypeError`` naming the bad field."""
        if not isinstance(self.index_type, str) or self.index_type not in INDEX_TYPES:
            raise ValueError(f"VocabIndexConfig.index_type must be one of {INDEX_TYPES}, got {self.index_type!r}")
        _check_int("exact_max_entries", self.exact_max_entries, 0)
        _check_int("hnsw_max_entries", self.hnsw_max_entries, 0)
        _check_int("hnsw_m", self.hnsw_m, 2)
        _check_int("hnsw_ef_construction", self.hnsw_ef_construction, 1)
        _check_int("hnsw_ef_search", self.hnsw_ef_search, 1)
        _check_int("ivf_nlist", self.ivf_nlist, 1, allow_none=True)
        _check_int("pq_m", self.pq_m, 1, allow_none=True)
        _check_int("pq_nbits", self.pq_nbits, 1)
        if self.pq_nbits > 16:
            raise ValueError(f"VocabIndexConfig.pq_nbits must be <= 16, got {self.pq_nbits}")
        _check_int("ivf_nprobe", self.ivf_nprobe, 1)
        if self.sense_words not in ("homographs", "polysemous"):
            raise ValueError(
                f"VocabIndexConfig.sense_words must be 'homographs' or 'polysemous', got {self.sense_words!r}"
            )
        _check_int("sense_min_synsets", self.sense_min_synsets, 1)
        _check_int("sense_corpus_contexts", self.sense_corpus_contexts, 0)
        _check_int("seed", self.seed, 0)
        if self.use_gpu is not None and not isinstance(self.use_gpu, bool):
            raise TypeError(f"VocabIndexConfig.use_gpu must be a bool or None, got {type(self.use_gpu).__name__}")
        if not isinstance(self.normalize_queries, bool):
            raise TypeError("VocabIndexConfig.normalize_queries must be a bool")
        if not isinstance(self.normalize_vectors, bool):
            raise TypeError("VocabIndexConfig.normalize_vectors must be a bool")

    def resolve_index_type(self, num_entries: int) -> str:
        """The concrete index type (``"exact"``, ``"hnsw"`` or ``"ivfpq"``) for ``num_entries`` vectors."""
        if self.index_type != "auto":
            return self.index_type
        if num_entries <= self.exact_max_entries:
            return "exact"
        if num_entries <= self.hnsw_max_entries:
            return "hnsw"
        return "ivfpq"

    def resolve_nlist(self, num_entries: int) -> int:
        """IVF cell count for ``num_entries`` training vectors (at least ~39 points per cell, as FAISS wants)."""
        nlist = self.ivf_nlist if self.ivf_nlist is not None else int(4 * math.sqrt(max(num_entries, 1)))
        return max(1, min(nlist, num_entries // 39 if num_entries >= 39 else 1))

    def resolve_pq_m(self, dim: int) -> int:
        """PQ sub-quantiser count for dimension ``dim``; must divide ``dim``."""
        if self.pq_m is not None:
            if dim % self.pq_m:
                raise ValueError(f"VocabIndexConfig.pq_m={self.pq_m} must divide the vector dimension {dim}")
            return self.pq_m
        target = max(1, dim // 8)
        return max(m for m in range(1, target + 1) if dim % m == 0)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> VocabIndexConfig:
        """Build from a dict, ignoring (and logging) keys this version does not know."""
        if not isinstance(data, dict):
            raise TypeError(f"data must be a dict, got {type(data).__name__}")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            logger.warning("Ignoring unknown VocabIndexConfig keys: %s", unknown)
        return cls(**{k: v for k, v in data.items() if k in known})
