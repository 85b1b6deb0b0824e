from __future__ import annotations

import pytest


@pytest.fixture
def tiny_st(tiny_model):
    """The tiny TokenEmbedder as a SentenceTransformer (sharing its weights), in train mode."""
    st = tiny_model.to_sentence_transformer(space="token", merge_lora=False)
    st.train()
    return st
