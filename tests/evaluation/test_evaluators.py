from __future__ import annotations

import csv
import math
import random

import pytest
import torch

from hf_tokenembed.data import perturb_word_order
from hf_tokenembed.evaluation import (
    ContextTypeRetrievalEvaluator,
    GeometryPreservationEvaluator,
    MWEGlossRetrievalEvaluator,
    OrderAwarenessEvaluator,
    SynonymRecallEvaluator,
    WiCEvaluator,
    WordSimilarityEvaluator,
    best_threshold,
    find_vocabulary_occurrences,
    load_word_similarity,
)

from .fakes import FakeEmbedder, hash_vector, unit

VOCAB = ["the", "big", "large", "cat", "dog", "sat", "York", "house", "home"]


# ------------------------------------------------------------------------------------------------ synonyms
def test_synonym_recall_perfect_and_crafted_failure():
    words, synonyms = ["big", "house", "cat"], ["large", "home", "kitty cat"]
    shared = {"big": unit(1), "large": unit(1), "house": unit(0, 1), "home": unit(0, 1), "cat": unit(0, 0, 1)}
    perfect = FakeEmbedder(words={**shared, "kitty cat": unit(0, 0, 1)})
    evaluator = SynonymRecallEvaluator(words, synonyms, VOCAB, k=1)
    # the query itself is excluded, the multi-word synonym is added to the candidates
    assert evaluator(perfect) == {"synonym_recall@1": 1.0, "synonym_pairs": 3.0}
    # "dog" sits exactly on "cat": with k=1 the synonym of "cat" loses, with k=2 it is found
    crafted = FakeEmbedder(words={**shared, "kitty cat": unit(0, 0, 1, 0.3), "dog": unit(0, 0, 1)})
    assert evaluator(crafted)["synonym_recall@1"] == pytest.approx(2 / 3)
    assert SynonymRecallEvaluator(words, synonyms, VOCAB, k=2)(crafted)["synonym_recall@2"] == 1.0


def test_synonym_recall_arguments():
    with pytest.raises(ValueError, match="`words` is empty"):
        SynonymRecallEvaluator([], [], VOCAB)
    with pytest.raises(ValueError, match="`k`"):
        SynonymRecallEvaluator(["big"], ["large"], VOCAB, k=0)
    with pytest.raises(ValueError, match="`synonyms`"):
        SynonymRecallEvaluator(["big", "cat"], ["large"], VOCAB)
    with pytest.raises(ValueError, match="differs"):
        SynonymRecallEvaluator(["US"], ["us"], VOCAB)


# ------------------------------------------------------------------------------------------------ context -> type
def test_vocabulary_occurrences_whole_words_and_casing():
    found = find_vocabulary_occurrences(["The cat sat in york.", "Cats sat."], VOCAB)
    assert [(s[a:b], form) for s, (a, b), form in found] == [
        ("The", "the"), ("cat", "cat"), ("sat", "sat"), ("york", "York"), ("sat", "sat"),
    ]  # fmt: skip


def test_context_type_perfect_and_crafted_failure(tmp_path):
    sentences = ["The big cat sat.", "A dog sat at home.", "York is large."]
    evaluator = ContextTypeRetrievalEvaluator(sentences, VOCAB, max_items=None, k=2, bands={})
    n = len(evaluator.items)
    assert n == 9
    perfect = FakeEmbedder()  # in-context vector = the word's type vector
    result = evaluator(perfect, output_path=str(tmp_path), epoch=1, steps=10)
    assert result == {"context_type_acc@1": 1.0, "context_type_acc@2": 1.0, "context_type_items": 9.0}
    # every occurrence of "sat" lands on "dog": acc@1 loses both "sat"s, acc@2 ("sat" second) keeps them
    crafted = FakeEmbedder(
        contexts={"sat": torch.nn.functional.normalize(hash_vector("dog") + 0.5 * hash_vector("sat"), dim=0)}
    )
    result = evaluator(crafted)
    assert result["context_type_acc@1"] == pytest.approx((n - 2) / n)
    with open(tmp_path / evaluator.csv_file, encoding="utf-8") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["epoch", "steps", "context_type_acc@1", "context_type_acc@2", "context_type_items"]
    assert rows[1][:3] == ["1", "10", "1.0"]


