from __future__ import annotations

from pathlib import Path

import pytest
from data_helpers import make_sentences, wordnet_available


@pytest.fixture(scope="session")
def wn():
    if not wordnet_available():
        pytest.skip("WordNet 3.0 is not installed")
    from hf_tokenembed.data import load_wordnet

    return load_wordnet()


@pytest.fixture
def corpus_file(tmp_path) -> Path:
    path = tmp_path / "corpus.txt"
    path.write_text("\n".join(make_sentences()) + "\n", encoding="utf-8")
    return path
