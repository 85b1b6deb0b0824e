"""Fixtures for the index tests: a deterministic fake embedder and a tiny data folder."""

from __future__ import annotations

import hashlib
import re

import numpy as np
import pytest
import torch

DIM = 16


def _hash_vector(text: str, dim: int = DIM) -> np.ndarray:
    seed = int.from_bytes(hashlib.sha256(text.lower().encode()).digest()[:8], "little")
    return np.random.default_rng(seed).standard_normal(dim).astype(np.float32)


class FakeEmbedder:
    """Same methods as `TokenEmbedder`: word vectors are hashes; in-context vectors add the context's words."""

    def __init__(self, dim: int = DIM, tag: str = "fake-v1") -> None:
        self.token_dim = dim
        self.tag = tag
        self.calls = 0

    def fingerprint(self) -> str:
        return f"{self.tag}-{self.token_dim}"

    def encode_words(self, words, batch_size=32, show_progress_bar=None):
        self.calls += 1
        x = torch.from_numpy(np.stack([_hash_vector(w, self.token_dim) for w in words]))
        return torch.nn.functional.normalize(x, dim=-1)

    def encode_in_context(self, sentences, spans, batch_size=32, show_progress_bar=None):
        self.calls += 1
        out = []
        for s, (a, b) in zip(sentences, spans):
            word = s[a:b]
            v = _hash_vector(word, self.token_dim).copy()
            others = [t for t in re.findall(r"[a-z]+", (s[:a] + " " + s[b:]).lower()) if len(t) > 3]
            for t in others:
                v += 0.8 * _hash_vector(t, self.token_dim)
            out.append(v)
        return torch.nn.functional.normalize(torch.from_numpy(np.stack(out)), dim=-1)


def _span(sentence: str, word: str) -> list[int]:
    start = sentence.index(word)
    return [start, start + len(word)]


SENSES = [
    {
        "word": "bank",
        "synset": "bank.n.01",
        "pos": "n",
        "lexname": "noun.object",
        "gloss": "sloping land (especially the slope beside a body of water) river water",
        "examples": ["they pulled the canoe up on the river bank", "the river bank was muddy with water"],
    },
    {
        "word": "bank",
        "synset": "depository_financial_institution.n.01",
        "pos": "n",
        "lexname": "noun.group",
        "gloss": "a financial institution that accepts deposits and channels the money into lending activities",
        "examples": ["he cashed a check at the bank money", "that bank holds the mortgage money deposits"],
    },
    {
        "word": "bass",
        "synset": "bass.n.07",
        "pos": "n",
        "lexname": "noun.animal",
        "gloss": "the lean flesh of a saltwater fish of the family Serranidae",
        "examples": [],
    },
    {
        "word": "bass",
        "synset": "bass.n.03",
        "pos": "n",
        "lexname": "noun.attribute",
        "gloss": "the lowest part of the musical range",
        "examples": ["he sang bass in the choir music"],
    },
    {
        "word": "apple",
        "synset": "apple.n.01",
        "pos": "n",
        "lexname": "noun.food",
        "gloss": "fruit with red or yellow or green skin",
        "examples": ["she ate an apple"],
    },
]
for row in SENSES:
    row["spans"] = [_span(e, row["word"]) for e in row["examples"]]

WORDS = ["the", "bank", "river", "money", "bass", "fish", "music", "apple", "water", "red", "herring", "choir"]
MWES = ["red herring", "river bank", "bank holiday"]
CORPUS = [
    "the bass swam in the lake with other fish",
    "we caught a bass fish today near the lake",
    "the band played loud bass music tonight",
    "a bass guitar makes deep music sounds",
    "the river bank flooded after rain",
    "the bank raised interest rates again",
]
WIC = {
    "lemma": ["bank", "bass"],
    "pos": ["n", "n"],
    "sentence1": ["the river bank was muddy with water", "he sang bass in the choir music"],
    "start1": [10, 8],
    "end1": [14, 12],
    "sentence2": ["that bank holds the mortgage money deposits", "a bass is a tasty saltwater fish"],
    "start2": [5, 2],
    "end2": [9, 6],
    "synset1": ["bank.n.01", "bass.n.03"],
    "synset2": ["depository_financial_institution.n.01", "bass.n.07"],
    "label": [0, 0],
}


@pytest.fixture
def embedder() -> FakeEmbedder:
    return FakeEmbedder()


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory) -> str:
    from datasets import Dataset, DatasetDict

    root = tmp_path_factory.mktemp("data")
    Dataset.from_dict(
        {"word": WORDS, "count": [100 - i for i in range(len(WORDS))], "zipf": [5.0] * len(WORDS)}
    ).save_to_disk(str(root / "vocab"))
    Dataset.from_dict(
        {"phrase": MWES, "count": [7, 5, 3], "source": ["wordnet"] * 3, "npmi": [0.9, 0.8, 0.7]}
    ).save_to_disk(str(root / "mwes"))
    Dataset.from_list(SENSES).save_to_disk(str(root / "senses"))
    Dataset.from_dict(
        {
            "word": ["bank", "bass"],
            "lexnames": [["noun.object", "noun.group"], ["noun.animal", "noun.attribute"]],
            "synsets": [["bank.n.01", "depository_financial_institution.n.01"], ["bass.n.07", "bass.n.03"]],
        }
    ).save_to_disk(str(root / "homographs"))
    DatasetDict({"dev": Dataset.from_dict(WIC), "test": Dataset.from_dict(WIC)}).save_to_disk(
        str(root / "eval" / "wic")
    )
    DatasetDict(
        {
            "train": Dataset.from_dict({"text": CORPUS}),
            "dev": Dataset.from_dict({"text": CORPUS[:2]}),
            "test": Dataset.from_dict({"text": CORPUS[2:4]}),
        }
    ).save_to_disk(str(root / "corpus"))
    return str(root)
