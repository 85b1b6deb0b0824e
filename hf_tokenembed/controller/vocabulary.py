"""The reconstruction vocabulary: the entries a controller writes, their keys in the token space, their counts.

Entries are Moses tokens, words and multi-word expressions of the training split (see
`hf_tokenembed.data.reconstruction_entries`); their keys are `TokenEmbedder.encode_words` vectors, the same space
as the VocabIndex. Sense entries are not written: a homograph is written as its surface form. The folder holds
``entries.jsonl`` (surface, kind, count), ``keys.npy`` (fp16) and ``vocabulary.json`` (sizes, the embedder's
fingerprint, checksums); it is written atomically and verified on load.
"""

from __future__ import annotations

import json
import logging
import os
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from hf_tokenembed.atomic import check_sha256, sha256_file, written_dir
from hf_tokenembed.data import Segmentation, Segmenter, reconstruction_entries
from hf_tokenembed.data.segmentation import entry_kind
from hf_tokenembed.index import IndexEntry, VocabIndex, VocabIndexConfig

logger = logging.getLogger(__name__)

__all__ = ["ReconstructionVocabulary"]

FORMAT_VERSION = 1
_FILES = ("entries.jsonl", "keys.npy")


class ReconstructionVocabulary:
    """Entries (id = rank by training count), their keys and a `Segmenter` over them.

    Args:
        surfaces: Entry surfaces, commonest first.
        counts: Their counts in the training split.
        keys: `(len(surfaces), token_dim)` key vectors, L2-normalised here and rounded to fp16, the precision they
            are saved at; fp16 keys are taken as saved (already normalised), so a saved copy loads bit for bit.
        fingerprint: The embedder's `fingerprint()` the keys come from.
    """

    def __init__(
        self, surfaces: Sequence[str], counts: Sequence[int], keys: torch.Tensor, fingerprint: str | None = None
    ):
        if len(surfaces) != len(counts) or len(surfaces) != len(keys):
            raise ValueError(f"`surfaces` ({len(surfaces)}), `counts` ({len(counts)}) and `keys` ({len(keys)}) differ")
        self.segmenter = Segmenter(surfaces)
        self.counts = np.asarray(counts, dtype=np.int64)
        keys = torch.as_tensor(keys)
        if keys.dtype != torch.float16:
            keys = F.normalize(keys.float(), dim=-1).half()
        self.keys = keys.float()
        self.kinds = [entry_kind(s) for s in surfaces]
        self.fingerprint = fingerprint

    @staticmethod
    def default_path(embedder_dir: str | os.PathLike) -> str:
        """Where the Selector's script keeps the vocabulary of the embedder saved in `embedder_dir`."""
        return os.path.join(embedder_dir, "reconstruction_vocab")

    @classmethod
    def build(
        cls,
        embedder: Any,
        data_dir: str | os.PathLike,
        *,
        min_count: int = 2,
        mwe_min_count: int = 3,
        batch_size: int = 256,
        progress: bool = True,
    ) -> ReconstructionVocabulary:
        """Entries from the data folder's training split, keyed with `embedder.encode_words`."""
        entries = reconstruction_entries(data_dir, min_count=min_count, mwe_min_count=mwe_min_count, progress=progress)
        surfaces = [surface for surface, _ in entries]
        keys = embedder.encode_words(surfaces, batch_size=batch_size, show_progress_bar=progress)
        logger.info("Reconstruction vocabulary: %d entries (%s)", len(surfaces), Counter(map(entry_kind, surfaces)))
        return cls(surfaces, [n for _, n in entries], keys, getattr(embedder, "fingerprint", lambda: None)())

    # ------------------------------------------------------------------ text
    def __len__(self) -> int:
        return len(self.segmenter)

    @property
    def surfaces(self) -> list[str]:
        return self.segmenter.entries

    @property
    def token_dim(self) -> int:
        return self.keys.shape[1]

    def index_entries(self) -> list[IndexEntry]:
        """The entries as `VocabIndex` entries (id order)."""
        return [IndexEntry(s, k, int(c)) for s, k, c in zip(self.surfaces, self.kinds, self.counts)]

    def neighbor_index(self) -> VocabIndex:
        """An exact `VocabIndex` over the keys: the nearest entries of a word, a phrase or a word in context."""
        return VocabIndex.from_vectors(self.keys, self.index_entries(), VocabIndexConfig(index_type="exact"))

    def segment(self, sentence: str) -> Segmentation:
        """The sentence's entries (ids -1 for tokens no entry covers)."""
        return self.segmenter.segment(sentence)

    def detokenize(self, ids: Sequence[int]) -> str:
        """Natural text of entry ids."""
        return self.segmenter.detokenize([int(i) for i in ids])

    def coverage(self, sentences: Iterable[str]) -> dict[str, Any]:
        """Share of the sentences' tokens (and of whole sentences) the entries cover; uncovered tokens are
        counted, commonest first, never dropped."""
        tokens = covered = whole = n = 0
        missing: Counter = Counter()
        for sentence in sentences:
            segmentation = self.segment(sentence)
            tokens += len(segmentation.ids)
            covered += sum(i >= 0 for i in segmentation.ids)
            whole += segmentation.covered
            n += 1
            missing.update(e for e, i in zip(segmentation.entries, segmentation.ids) if i < 0)
        if not n:
            raise ValueError("`sentences` is empty")
        return {
            "token_coverage": covered / max(tokens, 1),
            "sentence_coverage": whole / n,
            "tokens": tokens,
            "uncovered_tokens": tokens - covered,
            "most_common_uncovered": missing.most_common(20),
        }

    # ------------------------------------------------------------------ persistence
    def save(self, directory: str | os.PathLike) -> None:
        """Write the folder atomically (a crash leaves the previous version)."""
        with written_dir(directory) as staging:
            with open(staging / "entries.jsonl", "w", encoding="utf-8") as f:
                for surface, kind, count in zip(self.surfaces, self.kinds, self.counts.tolist()):
                    f.write(json.dumps({"surface": surface, "kind": kind, "count": count}, ensure_ascii=False) + "\n")
            np.save(staging / "keys.npy", self.keys.numpy().astype(np.float16))
            meta = {
                "format_version": FORMAT_VERSION,
                "num_entries": len(self),
                "token_dim": self.token_dim,
                "fingerprint": self.fingerprint,
                "sha256": {name: sha256_file(staging / name) for name in _FILES},
            }
            (staging / "vocabulary.json").write_text(json.dumps(meta, indent=2) + "\n")

    @classmethod
    def load(cls, directory: str | os.PathLike, fingerprint: str | None = None) -> ReconstructionVocabulary:
        """Read a folder written by `save`; checksums are verified, and `fingerprint` (when given) must match."""
        directory = Path(directory)
        meta_path = directory / "vocabulary.json"
        if not meta_path.is_file():
            raise FileNotFoundError(f"`directory` {directory} holds no reconstruction vocabulary (no vocabulary.json)")
        try:
            meta = json.loads(meta_path.read_text())
        except ValueError as err:
            raise ValueError(f"{meta_path} is not valid JSON ({err}); the vocabulary is corrupted") from err
        if meta.get("format_version") != FORMAT_VERSION:
            raise ValueError(f"{meta_path}: unsupported format_version {meta.get('format_version')!r}")
        check_sha256(directory, {name: meta["sha256"][name] for name in _FILES}, "vocabulary.json", "the vocabulary")
        if fingerprint is not None and meta.get("fingerprint") not in (None, fingerprint):
            raise ValueError(
                f"the vocabulary's keys come from embedder {meta['fingerprint']!r}, not {fingerprint!r}; rebuild it"
            )
        rows = [json.loads(line) for line in (directory / "entries.jsonl").read_text(encoding="utf-8").splitlines()]
        keys = torch.from_numpy(np.load(directory / "keys.npy").astype(np.float16))
        if len(rows) != meta["num_entries"] or tuple(keys.shape) != (meta["num_entries"], meta["token_dim"]):
            raise ValueError(f"{directory} is inconsistent with its vocabulary.json")
        return cls([r["surface"] for r in rows], [r["count"] for r in rows], keys, meta.get("fingerprint"))
