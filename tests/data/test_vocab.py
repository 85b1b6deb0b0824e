from __future__ import annotations

import pytest

from hf_tokenembed.data import build_vocab

SENTENCES = [
    "The bank in York is near the river.",
    "People in York like the river bank.",
    "York has a big bank and the river.",
    "We went to York and Paris by train.",
    "They say Paris is lovely and the river too.",
    "A rare zebra appeared once.",
]


def test_counts_min_freq_and_order():
    vocab = build_vocab(SENTENCES, min_freq=2, casing="lower")
    rows = dict(zip(vocab["word"], vocab["count"]))
    assert rows["the"] == 5 and rows["river"] == 4 and rows["york"] == 4 and rows["bank"] == 3
    assert "zebra" not in rows
    assert vocab["count"] == sorted(vocab["count"], reverse=True)
    assert vocab.column_names == ["word", "count", "zipf"]
    assert all(z > 0 for z in vocab["zipf"])


def test_casing_policy_keeps_proper_nouns():
    vocab = build_vocab(SENTENCES, min_freq=2)
    words = set(vocab["word"])
    assert {"York", "Paris", "the", "river"} <= words  # sentence-initial "The" does not make "the" a name
    assert "york" not in words


def test_max_vocab_and_wordfreq_merge():
    assert len(build_vocab(SENTENCES, min_freq=1, max_vocab=3)) == 3
    vocab = build_vocab(SENTENCES, min_freq=2, wordfreq_top=500)
    rows = {w: (c, z) for w, c, z in zip(vocab["word"], vocab["count"], vocab["zipf"])}
    assert len(vocab) > 400
    assert rows["because"][0] == 0 and rows["because"][1] > 5  # merged from wordfreq, unseen in the corpus
    assert rows["York"][0] == 4


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [({"min_freq": 0}, "min_freq"), ({"max_vocab": 0}, "max_vocab"), ({"casing": "upper"}, "casing"),
     ({"wordfreq_top": -1}, "wordfreq_top")],
)  # fmt: skip
def test_bad_arguments(kwargs, name):
    with pytest.raises(ValueError, match=f"`{name}`"):
        build_vocab(SENTENCES, **kwargs)
