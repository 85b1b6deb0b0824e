"""The released bundle's stage 1 on homographs in context: `neighbors(pos=)` ranks the word's right sense first.

Twice: with the part of speech given (`pos="n"`) and read off the context by spaCy's tagger (`pos="auto"`, the
`pos` extra), which must read every one of these words as the noun it is.

The contexts are `benchmarks/bench_homographs.py`'s ("bank", "bat", "spring", "pitch", "bass", two each), searched
in an index of those words and their WordNet senses built with the released TokenEmbedder (nothing held out: no
context is a WordNet example). A context where the released model still ranks a wrong sense first is a strict
xfail: RESULTS.md reports it, and a model that gets it right turns the xfail into a failure that says so.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RELEASED = ROOT / "checkpoints" / "tokenembed-reconstructor-minilm" / "embedder"
sys.path.insert(0, str(ROOT / "benchmarks"))
from bench_homographs import CASES  # noqa: E402

WRONG_FIRST = {  # context -> the sense the released stage 1 ranks first among the nouns
    "The bat flew out of the cave at dusk.": "bat ((baseball) a turn trying)",
    "He swung the bat and hit the ball.": "bat ((baseball) a turn trying)",
    "They drank cold water from a mountain spring.": "spring (season of growth)",
    "The roof was sealed with hot black pitch.": "pitch (degree of deviation)",
}


@pytest.fixture(scope="module")
def released(tmp_path_factory):
    import datasets
    from transformers import AutoModel

    from hf_tokenembed.data import load_wordnet
    from hf_tokenembed.data.vocab import vocab_features
    from hf_tokenembed.data.wordnet import build_homographs, build_senses
    from hf_tokenembed.index import VocabIndex, VocabIndexConfig

    try:
        wn = load_wordnet()
    except FileNotFoundError:
        pytest.skip("WordNet 3.0 is not installed")
    words = sorted({word for word, _, _ in CASES})
    folder = tmp_path_factory.mktemp("homographs")
    rows = {"word": words, "count": [1] * len(words), "zipf": [4.0] * len(words)}
    datasets.Dataset.from_dict(rows, features=vocab_features()).save_to_disk(str(folder / "vocab"))
    build_senses(wn, words).save_to_disk(str(folder / "senses"))
    build_homographs(wn, words).save_to_disk(str(folder / "homographs"))
    model = AutoModel.from_pretrained(RELEASED).eval()
    config = VocabIndexConfig(index_type="exact", sense_corpus_contexts=0)
    index = VocabIndex.build(model, folder, config, include=("word", "sense"), exclude_sentences=(), progress=False)
    return model, index


@pytest.mark.parametrize(
    "pos",
    ["n", pytest.param("auto", marks=pytest.mark.skipif(not importlib.util.find_spec("spacy"), reason="no spaCy"))],
)
@pytest.mark.parametrize(
    ("word", "context", "gold"),
    [
        pytest.param(*case, marks=pytest.mark.xfail(strict=True, reason=f"ranks {WRONG_FIRST[case[1]]} first"))
        if case[1] in WRONG_FIRST
        else case
        for case in CASES
    ],
)
def test_released_model_ranks_the_right_noun_sense_first(released, word, context, gold, pos):
    from hf_tokenembed.index import neighbors

    model, index = released
    hits = neighbors(index, model, [word], context, k=len(index), pos=pos)[0]
    senses = [hit.entry for hit in hits if hit.entry.kind == "sense" and hit.entry.surface == word]
    assert senses and all(entry.pos == "n" for entry in senses)  # the verb senses were left out
    assert senses[0].synset in gold, f"{senses[0].label} ranked first"
