"""Shared fixtures: a tiny random BERT backbone (with the packaged MiniLM tokenizer) and the real packaged MiniLM."""

from __future__ import annotations

import copy
import os

import pytest
import torch
from transformers import AutoTokenizer, BertConfig, BertModel

from hf_tokenembed import TokenEmbedder, TokenEmbedderConfig
from hf_tokenembed.backbones import DEFAULT_BACKBONE, resolve_backbone_path


@pytest.fixture(scope="session")
def tiny_backbone(tmp_path_factory) -> str:
    """A folder with a 4-layer, 32-wide random BERT and a real tokenizer."""
    folder = tmp_path_factory.mktemp("tiny-bert")
    tokenizer = AutoTokenizer.from_pretrained(resolve_backbone_path(DEFAULT_BACKBONE))
    config = BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=32,
        num_hidden_layers=4,
        num_attention_heads=4,
        intermediate_size=64,
        max_position_embeddings=128,
    )
    torch.manual_seed(0)  # session-scoped: its weights must not depend on the tests that ran before
    BertModel(config, add_pooling_layer=False).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return str(folder)


@pytest.fixture(scope="session")
def _tiny_model(tiny_backbone) -> TokenEmbedder:
    torch.manual_seed(0)  # the LoRA and head weights, whatever ran before
    return TokenEmbedder(TokenEmbedderConfig(backbone=tiny_backbone, lora_layers=2, head_dims=[48, 24])).eval()


@pytest.fixture
def tiny_model(_tiny_model) -> TokenEmbedder:
    """A fresh copy of the tiny TokenEmbedder for each test."""
    return copy.deepcopy(_tiny_model)


@pytest.fixture(scope="session")
def minilm_model() -> TokenEmbedder:
    """The real packaged MiniLM (slow tests only); do not modify it."""
    return TokenEmbedder(TokenEmbedderConfig(backbone=DEFAULT_BACKBONE)).eval()


@pytest.fixture(scope="session", autouse=True)
def _isolated_cache(tmp_path_factory):
    """Assemble WordNet into a per-session cache, never the user's."""
    old = os.environ.get("HF_TOKENEMBED_CACHE")
    os.environ["HF_TOKENEMBED_CACHE"] = str(tmp_path_factory.mktemp("hf_tokenembed_cache"))
    yield
    if old is None:
        os.environ.pop("HF_TOKENEMBED_CACHE", None)
    else:
        os.environ["HF_TOKENEMBED_CACHE"] = old


_SUBJECTS = ["The bank", "A farmer", "The river", "Our teacher", "The committee", "A journalist", "The car"]
_VERBS = ["approved", "watched", "crossed", "visited", "described", "repaired", "followed"]
_OBJECTS = [
    "the new loan for the school", "the muddy bank of the stream", "a red herring in the story",
    "the old bridge near New York", "an automobile on the road", "the happy children in the park",
    "the interest rates again", "the boats on the water",
]  # fmt: skip


@pytest.fixture(scope="session")
def tiny_data_dir(tmp_path_factory) -> str:
    """A data folder built from a small generated corpus (needs WordNet)."""
    from hf_tokenembed.data import build_data

    folder = tmp_path_factory.mktemp("tiny-data")
    sentences = [
        f"{s} {v} {o} on day {i}."
        for i, (s, v, o) in enumerate((s, v, o) for s in _SUBJECTS for v in _VERBS for o in _OBJECTS)
    ]
    (folder / "corpus.txt").write_text("\n".join(sentences) + "\n", encoding="utf-8")
    build_data(str(folder / "corpus.txt"), folder / "data", min_freq=1, wordfreq_top=500, progress=False)
    return str(folder / "data")


@pytest.fixture(scope="session")
def bbc_data_dir(tmp_path_factory) -> str:
    """The real offline data folder (`hf-tokenembed data build --corpus bbc-news`; slow tests only, about a minute)."""
    from hf_tokenembed.data import build_data

    folder = tmp_path_factory.mktemp("bbc") / "data"
    build_data("bbc-news", folder, progress=False)
    return str(folder)