def test_context_type_by_frequency_band():
    """Each band of vocabulary rank gets its own sample and figure: a failure on a rarer word shows in its band."""
    sentences = ["The big cat sat.", "A dog sat at home.", "York is large."]
    bands = {"head": (0, 3), "tail": (3, None)}  # "the", "big", "large" | "cat", "dog", "sat", "York", ...
    evaluator = ContextTypeRetrievalEvaluator(sentences, VOCAB, max_items=None, k=2, bands=bands)
    assert evaluator.band_items["head"] == [o for o in evaluator.items if o[2] in ("the", "big", "large")]
    crafted = FakeEmbedder(
        contexts={"sat": torch.nn.functional.normalize(hash_vector("dog") + 0.5 * hash_vector("sat"), dim=0)}
    )
    result = evaluator(crafted)
    tail = len(evaluator.band_items["tail"])
    assert result["context_type_acc@1_head"] == 1.0 and result["context_type_items_head"] == 3
    assert result["context_type_acc@1_tail"] == pytest.approx((tail - 2) / tail)
    assert result["context_type_acc@1"] == pytest.approx((9 - 2) / 9)


def test_context_type_sampling_and_arguments():
    sentences = [f"The cat sat number {i}." for i in range(50)]
    a = ContextTypeRetrievalEvaluator(sentences, VOCAB, max_items=10, seed=1)
    b = ContextTypeRetrievalEvaluator(sentences, VOCAB, max_items=10, seed=1)
    assert len(a.items) == 10 and a.items == b.items
    with pytest.raises(ValueError, match="no word of `vocabulary`"):
        ContextTypeRetrievalEvaluator(["Zebras run."], VOCAB)
    with pytest.raises(ValueError, match="`max_items`"):
        ContextTypeRetrievalEvaluator(sentences, VOCAB, max_items=0)


# ------------------------------------------------------------------------------------------------ WiC
def test_best_threshold():
    threshold, accuracy = best_threshold([0.9, 0.8, 0.3, 0.1], [1, 1, 0, 0])
    assert threshold == pytest.approx(0.55) and accuracy == 1.0
    threshold, accuracy = best_threshold([0.9, 0.8, 0.3, 0.1], [0, 0, 1, 1])
    assert accuracy == 0.5  # predicting all one class is the best a ">= t" rule can do
    with pytest.raises(ValueError, match="`scores`"):
        best_threshold([], [])


def _wic_row(index: int, cosine: float, label: int) -> tuple[dict, dict]:
    s1, s2 = f"bank one {index}", f"bank two {index}"
    row = {"lemma": "bank", "pos": "n", "sentence1": s1, "start1": 0, "end1": 4, "sentence2": s2, "start2": 0,
           "end2": 4, "synset1": "bank.n.01", "synset2": "bank.n.01", "label": label}  # fmt: skip
    vectors = {(s1, (0, 4)): unit(1), (s2, (0, 4)): unit(cosine, math.sqrt(1 - cosine**2))}
    return row, vectors


def test_wic_threshold_is_chosen_on_dev_and_applied_to_test():
    contexts, dev, test = {}, [], []
    for i, (cos, label) in enumerate([(0.9, 1), (0.8, 1), (0.2, 0), (0.1, 0)]):
        row, vectors = _wic_row(i, cos, label)
        dev.append(row)
        contexts.update(vectors)
    for i, (cos, label) in enumerate([(0.6, 0), (0.45, 1), (0.95, 1), (0.05, 0)], start=10):
        row, vectors = _wic_row(i, cos, label)
        test.append(row)
        contexts.update(vectors)
    result = WiCEvaluator(dev, test)(FakeEmbedder(contexts=contexts))
    assert result["wic_threshold"] == pytest.approx(0.5)  # midway between dev's 0.2 and 0.8
    assert result["wic_dev_accuracy"] == 1.0
    # on test the dev threshold misjudges 0.6 (label 0) and 0.45 (label 1); a test-tuned one would not
    assert result["wic_accuracy"] == 0.5
    assert result["wic_majority_baseline"] == 0.5
    with pytest.raises(ValueError, match="`dev_rows` is empty"):
        WiCEvaluator([], test)
    with pytest.raises(ValueError, match="WiC columns"):
        WiCEvaluator([{"lemma": "x"}], test)
    assert result["wic_examples_accuracy"] == result["wic_accuracy"]  # every pair above is two example sentences


