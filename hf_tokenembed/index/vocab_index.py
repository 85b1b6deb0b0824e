"""`VocabIndex`: FAISS nearest-neighbour search over the token space (words, MWEs and word senses)."""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from typing import Any, NamedTuple

import faiss
import numpy as np
import torch
from tqdm.auto import tqdm

from hf_tokenembed.atomic import check_sha256, sha256_file, written_dir
from hf_tokenembed.data import EVAL_SPLITS, data_fingerprint, held_out_sentences

from .config import VocabIndexConfig
from .entries import ENTRY_KINDS, IndexEntry, load_entries, save_entries
from .senses import build_sense_vectors

logger = logging.getLogger(__name__)

__all__ = ["CONFIG_NAME", "ENTRIES_NAME", "FAISS_NAME", "Neighbor", "VocabIndex", "faiss_threads", "gpu_available"]

FAISS_NAME = "index.faiss"
ENTRIES_NAME = "entries.jsonl"
CONFIG_NAME = "index_config.json"
FORMAT_VERSION = 1
METRIC = "inner_product"
HELD_OUT = "held-out"
BUILT_KINDS = ("word", "mwe", "sense")  # what `build` embeds from a data folder


class Neighbor(NamedTuple):
    """One search hit: the entry and its score (cosine similarity for normalised queries)."""

    entry: IndexEntry
    score: float


@contextmanager
def faiss_threads(num_threads: int) -> Iterator[None]:
    """Run FAISS with ``num_threads`` OpenMP threads inside the block, then restore the previous setting."""
    previous = faiss.omp_get_max_threads()
    if num_threads == previous:
        yield
        return
    faiss.omp_set_num_threads(num_threads)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(previous)


def _to_numpy(vectors: Any, name: str) -> np.ndarray:
    if isinstance(vectors, torch.Tensor):
        if vectors.is_complex() or vectors.dtype == torch.bool:
            raise TypeError(f"{name} must be a real floating-point tensor, got dtype {vectors.dtype}")
        return vectors.detach().to("cpu", torch.float32).numpy()
    if isinstance(vectors, np.ndarray):
        array = vectors
    elif isinstance(vectors, (list, tuple)):
        try:
            array = np.asarray(vectors, dtype=np.float32)
        except (TypeError, ValueError) as err:
            raise TypeError(f"{name} must be a torch.Tensor, numpy array or list of numbers ({err})") from err
    else:
        raise TypeError(f"{name} must be a torch.Tensor or numpy array, got {type(vectors).__name__}")
    if array.dtype == np.bool_ or not (
        np.issubdtype(array.dtype, np.floating) or np.issubdtype(array.dtype, np.integer)
    ):
        raise TypeError(f"{name} must hold real numbers, got dtype {array.dtype}")
    return array.astype(np.float32, copy=False)


def _check_matrix(array: np.ndarray, name: str, dim: int | None) -> np.ndarray:
    """Validate a (n, d) float32 matrix: right dimension, finite, non-zero rows. Returns a C-contiguous copy/view."""
    if array.ndim != 2:
        raise ValueError(f"{name} must be 1-D (one vector) or 2-D (a batch), got shape {tuple(array.shape)}")
    if array.shape[0] == 0:
        raise ValueError(f"{name} is empty (shape {tuple(array.shape)})")
    if dim is not None and array.shape[1] != dim:
        raise ValueError(f"{name} has dimension {array.shape[1]}, but the index has dimension {dim}")
    if array.shape[1] == 0:
        raise ValueError(f"{name} has dimension 0")
    finite = np.isfinite(array).all(axis=1)
    if not finite.all():
        bad = int(np.flatnonzero(~finite)[0])
        raise ValueError(f"{name} contains NaN or infinite values (row {bad})")
    norms = np.linalg.norm(array, axis=1)
    if (norms <= 1e-12).any():
        bad = int(np.flatnonzero(norms <= 1e-12)[0])
        raise ValueError(f"{name} has a zero-norm vector (row {bad}); it has no direction to search")
    return np.ascontiguousarray(array, dtype=np.float32)


