"""The sense metric can see: an oracle scores 1.0, a blind model scores the random baseline, models differ."""

from __future__ import annotations

import pytest
import torch

from hf_tokenembed.data import gloss_context
from hf_tokenembed.evaluation import SenseRetrievalEvaluator, score_senses, sense_queries, sense_rows
from hf_tokenembed.index import encode_sense_sources

from .fakes import FakeEmbedder, hash_vector, unit


def _row(synset, lexname, gloss, examples, synonyms=(), hypernym_gloss="", word="bank", pos="n"):
    spans = [[e.index(word), e.index(word) + len(word)] for e in examples]
    return {"word": word, "synset": synset, "pos": pos, "lexname": lexname, "gloss": gloss, "examples": examples,
            "spans": spans, "synonyms": list(synonyms), "hypernym_gloss": hypernym_gloss}  # fmt: skip


TABLE = [
    _row("bank.n.01", "noun.object", "sloping land beside water",
         ["they pulled the canoe up on the bank", "he sat on the bank of the river"], (), "a natural formation"),
    _row("bank.n.02", "noun.group", "a financial institution",
         ["he cashed a check at the bank", "that bank holds the mortgage"], ["depository"], "an institution"),
    _row("bank.n.03", "noun.group", "the funds of a gambling house", ["he tried to break the bank"]),
    _row("bank.v.01", "verb.motion", "tip laterally", ["the pilot had to bank the aircraft"], pos="v"),
    _row("cat.n.01", "noun.animal", "a feline", ["the cat purred"], word="cat"),
    _row("bank.n.01", "noun.object", "sloping land beside water", [], word="Bank"),  # a cased duplicate
]  # fmt: skip


def oracle(rows=TABLE) -> FakeEmbedder:
    """Handed the gold sense: every text made from a sense row points along that sense's own axis."""
    axes = {row["synset"]: unit(*([0] * i + [1])) for i, row in enumerate(rows)}
    contexts, words = {}, {}
    for row in rows:
        axis = axes[row["synset"]]
        for example, span in zip(row["examples"], row["spans"]):
            contexts[(example, tuple(span))] = axis
        for definition in (row["gloss"], row["hypernym_gloss"]):
            if definition:
                text, span = gloss_context(row["word"], definition)
                contexts[(text, span)] = axis
        words.update({text: axis for text in [row["gloss"], *row["synonyms"]]})
    return FakeEmbedder(words=words, contexts=contexts)


def test_queries_are_examples_one_per_sense_and_sentence():
    rows = sense_rows(TABLE, ["bank"])
    assert [r["synset"] for r in rows] == ["bank.n.01", "bank.n.02", "bank.n.03", "bank.v.01"]  # "Bank" merged
    queries = sense_queries(rows)
    assert len(queries) == 6 and {q["lexname"] for q in queries} == {"noun.object", "noun.group", "verb.motion"}
    assert all(not q["sentence"].startswith("bank: ") for q in queries)  # never a definition context


def test_oracle_scores_one_and_the_verb_is_not_scored():
    result = score_senses(oracle(), TABLE, ["bank", "cat"])
    assert result["fine_accuracy"] == result["coarse_accuracy"] == 1.0
    # bank.v.01 and cat.n.01 are the only senses of their lemma and part of speech: not scored
    assert result["num_queries"] == 7 and result["num_scored"] == 5 and result["coverage"] == pytest.approx(5 / 7)
    assert result["mean_candidates"] == 3
    # coarse: the queries of bank.n.02 / n.03 may confuse the two noun.group senses
    assert result["fine_random"] == pytest.approx(1 / 3)
    assert result["coarse_random"] == pytest.approx((2 * (1 / 3) + 3 * (2 / 3)) / 5)
    assert result["fine_first_sense"] == pytest.approx(2 / 5) and result["coarse_first_sense"] == pytest.approx(2 / 5)


def test_blind_model_scores_the_random_baseline_not_the_first_sense():
    same = unit(1)
    blind = FakeEmbedder(contexts={"bank": same}, words={text: same for row in TABLE for text in [row["gloss"],
                         *row["synonyms"]]})  # fmt: skip
    result = score_senses(blind, TABLE, ["bank"])
    # every candidate ties: each counts 1/n, so the figure is the random baseline exactly
    assert result["fine_accuracy"] == pytest.approx(result["fine_random"])
    assert result["coarse_accuracy"] == pytest.approx(result["coarse_random"])
    assert result["fine_accuracy"] != pytest.approx(result["fine_first_sense"])


def test_two_models_get_different_figures():
    noisy_contexts = {key: torch.nn.functional.normalize(v + 0.5 * hash_vector(key[0]), dim=0)
                      for key, v in oracle().contexts.items()}  # fmt: skip
    noisy = FakeEmbedder(words=oracle().words, contexts=noisy_contexts)
    scores = [score_senses(model, TABLE, ["bank"])["fine_accuracy"] for model in (oracle(), noisy, FakeEmbedder())]
    assert scores[0] == 1.0 and len(set(scores)) == 3


def test_the_query_is_left_out_of_its_own_sense():
    """bank.n.03 has one example, the query: left in, it would win; left out, the two candidates tie (1/2)."""
    rows = [_row("bank.n.02", "noun.group", "money", ["a check at the bank"]),
            _row("bank.n.03", "noun.group", "funds", ["to break the bank"])]  # fmt: skip
    side = unit(0, 1)  # every other part of both senses
    model = FakeEmbedder(
        words={"money": side, "funds": side},
        contexts={("bank: money", (0, 4)): side, ("bank: funds", (0, 4)): side,
                  ("a check at the bank", (15, 19)): unit(0, 0, 1), ("to break the bank", (13, 17)): unit(1)},
    )  # fmt: skip
    result = score_senses(model, rows, ["bank"], sources=("examples", "gloss_context", "gloss_text"))
    assert result["num_scored"] == 2 and result["fine_accuracy"] == pytest.approx(0.5)
    parts = encode_sense_sources(model, rows)
    kept, _ = parts.combine([1])
    left_out, found = parts.combine([1], leave_out="to break the bank")
    assert found.all() and parts.num_examples(1) == 1 and parts.num_examples(1, "to break the bank") == 0
    assert torch.dot(kept[0], unit(1)) > 0.4 and torch.dot(left_out[0], unit(1)).abs() < 1e-6


def test_evaluator_keys_and_arguments():
    result = SenseRetrievalEvaluator(TABLE, ["bank"])(oracle())
    assert result["sense_fine_accuracy"] == result["sense_coarse_accuracy"] == 1.0
    assert result["sense_items"] == 5 and result["sense_fine_random"] == pytest.approx(1 / 3)
    with pytest.raises(ValueError, match="`lemmas` is empty"):
        SenseRetrievalEvaluator(TABLE, [])
    with pytest.raises(TypeError, match="`lemmas`"):
        SenseRetrievalEvaluator(TABLE, "bank")
    with pytest.raises(ValueError, match="no WordNet example"):
        SenseRetrievalEvaluator(TABLE, ["river"])
    with pytest.raises(ValueError, match="sources"):
        encode_sense_sources(oracle(), TABLE, sources=("definitions",))