def test_wic_on_example_pairs_only_has_its_own_threshold():
    """A definition context ("bank: ...") makes a pair mixed; the example-only figure tunes and scores without it."""
    contexts, dev, test = {}, [], []
    for split, cosines in ((dev, [(0.9, 1), (0.3, 0)]), (test, [(0.8, 1), (0.35, 0)])):
        for cos, label in cosines:
            row, vectors = _wic_row(len(contexts), cos, label)
            split.append(row)
            contexts.update(vectors)
    definition = {"sentence2": "bank: sloping land", "start2": 0, "end2": 4}
    for split, (cos, label) in ((dev, (0.2, 1)), (test, (0.25, 1))):  # mixed pairs: same sense, low cosine
        row, vectors = _wic_row(len(contexts), cos, label)
        vectors[("bank: sloping land", (0, 4))] = vectors.pop((row["sentence2"], (0, 4)))
        split.append({**row, **definition})
        contexts.update(vectors)
    result = WiCEvaluator(dev, test)(FakeEmbedder(contexts=contexts))
    assert result["wic_examples_threshold"] == pytest.approx(0.6) and result["wic_examples_accuracy"] == 1.0
    assert result["wic_threshold"] < 0.3  # the mixed pair drags the overall threshold down
    assert result["wic_accuracy"] == pytest.approx(2 / 3)


# ------------------------------------------------------------------------------------------------ MWE <-> gloss
def test_mwe_gloss_perfect_and_crafted_failure():
    phrases = ["red herring", "hot dog", "ice cream"]
    glosses = ["a misleading clue", "a sausage in a bun", "a frozen dessert"]
    words = {p: unit(*([0] * i + [1])) for i, p in enumerate(phrases)}
    words.update({g: unit(*([0] * i + [1])) for i, g in enumerate(glosses)})
    evaluator = MWEGlossRetrievalEvaluator(phrases, glosses, k=1)
    assert evaluator(FakeEmbedder(words=words)) == {
        "mwe_gloss_recall@1": 1.0, "gloss_mwe_recall@1": 1.0, "mwe_gloss_pairs": 3.0,
    }  # fmt: skip
    words["a frozen dessert"] = unit(1, 0, 0.1)  # the dessert gloss now sits on "red herring"
    result = evaluator(FakeEmbedder(words=words))
    assert result["gloss_mwe_recall@1"] == pytest.approx(2 / 3)
    assert result["mwe_gloss_recall@1"] == 1.0  # each phrase still prefers its own gloss: the failure is one-way
    with pytest.raises(ValueError, match="`glosses`"):
        MWEGlossRetrievalEvaluator(phrases, glosses[:2])


# ------------------------------------------------------------------------------------------------ order
def test_order_probes_are_the_training_perturbation():
    """The evaluator probes with the training perturber: one swap first, then shuffles, final punctuation kept."""
    sentence = "the quick brown fox jumps over the dog."
    evaluator = OrderAwarenessEvaluator([sentence, "a a a a a", "too short"], n_copies=5, seed=3)
    assert len(evaluator.items) == 1  # no other order of "a a a a a"; "too short" has < 5 words
    _, copies = evaluator.items[0]
    assert copies == perturb_word_order(sentence, 5, random.Random(f"3:{sentence}"), swaps=1)
    assert sentence not in copies and all(c.endswith(".") and not c.endswith(" .") for c in copies)
    words, swap = sentence[:-1].split(), copies[0][:-1].split()
    assert sorted(swap) == sorted(words) and sum(a != b for a, b in zip(words, swap)) == 2


