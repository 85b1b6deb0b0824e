from __future__ import annotations

import os
from pathlib import Path

import pytest
from data_helpers import make_sentences, wordnet_available


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


@pytest.fixture(scope="session")
def wn(_isolated_cache):
    if not wordnet_available():
        pytest.skip("WordNet 3.0 is not installed")
    from hf_tokenembed.data import load_wordnet

    return load_wordnet()


@pytest.fixture
def corpus_file(tmp_path) -> Path:
    path = tmp_path / "corpus.txt"
    path.write_text("\n".join(make_sentences()) + "\n", encoding="utf-8")
    return path
