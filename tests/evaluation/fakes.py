"""A fake embedder whose vectors the evaluation tests control."""

from __future__ import annotations

import hashlib

import numpy as np
import torch

__all__ = ["DIM", "FakeEmbedder", "hash_vector", "unit"]

DIM = 16


def hash_vector(text: str, dim: int = DIM) -> torch.Tensor:
    seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")
    return torch.from_numpy(np.random.default_rng(seed).standard_normal(dim).astype(np.float32))


def unit(*values: float, dim: int = DIM) -> torch.Tensor:
    """A unit vector from its leading coordinates."""
    v = torch.zeros(dim)
    v[: len(values)] = torch.tensor(values, dtype=torch.float32)
    return torch.nn.functional.normalize(v, dim=0)


class FakeEmbedder:
    """`TokenEmbedder`'s encode methods over controlled vectors; anything unlisted gets a hash vector.

    Args:
        words: text -> vector for `encode_words`.
        contexts: (sentence, (start, end)) -> vector, or span text -> vector, for `encode_in_context`; else the
            `encode_words` vector of the span text.
        sentences: text -> vector for `encode_sentences`; `sentence_fn` (text -> vector) overrides the hash default.
    """

    def __init__(self, words=None, contexts=None, sentences=None, sentence_fn=None, dim: int = DIM):
        self.words = words or {}
        self.contexts = contexts or {}
        self.sentences = sentences or {}
        self.sentence_fn = sentence_fn
        self.token_dim = self.sentence_dim = dim
        self.calls = {"words": 0, "in_context": 0, "sentences": 0}
        self.encoded_words: list[str] = []

    @staticmethod
    def _stack(vectors) -> torch.Tensor:
        if not vectors:
            return torch.empty((0, DIM))
        return torch.nn.functional.normalize(torch.stack(vectors), dim=-1)

    def _word(self, text: str) -> torch.Tensor:
        return self.words[text] if text in self.words else hash_vector(text.lower())  # case-blind default

    def encode_words(self, words, batch_size=64, show_progress_bar=None):
        self.calls["words"] += 1
        self.encoded_words += list(words)
        return self._stack([self._word(w) for w in words])

    def encode_in_context(self, sentences, spans, batch_size=64, show_progress_bar=None):
        self.calls["in_context"] += 1
        out = []
        for sentence, (start, end) in zip(sentences, spans):
            key = (sentence, (int(start), int(end)))
            word = sentence[start:end]
            out.append(self.contexts.get(key, self.contexts.get(word, self._word(word))))
        return self._stack(out)

    def encode_sentences(self, sentences, batch_size=64, show_progress_bar=None):
        self.calls["sentences"] += 1
        default = self.sentence_fn or hash_vector
        return self._stack([self.sentences[s] if s in self.sentences else default(s) for s in sentences])