def test_order_awareness_margin_rule():
    sentences = ["one two three four five", "alpha beta gamma delta epsilon zeta", "too short"]

    def near(cos: float):
        """Every copy gets cosine `cos` with its original."""
        originals = {s: unit(1) for s in sentences}
        return FakeEmbedder(sentences=originals, sentence_fn=lambda s: unit(cos, math.sqrt(1 - cos**2)))

    evaluator = OrderAwarenessEvaluator(sentences, margin=0.01)
    assert len(evaluator.items) == 2  # "too short" is skipped
    result = evaluator(near(0.995))  # the original wins by 0.005 < margin: not retrieved
    assert result["order_awareness"] == 0.0
    assert result["order_cosine_gap"] == pytest.approx(0.005, abs=1e-5)
    assert evaluator(near(0.98))["order_awareness"] == 1.0
    assert OrderAwarenessEvaluator(sentences, margin=0.001)(near(0.995))["order_awareness"] == 1.0
    bag_of_words = FakeEmbedder(sentence_fn=lambda s: hash_vector(" ".join(sorted(s.split()))))
    result = evaluator(bag_of_words)
    assert result["order_awareness"] == 0.0 and result["order_cosine_gap"] == pytest.approx(0.0, abs=1e-6)
    with pytest.raises(ValueError, match="`min_words`"):
        OrderAwarenessEvaluator(["too short"])
    with pytest.raises(ValueError, match="`margin`"):
        OrderAwarenessEvaluator(sentences, margin=-0.1)


# ------------------------------------------------------------------------------------------------ geometry
def test_geometry_spearman_identical_and_cached_reference():
    sentences = [f"sentence number {i}" for i in range(30)]
    reference = FakeEmbedder()
    evaluator = GeometryPreservationEvaluator(sentences, reference=reference, max_pairs=100)
    assert len(evaluator.pairs) == 100
    assert evaluator(FakeEmbedder())["geometry_spearman"] == pytest.approx(1.0)
    other = FakeEmbedder(sentence_fn=lambda s: hash_vector(s + "!"))
    assert abs(evaluator(other)["geometry_spearman"]) < 0.5
    assert reference.calls["sentences"] == 1  # the reference's cosines are computed once
    with pytest.raises(ValueError, match="two distinct"):
        GeometryPreservationEvaluator(["same", "same"])
    with pytest.raises(ValueError, match="config.backbone"):
        GeometryPreservationEvaluator(sentences)(FakeEmbedder())


# ------------------------------------------------------------------------------------------------ word similarity
def test_word_similarity_follows_the_ranking_of_cosines():
    import math

    words1, words2, scores = ["cup", "car", "sun"], ["mug", "auto", "moon"], [9.0, 7.0, 2.0]
    anchor = unit(1.0)

    def at(angle: float):  # a unit vector at `angle` from `anchor`
        return unit(math.cos(angle), math.sin(angle))

    agreeing = {"cup": anchor, "mug": at(0.1), "car": anchor, "auto": at(0.5), "sun": anchor, "moon": at(1.2)}
    reversed_ = {"cup": anchor, "mug": at(1.2), "car": anchor, "auto": at(0.5), "sun": anchor, "moon": at(0.1)}
    evaluator = WordSimilarityEvaluator(words1, words2, scores, name="toy")
    assert evaluator(FakeEmbedder(words=agreeing)) == {"toy_spearman": 1.0, "toy_pairs": 3.0}
    assert evaluator(FakeEmbedder(words=reversed_))["toy_spearman"] == -1.0
    with pytest.raises(ValueError, match="differ in length"):
        WordSimilarityEvaluator(words1, words2[:2], scores)


def test_packaged_word_similarity_sets():
    pytest.importorskip("gensim")
    simlex = load_word_similarity("simlex999")
    assert len(simlex) == 999 and simlex[0] == ("old", "new", 1.58)
    assert len(load_word_similarity("wordsim353")) == 353
    with pytest.raises(ValueError, match="`name`"):
        load_word_similarity("men")