def gpu_available() -> bool:
    """Whether this FAISS build has GPU support and sees a GPU."""
    return hasattr(faiss, "StandardGpuResources") and faiss.get_num_gpus() > 0


def _make_faiss_index(
    vectors: np.ndarray, config: VocabIndexConfig, index_type: str, *, progress: bool = False
) -> faiss.Index:
    n, dim = vectors.shape
    if index_type == "exact":
        index = faiss.IndexFlatIP(dim)
    elif index_type == "hnsw":
        index = faiss.IndexHNSWFlat(dim, config.hnsw_m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = config.hnsw_ef_construction
        index.hnsw.efSearch = config.hnsw_ef_search
    elif index_type == "ivfpq":
        if n < 2**config.pq_nbits:
            raise ValueError(
                f"ivfpq needs at least 2**pq_nbits={2**config.pq_nbits} vectors to train, got {n}; "
                "lower VocabIndexConfig.pq_nbits or use index_type='exact'"
            )
        nlist, pq_m = config.resolve_nlist(n), config.resolve_pq_m(dim)
        index = faiss.index_factory(dim, f"IVF{nlist},PQ{pq_m}x{config.pq_nbits}", faiss.METRIC_INNER_PRODUCT)
        rng = np.random.default_rng(config.seed)
        sample = vectors if n <= 256 * nlist else vectors[rng.choice(n, 256 * nlist, replace=False)]
        index.train(np.ascontiguousarray(sample))
        faiss.extract_index_ivf(index).nprobe = config.ivf_nprobe
    else:  # pragma: no cover - config validation prevents this
        raise ValueError(f"unknown index_type {index_type!r}")
    step = 16_384
    with tqdm(total=n, desc=f"Adding to FAISS ({index_type})", unit="vec", disable=not progress) as bar:
        for i in range(0, n, step):
            index.add(vectors[i : i + step])
            bar.update(min(step, n - i))
    return index


class VocabIndex:
    """Nearest-neighbour index over the token space: one FAISS index plus its entries table and metadata.

    Build it with `VocabIndex.build` (from a `TokenEmbedder` and a data folder) or `VocabIndex.from_vectors`; query
    with `search`; persist with `save` / `load`. Scores are inner products, i.e. cosine similarities when queries
    are normalised (the default).

    Example:
        >>> index = VocabIndex.build(embedder, "data/")
        >>> index.search(embedder.encode_words(["bank"])[0], k=5)
        [Neighbor(entry=IndexEntry(surface='bank', ...), score=1.0), ...]
        >>> index.save("model/vocab_index"); VocabIndex.load("model/vocab_index", embedder=embedder)
    """

    def __init__(
        self,
        index: faiss.Index,
        entries: Sequence[IndexEntry],
        config: VocabIndexConfig,
        fingerprint: str | None,
        index_type: str,
        provenance: dict[str, Any] | None = None,
    ) -> None:
        if index.ntotal != len(entries):
            raise ValueError(f"FAISS index holds {index.ntotal} vectors but there are {len(entries)} entries")
        self._cpu_index = index
        self.entries: list[IndexEntry] = list(entries)
        self.config = config
        self.fingerprint = fingerprint
        self.index_type = index_type
        self.provenance = dict(provenance or {})  # what the entries were built from (see `build`)
        self._search_index = self._maybe_to_gpu(index)
        self._by_surface: dict[str, list[int]] | None = None
        self.set_search_params()

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_vectors(
        cls,
        vectors: torch.Tensor | np.ndarray,
        entries: Sequence[IndexEntry | dict[str, Any]],
        config: VocabIndexConfig | None = None,
        fingerprint: str | None = None,
        *,
        provenance: dict[str, Any] | None = None,
        progress: bool = False,
    ) -> VocabIndex:
        """Index ``vectors`` (N, d), row i being ``entries[i]`` (L2-normalised first unless
        ``config.normalize_vectors`` is off).

        ``provenance`` (JSON-serialisable) is saved in the metadata: what the vectors were built from.
        """
        config = config if config is not None else VocabIndexConfig()
        if not isinstance(config, VocabIndexConfig):
            raise TypeError(f"config must be a VocabIndexConfig, got {type(config).__name__}")
        if fingerprint is not None and not isinstance(fingerprint, str):
            raise TypeError(f"fingerprint must be a str or None, got {type(fingerprint).__name__}")
        if isinstance(entries, (str, bytes)) or not isinstance(entries, Sequence):
            raise TypeError(f"entries must be a sequence of IndexEntry, got {type(entries).__name__}")
        entries = [IndexEntry.from_dict(e) if isinstance(e, dict) else e for e in entries]
        for i, e in enumerate(entries):
            if not isinstance(e, IndexEntry):
                raise TypeError(f"entries[{i}] must be an IndexEntry or dict, got {type(e).__name__}")
        if not entries:
            raise ValueError("entries is empty: cannot build an empty index")
        array = _to_numpy(vectors, "vectors")
        if array.ndim == 2 and array.shape[0] == 0:
            raise ValueError("vectors is empty: cannot build an empty index")
        array = _check_matrix(array, "vectors", None)
        if array.shape[0] != len(entries):
            raise ValueError(f"vectors has {array.shape[0]} rows but entries has {len(entries)} items")
        if config.normalize_vectors:
            array = array / np.linalg.norm(array, axis=1, keepdims=True)
        index_type = config.resolve_index_type(len(entries))
        index = _make_faiss_index(np.ascontiguousarray(array, dtype=np.float32), config, index_type, progress=progress)
        logger.info("Built %s index over %d entries (dim %d)", index_type, len(entries), array.shape[1])
        return cls(index, entries, config, fingerprint, index_type, provenance)

    @classmethod
    def build(
        cls,
        embedder: Any,
        data_dir: str | os.PathLike,
        config: VocabIndexConfig | None = None,
        *,
        include: Iterable[str] = ("word", "mwe", "sense"),
        progress: bool = True,
        exclude_sentences: Iterable[str] | str = HELD_OUT,
        max_words: int | None = None,
        batch_size: int = 256,
    ) -> VocabIndex:
        """Build the index from a `TokenEmbedder` and a data folder (``vocab/``, ``mwes/``, ``senses/``).

        Args:
            embedder: A `TokenEmbedder` (``encode_words``, ``encode_in_context``, ``fingerprint()``, ``token_dim``).
            data_dir: Folder written by the data stage.
            config: Index configuration (defaults to `VocabIndexConfig()`).
            include: Entry kinds to index, any of ``"word"``, ``"mwe"``, ``"sense"``.
            progress: Show progress bars.
            exclude_sentences: Sentences kept out of the sense vectors. The default, ``"held-out"``, is what the
                evaluations query with (`hf_tokenembed.data.held_out_sentences`: every WiC dev and test sentence and
                every WordNet example of their lemmas); pass ``()`` to keep them all. The count and a hash of what
                was excluded, and the data folder's fingerprint, are recorded in ``provenance`` and saved with the
                index.
            max_words: Keep only the first ``max_words`` rows of ``vocab/`` (the data stage sorts by frequency).
            batch_size: Encoder batch size.
        """
        from datasets import load_from_disk

        config = config if config is not None else VocabIndexConfig()
        if not isinstance(config, VocabIndexConfig):
            raise TypeError(f"config must be a VocabIndexConfig, got {type(config).__name__}")
        include = tuple(include)
        unknown = [k for k in include if k not in BUILT_KINDS]
        if unknown or not include:
            raise ValueError(f"include must be a non-empty subset of {BUILT_KINDS}, got {include!r}")
        if max_words is not None and (isinstance(max_words, bool) or not isinstance(max_words, int) or max_words < 0):
            raise ValueError(f"max_words must be a non-negative int or None, got {max_words!r}")
        data_dir = os.fspath(data_dir)
        if not os.path.isdir(data_dir):
            raise FileNotFoundError(f"data_dir {data_dir!r} is not a directory")
        if isinstance(exclude_sentences, str):
            if exclude_sentences != HELD_OUT:
                raise ValueError(f"exclude_sentences must be {HELD_OUT!r} or a collection of sentences")
            wic, senses = os.path.join(data_dir, "eval", "wic"), os.path.join(data_dir, "senses")
            held_out = os.path.isdir(wic) and os.path.isdir(senses)  # a folder without them holds nothing out
            exclude_sentences = (
                held_out_sentences(load_from_disk(wic), load_from_disk(senses), EVAL_SPLITS) if held_out else ()
            )
        exclude_sentences = set(exclude_sentences)

        def part(name: str):
            path = os.path.join(data_dir, name)
            if not os.path.isdir(path):
                raise FileNotFoundError(f"data_dir {data_dir!r} has no {name}/ folder (needed for include={include})")
            return load_from_disk(path)

        counts: dict[str, int] = {}
        entries: list[IndexEntry] = []
        surfaces: list[str] = []
        if "word" in include or "sense" in include:
            vocab = part("vocab")
            words, freqs = vocab["word"], vocab["count"]
            if max_words is not None:
                words, freqs = words[:max_words], freqs[:max_words]
            counts = {w: int(c) for w, c in zip(words, freqs)}
        senses = None
        if "sense" in include:
            senses = part("senses")
            per_word: dict[str, int] = {}
            for w in senses["word"]:
                per_word[w] = per_word.get(w, 0) + 1
            homographs = {w for w, n in per_word.items() if n >= config.sense_min_synsets}
            if config.sense_words == "homographs":
                if os.path.isdir(os.path.join(data_dir, "homographs")):
                    homographs &= set(part("homographs")["word"])
                else:
                    logger.warning("%s has no homographs/ table; giving every polysemous word sense entries", data_dir)
            senses = senses.filter(
                lambda w: w in homographs, input_columns="word", keep_in_memory=True, desc="Selecting homographs"
            )
        if "word" in include:
            seen = set()
            word_list = list(counts)
            if senses is not None:  # every homograph keeps a sense-neutral word entry
                word_list += sorted({w.replace("_", " ") for w in senses["word"]} - set(counts))
            for w in word_list:
                if w and w not in seen:
                    seen.add(w)
                    entries.append(IndexEntry(w, "word", counts.get(w, 0), source="word"))
                    surfaces.append(w)
        if "mwe" in include:
            mwes = part("mwes")
            known = set(surfaces)
            for phrase, count in zip(mwes["phrase"], mwes["count"]):
                if phrase and phrase not in known:
                    known.add(phrase)
                    entries.append(IndexEntry(phrase, "mwe", int(count), source="mwe"))
                    surfaces.append(phrase)

        parts: list[torch.Tensor] = []
        if surfaces:
            parts.append(_encode_words(embedder, surfaces, batch_size=batch_size, progress=progress))
        if senses is not None and len(senses):
            corpus = None
            if config.sense_corpus_contexts > 0 and os.path.isdir(os.path.join(data_dir, "corpus")):
                corpus = part("corpus")
                corpus = corpus["train"]["text"] if hasattr(corpus, "keys") else corpus["text"]
            sense_vectors, meta = build_sense_vectors(
                embedder, senses, exclude_sentences=exclude_sentences, corpus_sentences=corpus,
                max_corpus_contexts=config.sense_corpus_contexts, batch_size=max(1, batch_size // 4),
                progress=progress, seed=config.seed,
            )  # fmt: skip
            for m in meta:
                word = m["word"].replace("_", " ")
                entries.append(
                    IndexEntry(word, "sense", counts.get(word, 0), m["synset"], m["gloss"], source=m["source"])
                )
            parts.append(sense_vectors)
        if not entries:
            raise ValueError(f"No entries to index from data_dir {data_dir!r} with include={include}")
        vectors = torch.cat(parts)
        fingerprint = embedder.fingerprint() if hasattr(embedder, "fingerprint") else None
        excluded = "\n".join(sorted(exclude_sentences)).encode()
        manifest = os.path.join(data_dir, "manifest.json")
        provenance = {
            "data_dir": os.path.abspath(data_dir),
            "data_fingerprint": data_fingerprint(data_dir) if os.path.isfile(manifest) else None,
            "excluded_sentences": len(exclude_sentences),
            "excluded_sha256": hashlib.sha256(excluded).hexdigest(),
        }
        return cls.from_vectors(vectors, entries, config, fingerprint, provenance=provenance, progress=progress)

    # ------------------------------------------------------------------ properties
    def __len__(self) -> int:
        return self._cpu_index.ntotal

    def __repr__(self) -> str:
        kinds = {k: sum(e.kind == k for e in self.entries) for k in ENTRY_KINDS}
        return f"VocabIndex(type={self.index_type!r}, dim={self.dim}, entries={len(self)}, kinds={kinds})"

    @property
    def dim(self) -> int:
        """Vector dimension."""
        return self._cpu_index.d

    @property
    def faiss_index(self) -> faiss.Index:
        """The underlying (CPU) FAISS index."""
        return self._cpu_index

    def set_search_params(self, *, ef_search: int | None = None, nprobe: int | None = None) -> None:
        """Set HNSW ``efSearch`` / IVF ``nprobe`` (defaults: the config's values)."""
        ef_search = self.config.hnsw_ef_search if ef_search is None else ef_search
        nprobe = self.config.ivf_nprobe if nprobe is None else nprobe
        for name, value in (("ef_search", ef_search), ("nprobe", nprobe)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        if self.index_type == "hnsw":
            self._cpu_index.hnsw.efSearch = ef_search
        elif self.index_type == "ivfpq":
            faiss.extract_index_ivf(self._cpu_index).nprobe = nprobe
            if self._search_index is not self._cpu_index:
                faiss.GpuParameterSpace().set_index_parameter(self._search_index, "nprobe", nprobe)

    def _maybe_to_gpu(self, index: faiss.Index) -> faiss.Index:
        want = self.config.use_gpu
        if want is False or self.index_type == "hnsw":
            return index
        if not gpu_available():
            if want:
                raise ValueError("config.use_gpu=True but this FAISS build has no GPU support or sees no GPU")
            return index
        self._gpu_resources = faiss.StandardGpuResources()
        logger.info("Searching the %s index on GPU", self.index_type)
        return faiss.index_cpu_to_gpu(self._gpu_resources, 0, index)

    # ------------------------------------------------------------------ search
    def _prepare_queries(self, vectors: Any, k: Any) -> tuple[np.ndarray, bool, int]:
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
            raise TypeError(f"k must be an int, got {type(k).__name__}")
        k = int(k)
        if k <= 0:
            raise ValueError(f"k must be positive, got {k}")
        if k > len(self):
            raise ValueError(f"k={k} is larger than the index ({len(self)} entries)")
        array = _to_numpy(vectors, "vectors")
        single = array.ndim == 1
        if single:
            array = array[None, :]
        array = _check_matrix(array, "vectors", self.dim)
        if self.config.normalize_queries:
            array = np.ascontiguousarray(array / np.linalg.norm(array, axis=1, keepdims=True), dtype=np.float32)
        return array, single, k

    def search_ids(self, vectors: Any, k: int = 10) -> tuple[np.ndarray, np.ndarray]:
        """Raw FAISS search: ``(scores, ids)``, each (n, k); ids are -1 where fewer than k hits were found.

        A single query runs FAISS on one thread (lower latency); a batch uses all cores.
        """
        queries, _, k = self._prepare_queries(vectors, k)
        with faiss_threads(1) if queries.shape[0] == 1 else nullcontext():
            scores, ids = self._search_index.search(queries, k)
        return scores, ids

    def search(self, vectors: Any, k: int = 10) -> list[Neighbor] | list[list[Neighbor]]:
        """Nearest entries of one vector (1-D → one list) or a batch (2-D → one list per row), best first."""
        queries, single, k = self._prepare_queries(vectors, k)
        with faiss_threads(1) if queries.shape[0] == 1 else nullcontext():
            scores, ids = self._search_index.search(queries, k)
        results = [
            [Neighbor(self.entries[i], float(s)) for s, i in zip(row_s, row_i) if i >= 0]
            for row_s, row_i in zip(scores, ids)
        ]
        return results[0] if single else results

    def find(self, surface: str, kind: str | None = None) -> list[int]:
        """Ids of the entries with this surface form (optionally of one kind)."""
        if self._by_surface is None:
            self._by_surface = {}
            for i, e in enumerate(self.entries):
                self._by_surface.setdefault(e.surface, []).append(i)
        ids = self._by_surface.get(surface, [])
        return [i for i in ids if kind is None or self.entries[i].kind == kind]

    def reconstruct(self, ids: Sequence[int]) -> np.ndarray:
        """Stored vectors of these ids (approximate for IVF-PQ), shape (len(ids), dim)."""
        ids = [int(i) for i in ids]
        for i in ids:
            if not 0 <= i < len(self):
                raise ValueError(f"ids contains {i}, outside [0, {len(self)})")
        if self.index_type == "ivfpq":
            ivf = faiss.extract_index_ivf(self._cpu_index)
            if not ivf.direct_map.type:
                ivf.make_direct_map()
        if not ids:
            return np.empty((0, self.dim), dtype=np.float32)
        return np.stack([self._cpu_index.reconstruct(i) for i in ids])

    # ------------------------------------------------------------------ persistence
    def metadata(self) -> dict[str, Any]:
        """What `save` writes to ``index_config.json`` (without file checksums)."""
        return {
            "format_version": FORMAT_VERSION,
            "dim": self.dim,
            "metric": METRIC,
            "num_entries": len(self),
            "index_type": self.index_type,
            "faiss_index_class": type(self._cpu_index).__name__,
            "faiss_version": faiss.__version__,
            "fingerprint": self.fingerprint,
            "provenance": self.provenance,
            "config": self.config.to_dict(),
        }

    def save(self, directory: str | os.PathLike) -> str:
        """Write ``index.faiss``, ``entries.jsonl`` and ``index_config.json`` to ``directory`` atomically.

        Everything is written to a temporary folder next to ``directory`` and moved in place with `os.replace`, so an
        interrupted save never leaves a half-written index behind. An existing index in ``directory`` is replaced;
        a non-empty folder that is not an index is refused.
        """
        directory = os.path.abspath(os.fspath(directory))
        if os.path.exists(directory):
            if not os.path.isdir(directory):
                raise ValueError(f"directory {directory!r} exists and is not a folder")
            if os.listdir(directory) and not os.path.isfile(os.path.join(directory, CONFIG_NAME)):
                raise ValueError(f"directory {directory!r} is not empty and holds no index; refusing to replace it")
        with written_dir(directory) as staging:
            tmp = os.fspath(staging)
            faiss.write_index(self._cpu_index, os.path.join(tmp, FAISS_NAME))
            save_entries(self.entries, os.path.join(tmp, ENTRIES_NAME))
            meta = self.metadata()
            meta["sha256"] = {name: sha256_file(os.path.join(tmp, name)) for name in (FAISS_NAME, ENTRIES_NAME)}
            with open(os.path.join(tmp, CONFIG_NAME), "w", encoding="utf-8") as f:
                json.dump(meta, f, indent=2, sort_keys=True)
                f.write("\n")
        logger.info("Saved %s index with %d entries to %s", self.index_type, len(self), directory)
        return directory

    @classmethod
    def load(
        cls,
        directory: str | os.PathLike,
        embedder: Any | None = None,
        *,
        fingerprint: str | None = None,
        use_gpu: bool | None = None,
        verify_checksums: bool = True,
    ) -> VocabIndex:
        """Load an index saved by `save`.

        Args:
            directory: The index folder.
            embedder: When given, its ``fingerprint()`` must match the one the index was built with.
            fingerprint: Alternatively, the expected fingerprint string.
            use_gpu: Override ``config.use_gpu``.
            verify_checksums: Check the files' SHA-256 against the metadata.
        """
        directory = os.fspath(directory)
        config_path = os.path.join(directory, CONFIG_NAME)
        if not os.path.isfile(config_path):
            raise FileNotFoundError(f"{directory!r} holds no saved VocabIndex (missing {CONFIG_NAME})")
        with open(config_path, encoding="utf-8") as f:
            meta = json.load(f)
        if meta.get("format_version") != FORMAT_VERSION:
            raise ValueError(f"{config_path}: unsupported format_version {meta.get('format_version')!r}")
        if meta.get("metric") != METRIC:
            raise ValueError(f"{config_path}: unsupported metric {meta.get('metric')!r}")
        for name in (FAISS_NAME, ENTRIES_NAME):
            if not os.path.isfile(os.path.join(directory, name)):
                raise FileNotFoundError(f"{directory!r} is missing {name}")
        if verify_checksums:  # indexes saved before checksums have none
            check_sha256(directory, meta.get("sha256", {}), CONFIG_NAME, "the index")

        stored = meta.get("fingerprint")
        if embedder is not None:
            if not hasattr(embedder, "fingerprint"):
                raise TypeError(f"embedder must have a fingerprint() method, got {type(embedder).__name__}")
            fingerprint = embedder.fingerprint()
            if getattr(embedder, "token_dim", meta["dim"]) != meta["dim"]:
                raise ValueError(
                    f"embedder produces {embedder.token_dim}-d vectors but the index at {directory!r} is {meta['dim']}-d"
                )
        if fingerprint is not None:
            if stored is None:
                logger.warning("Index at %s has no embedder fingerprint; cannot check it", directory)
            elif stored != fingerprint:
                raise ValueError(
                    f"embedder fingerprint {fingerprint!r} does not match the index at {directory!r}, which was built "
                    f"with {stored!r}; rebuild the index for this embedder"
                )
        if meta.get("faiss_version") != faiss.__version__:
            logger.warning("Index written by FAISS %s, loading with %s", meta.get("faiss_version"), faiss.__version__)

        config = VocabIndexConfig.from_dict(meta.get("config", {}))
        if use_gpu is not None:
            config.use_gpu = use_gpu
        index = faiss.read_index(os.path.join(directory, FAISS_NAME))
        entries = load_entries(os.path.join(directory, ENTRIES_NAME))
        if index.d != meta["dim"] or index.ntotal != meta["num_entries"] or len(entries) != index.ntotal:
            raise ValueError(
                f"{directory!r} is inconsistent: metadata says {meta['num_entries']} x {meta['dim']}, FAISS holds "
                f"{index.ntotal} x {index.d}, entries table has {len(entries)} rows"
            )
        return cls(index, entries, config, stored, meta["index_type"], meta.get("provenance"))


def _encode_words(
    embedder: Any, words: list[str], *, batch_size: int, progress: bool, chunk: int = 4096
) -> torch.Tensor:
    parts = []
    with tqdm(total=len(words), desc="Encoding words/MWEs", unit="word", disable=not progress) as bar:
        for i in range(0, len(words), chunk):
            out = embedder.encode_words(words[i : i + chunk], batch_size=batch_size, show_progress_bar=False)
            parts.append(torch.as_tensor(out).detach().to("cpu", torch.float32))
            bar.update(len(words[i : i + chunk]))
    return torch.cat(parts)
