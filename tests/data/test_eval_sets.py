from __future__ import annotations

import datasets
import pytest
from data_helpers import requires_wordnet

from hf_tokenembed.data import (
    build_mwe_gloss_pairs,
    build_reconstruction_set,
    build_synonym_pairs,
    build_wic_pairs,
    lemma_split,
)

LEMMAS = ["bank", "plant", "bass", "table", "light", "line", "run", "play", "break", "cut", "head", "court", "key",
          "spring", "match", "pitch", "state", "party", "charge", "order", "board", "field", "note", "point"]  # fmt: skip


def test_lemma_split_is_stable_and_two_way():
    assert {lemma_split(w) for w in LEMMAS} == {"dev", "test"}
    assert lemma_split("Bank") == lemma_split("bank")


@requires_wordnet
def test_wic_pairs(wn):
    wic = build_wic_pairs(wn, LEMMAS, max_pairs_per_lemma=6)
    assert set(wic) == {"dev", "test"}
    assert not set(wic["dev"]["lemma"]) & set(wic["test"]["lemma"])
    rows = [row for split in wic.values() for row in split]
    labels = [row["label"] for row in rows]
    assert len(rows) > 100 and labels.count(1) == labels.count(0)
    for row in rows:
        for i in ("1", "2"):
            assert row[f"sentence{i}"][row[f"start{i}"] : row[f"end{i}"]].lower() == row["lemma"]
        assert row["label"] == int(row["synset1"] == row["synset2"])
        s1, s2 = wn.reader.synset(row["synset1"]), wn.reader.synset(row["synset2"])
        if not row["label"]:
            assert not wn.too_close(s1, s2)
        assert {s1.pos(), s2.pos()} <= ({"a", "s"} if row["pos"] == "a" else {row["pos"]})
    assert wic["dev"].features["label"].dtype == "int8"
    again = build_wic_pairs(wn, LEMMAS, max_pairs_per_lemma=6)
    assert again["test"]["sentence2"] == wic["test"]["sentence2"]  # deterministic


@requires_wordnet
def test_synonym_and_mwe_gloss_pairs(wn):
    syn = build_synonym_pairs(wn, ["car", "auto", "bank", "happy"], known=["car", "auto", "automobile", "glad"])
    rows = [row for split in syn.values() for row in split]
    pairs = {(r["word"], r["synonym"], r["pos"]) for r in rows}
    assert ("car", "automobile", "n") in pairs and ("happy", "glad", "a") in pairs
    assert not ({("car", "auto", "n"), ("auto", "car", "n")} <= pairs)  # each unordered pair once
    mg = build_mwe_gloss_pairs(wn, ["red herring", "prime minister", "bank", "not a wordnet phrase"])
    rows = [row for split in mg.values() for row in split]
    assert {r["phrase"] for r in rows} == {"red herring", "prime minister"}
    assert any(r["synset"] == "red_herring.n.01" and "distract" in r["gloss"] for r in rows)


def test_reconstruction_set():
    corpus = datasets.DatasetDict({
        "train": datasets.Dataset.from_dict({"text": ["train only sentence here"]}),
        "dev": datasets.Dataset.from_dict({"text": ["a dev sentence", "w " * 40]}),
        "test": datasets.Dataset.from_dict({"text": ["a test sentence"]}),
    })  # fmt: skip
    rec = build_reconstruction_set(corpus)
    assert rec["dev"]["text"] == ["a dev sentence"] and rec["test"]["text"] == ["a test sentence"]
    with pytest.raises(KeyError):
        build_reconstruction_set(datasets.DatasetDict({"train": corpus["train"]}))
