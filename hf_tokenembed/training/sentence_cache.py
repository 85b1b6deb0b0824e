"""Sentence-vector cache: `encode_sentences` of many texts, computed once, stored as a `datasets` table.

The controller's training states each need the sentence vector of their partial text (the summary) and of their
whole sentence (the target): hundreds of thousands of encoder forwards, done once and reused by every run. The
cache is keyed like the feature cache (the embedder's fingerprint, which covers its config and every weight, and
the texts) and written atomically.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path

import numpy as np
import torch

from hf_tokenembed.atomic import written_dir

logger = logging.getLogger(__name__)

__all__ = ["SentenceVectorCache", "sentence_cache_key"]

_FORMAT_VERSION = 1


def sentence_cache_key(embedder, texts: list[str]) -> str:
    """Hash of the embedder (its `fingerprint()`) and of the texts, in order."""
    digest = hashlib.sha256(json.dumps([_FORMAT_VERSION, embedder.fingerprint()]).encode())
    for text in texts:
        digest.update(text.encode())
        digest.update(b"\0")
    return digest.hexdigest()[:20]


class SentenceVectorCache:
    """`vectors[i]` is `embedder.encode_sentences([texts[i]])[0]`; `row(text)` finds a text's row."""

    def __init__(self, path: str | os.PathLike):
        import datasets

        self.path = Path(path)
        meta_file = self.path / "meta.json"
        if not meta_file.is_file():
            raise FileNotFoundError(f"`path` {self.path} is not a sentence-vector cache (no meta.json)")
        self.meta = json.loads(meta_file.read_text())
        table = datasets.load_from_disk(str(self.path / "table")).with_format("numpy")
        self.texts: list[str] = table.data.column("text").to_pylist()
        self.vectors = torch.from_numpy(np.asarray(table["vector"], dtype=np.float32))
        self._rows = {text: i for i, text in enumerate(self.texts)}

    @property
    def key(self) -> str:
        return self.meta["key"]

    def __len__(self) -> int:
        return len(self.texts)

    def row(self, text: str) -> int:
        return self._rows[text]

    @classmethod
    def build(
        cls, embedder, texts: list[str], path: str | os.PathLike, *, batch_size: int = 256, progress: bool = True
    ) -> SentenceVectorCache:
        """Load the cache at `path` if its key matches, else encode the texts (atomically) and load it."""
        import datasets

        texts = list(dict.fromkeys(texts))
        if not texts:
            raise ValueError("`texts` is empty: nothing to cache")
        key = sentence_cache_key(embedder, texts)
        try:
            cache = cls(path)
            if cache.key == key:
                logger.info("Sentence-vector cache hit: %s", path)
                return cache
        except FileNotFoundError:
            pass
        with written_dir(path) as staging:
            vectors = embedder.encode_sentences(texts, batch_size=batch_size, show_progress_bar=progress)
            table = datasets.Dataset.from_dict({"text": texts, "vector": vectors.numpy().astype(np.float16)})
            table.save_to_disk(str(staging / "table"))
            meta = {"key": key, "texts": len(texts), "dim": int(vectors.shape[1])}
            (staging / "meta.json").write_text(json.dumps(meta, indent=2))
        return cls(path)
