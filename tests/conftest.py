"""Shared fixtures: a tiny random BERT backbone (with the packaged MiniLM tokenizer) and the real packaged MiniLM."""

from __future__ import annotations

import copy

import pytest
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
    BertModel(config, add_pooling_layer=False).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return str(folder)


@pytest.fixture(scope="session")
def _tiny_model(tiny_backbone) -> TokenEmbedder:
    return TokenEmbedder(TokenEmbedderConfig(backbone=tiny_backbone, lora_layers=2, head_dims=[48, 24])).eval()


@pytest.fixture
def tiny_model(_tiny_model) -> TokenEmbedder:
    """A fresh copy of the tiny TokenEmbedder for each test."""
    return copy.deepcopy(_tiny_model)


@pytest.fixture(scope="session")
def minilm_model() -> TokenEmbedder:
    """The real packaged MiniLM (slow tests only); do not modify it."""
    return TokenEmbedder(TokenEmbedderConfig(backbone=DEFAULT_BACKBONE)).eval()