# ------------------------------------------------------------------------------------------------ reconstruction
def test_reconstruction_scores_reward_the_right_text_and_move_with_it():
    from hf_tokenembed.evaluation import reconstruction_scores
    from hf_tokenembed.evaluation.metrics.text_reconstruction.text_reconstruction import token_f1

    references = ["The cat sat on the mat.", "Shares rose 5% on Monday."]
    oracle = reconstruction_scores(references, references)
    assert oracle == {"token_f1": 1.0, "bleu": pytest.approx(100.0), "exact_match": 1.0, "rouge_l": 1.0}
    shuffled = reconstruction_scores(["the mat sat on the cat.", "Monday shares on rose 5%."], references)
    assert shuffled["token_f1"] == 1.0 and shuffled["exact_match"] == 0.0  # a bag of words: same words
    assert shuffled["bleu"] < 50 and shuffled["rouge_l"] < 1.0  # ...in the wrong order
    assert token_f1("a b c", "a b d") == pytest.approx(2 / 3) and token_f1("", "") == 1.0
    embedder = FakeEmbedder(sentences={references[0]: unit(1), "something else": unit(0, 1)})
    close = reconstruction_scores(
        ["The cat sat on the mat.", ""], references, embedder, torch.stack([unit(1), unit(1)])
    )
    assert close["cosine"] == pytest.approx(0.5)  # 1 for the right text, 0 for the empty one
    with pytest.raises(ValueError, match="`predictions`"):
        reconstruction_scores(["one"], references)


class _LookupReconstructor:
    """Hands back, for each target vector, the known text whose vector it is, passed through `edit`."""

    def __init__(self, embedder, texts, edit=lambda text: text):
        self.embedder, self.texts, self.edit = embedder, list(texts), edit
        self.vectors = embedder.encode_sentences(self.texts)

    def reconstruct(self, vectors, **options):
        nearest = (torch.nn.functional.normalize(vectors, dim=-1) @ self.vectors.T).argmax(-1)
        return [{"text": self.edit(self.texts[i])} for i in nearest.tolist()]


def test_evaluate_reconstruction_scores_each_system_in_each_bucket():
    """The oracle (the reference itself) scores at the top in every bucket, a reversed word order keeps token F1 and
    loses BLEU and exact match, an empty text scores 0; each bucket holds only its own lengths."""
    from hf_tokenembed.evaluation import BUCKETS, bucket_sentences, evaluate_reconstruction

    texts = [" ".join(f"w{i}x{j}" for j in range(n)) + "." for i, n in enumerate([3, 7, 9, 12, 15, 19, 22, 30, 38])]
    sentences = bucket_sentences(texts, 2, seed=0)
    assert all(low <= len(t.split()) <= high for b, (low, high) in BUCKETS.items() for t in sentences[b])
    assert all(len(sentences[b]) == 2 for b in BUCKETS)
    embedder = FakeEmbedder()
    systems = {"oracle": {}, "reversed": {}, "empty": {}}
    edits = {"oracle": lambda t: t, "reversed": lambda t: " ".join(t.split()[::-1]), "empty": lambda t: ""}
    results = {}
    for name, edit in edits.items():
        reconstructor = _LookupReconstructor(embedder, texts, edit)
        results[name] = evaluate_reconstruction(reconstructor, sentences, {name: systems[name]}, progress=False)[name]
    for bucket in BUCKETS:
        oracle, reversed_, empty = (results[name][bucket] for name in edits)
        assert oracle["token_f1"] == oracle["exact_match"] == oracle["rouge_l"] == 1.0
        assert oracle["bleu"] == pytest.approx(100.0) and oracle["cosine"] == pytest.approx(1.0)
        assert reversed_["token_f1"] == 1.0 and reversed_["exact_match"] == 0.0 and reversed_["bleu"] < 50
        assert empty["token_f1"] == empty["cosine"] == 0.0
        assert oracle["seconds"] >= 0


def test_raw_encoder_is_the_encoder_alone(tiny_backbone, tiny_model):
    from sentence_transformers import SentenceTransformer

    from hf_tokenembed.evaluation import raw_backbone, raw_encoder

    raw = raw_encoder(tiny_backbone)
    assert raw.head is None and raw.config.lora_layers == 0
    texts = ["The bank raised its rates.", "a river bank"]
    expected = SentenceTransformer(tiny_backbone, device="cpu").encode(texts, convert_to_tensor=True)
    torch.testing.assert_close(raw.encode_sentences(texts), torch.nn.functional.normalize(expected, dim=-1))
    torch.testing.assert_close(raw.encode_words(texts), raw.encode_sentences(texts))  # no head: one space
    torch.testing.assert_close(raw_backbone(tiny_model).encode_sentences(texts), raw.encode_sentences(texts))
