"""The n-gram language model over entry ids: ordering, the chain rule, normalisation, perplexity, persistence and
bad input, on a tiny hand-made corpus (none of the conftest's trained fixtures)."""

from __future__ import annotations

import json
import math
import random

import numpy as np
import pytest

from hf_tokenembed.controller.ngram import NgramLanguageModel

END = NgramLanguageModel.END
# "the cat sat on the mat", "the dog sat on the rug", "a cat ran", "the dog ran on the mat", "a dog sat"
THE, CAT, SAT, ON, MAT, DOG, RUG, A, RAN = range(9)
CORPUS = [
    [THE, CAT, SAT, ON, THE, MAT],
    [THE, DOG, SAT, ON, THE, RUG],
    [A, CAT, RAN],
    [THE, DOG, RAN, ON, THE, MAT],
    [A, DOG, SAT],
]
VOCAB = sorted({i for sentence in CORPUS for i in sentence})
UNSEEN = 1000


@pytest.fixture(scope="module", params=[1, 2, 3, 4])
def lm(request) -> NgramLanguageModel:
    return NgramLanguageModel.fit(CORPUS, order=request.param)


@pytest.fixture(scope="module")
def trigram() -> NgramLanguageModel:
    return NgramLanguageModel.fit(CORPUS, order=3)


def test_prefers_a_seen_order_to_its_reverse(trigram):
    for sentence in CORPUS:
        assert trigram.sequence_logprob(sentence) > trigram.sequence_logprob(sentence[::-1]) + 1.0
    assert trigram.sequence_logprob([THE, CAT, SAT]) > trigram.sequence_logprob([SAT, CAT, THE])
    # an unfinished prefix is likelier than the same words as a whole sentence
    assert trigram.sequence_logprob([THE, CAT], complete=False) > trigram.sequence_logprob([THE, CAT])


def test_next_logprobs_follow_the_chain_rule(lm):
    sentence = [THE, DOG, SAT, ON, A, UNSEEN, MAT]
    for i in range(len(sentence) + 1):
        prefix = sentence[:i]
        candidates = [*VOCAB, END, UNSEEN]
        got = lm.next_logprobs(prefix, candidates)
        assert got.shape == (len(candidates),) and got.dtype == np.float64
        expected = [lm.sequence_logprob([*prefix, c], complete=False) for c in VOCAB]
        expected += [lm.sequence_logprob(prefix), lm.sequence_logprob([*prefix, UNSEEN], complete=False)]
        base = lm.sequence_logprob(prefix, complete=False)
        np.testing.assert_allclose(got, np.array(expected) - base, rtol=0, atol=1e-9)
    assert lm.sequence_logprob([], complete=False) == 0.0


@pytest.mark.parametrize("context", [[], [THE], [THE, CAT], [ON, THE], [CAT, THE, RUG], [UNSEEN], [SAT, UNSEEN]])
def test_next_probabilities_sum_to_one(lm, context):
    """Witten-Bell is normalised: every seen id, the end and the unseen-id class (NLTK's <UNK>) share mass 1."""
    probs = np.exp(lm.next_logprobs(context, [*VOCAB, END, UNSEEN]))
    assert np.all(probs > 0)
    assert math.isclose(probs.sum(), 1.0, rel_tol=0, abs_tol=1e-9)
    assert probs[:-1].sum() > 0.9  # <UNK> gets a small share


def test_an_unseen_id_gets_a_finite_low_logprob(trigram):
    for context in ([], [THE], [THE, CAT], [UNSEEN, UNSEEN]):
        scores = trigram.next_logprobs(context, [UNSEEN, UNSEEN + 1, *VOCAB])
        assert np.all(np.isfinite(scores))
        assert scores[0] == scores[1]  # all unseen ids are NLTK's <UNK>
        assert scores[0] < scores[2:].min()  # below any id seen after a seen word
    assert math.isfinite(trigram.sequence_logprob([UNSEEN, THE, UNSEEN + 7]))
    assert math.isfinite(trigram.perplexity([[UNSEEN, UNSEEN + 1]]))


def test_training_perplexity_is_below_that_of_shuffled_sentences(trigram):
    rng = random.Random(0)
    shuffled = []
    for sentence in CORPUS:
        words = list(sentence)
        while words == sentence:
            rng.shuffle(words)
        shuffled.append(words)
    trained = trigram.perplexity(CORPUS)
    assert 1.0 < trained < trigram.perplexity(shuffled)
    total = sum(trigram.sequence_logprob(s) for s in CORPUS)  # end of sentence counted as a token
    assert math.isclose(trained, math.exp(-total / sum(len(s) + 1 for s in CORPUS)), rel_tol=1e-12)


def test_repeated_queries_are_cached(trigram):
    trigram.next_logprobs([A, DOG], [SAT, RAN, END])
    hits = trigram._logprob.cache_info().hits
    again = trigram.next_logprobs([THE, A, DOG], [SAT, RAN, END])  # same last two ids: the same n-gram context
    assert trigram._logprob.cache_info().hits == hits + 3
    np.testing.assert_array_equal(again, trigram.next_logprobs([A, DOG], [SAT, RAN, END]))


def test_unseen_contexts_leave_the_counts_alone(trigram):
    """NLTK stores an empty entry for each unseen context it is asked about; the model backs off before asking."""
    sizes = [len(trigram._model.counts[k]) for k in (2, 3)]
    for first in range(20, 60):
        trigram.next_logprobs([first, first + 1], [THE, END])
        trigram.next_logprobs([MAT, first], [THE])
    assert [len(trigram._model.counts[k]) for k in (2, 3)] == sizes


def test_ids_may_be_numpy_integers(trigram):
    plain = trigram.next_logprobs([THE, DOG], [SAT, END])
    np.testing.assert_array_equal(plain, trigram.next_logprobs(np.array([THE, DOG]), np.array([SAT, END])))


# ---------------------------------------------------------------------- persistence
def test_save_load_round_trip_gives_identical_scores(lm, tmp_path):
    lm.save(tmp_path / "lm")
    loaded = NgramLanguageModel.load(tmp_path / "lm")
    assert loaded.order == lm.order
    probes = [*CORPUS, [s[::-1] for s in CORPUS][0], [THE, UNSEEN, MAT], []]
    for sentence in probes:
        assert loaded.sequence_logprob(sentence) == lm.sequence_logprob(sentence)
    for context in ([], [THE], [ON, THE], [UNSEEN, RAN]):
        candidates = [*VOCAB, END, UNSEEN]
        np.testing.assert_array_equal(loaded.next_logprobs(context, candidates), lm.next_logprobs(context, candidates))
    assert loaded.perplexity(CORPUS) == lm.perplexity(CORPUS)
    loaded.save(tmp_path / "again")  # the same counts, the same bytes
    saved = [(tmp_path / name / "ngrams.safetensors").read_bytes() for name in ("lm", "again")]
    assert saved[0] == saved[1]


def test_save_replaces_a_previous_model(tmp_path):
    NgramLanguageModel.fit(CORPUS, order=2).save(tmp_path / "lm")
    NgramLanguageModel.fit(CORPUS, order=3).save(tmp_path / "lm")
    assert NgramLanguageModel.load(tmp_path / "lm").order == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lm"]  # no staging folder left


def test_a_flipped_byte_is_a_clear_error(trigram, tmp_path):
    trigram.save(tmp_path / "lm")
    arrays = tmp_path / "lm" / "ngrams.safetensors"
    data = bytearray(arrays.read_bytes())
    data[len(data) // 2] ^= 0x01
    arrays.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=r"ngrams\.safetensors does not match its checksum in ngram_lm\.json"):
        NgramLanguageModel.load(tmp_path / "lm")


def test_damaged_or_missing_files_are_clear_errors(trigram, tmp_path):
    folder = tmp_path / "lm"
    with pytest.raises(FileNotFoundError, match="no ngram_lm.json"):
        NgramLanguageModel.load(folder)
    trigram.save(folder)
    meta = json.loads((folder / "ngram_lm.json").read_text())

    (folder / "ngrams.safetensors").rename(tmp_path / "aside")
    with pytest.raises(FileNotFoundError, match="missing ngrams.safetensors"):
        NgramLanguageModel.load(folder)

    (tmp_path / "aside").write_bytes(b"not a safetensors file")  # damaged, but with a matching checksum
    (tmp_path / "aside").rename(folder / "ngrams.safetensors")
    from hf_tokenembed.atomic import sha256_file

    meta["sha256"]["ngrams.safetensors"] = sha256_file(folder / "ngrams.safetensors")
    (folder / "ngram_lm.json").write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="not a readable safetensors file"):
        NgramLanguageModel.load(folder)

    (folder / "ngram_lm.json").write_text('{"format_version": 1, "order"')
    with pytest.raises(ValueError, match="not valid JSON"):
        NgramLanguageModel.load(folder)
    (folder / "ngram_lm.json").write_text(json.dumps({**meta, "format_version": 99}))
    with pytest.raises(ValueError, match="unsupported format_version 99"):
        NgramLanguageModel.load(folder)
    (folder / "ngram_lm.json").write_text(json.dumps({**meta, "order": 0}))
    with pytest.raises(ValueError, match="`order` must be an int >= 1"):
        NgramLanguageModel.load(folder)


def test_arrays_of_another_order_are_a_clear_error(tmp_path):
    NgramLanguageModel.fit(CORPUS, order=2).save(tmp_path / "lm")
    meta_path = tmp_path / "lm" / "ngram_lm.json"
    meta_path.write_text(json.dumps({**json.loads(meta_path.read_text()), "order": 3}))
    with pytest.raises(ValueError, match="order-3 arrays are missing or inconsistent"):
        NgramLanguageModel.load(tmp_path / "lm")


# ---------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    ("order", "error", "message"),
    [(0, ValueError, ">= 1"), (-2, ValueError, ">= 1"), (2.0, TypeError, "int"), ("3", TypeError, "int"),
     (True, TypeError, "int"), (None, TypeError, "int")],
)  # fmt: skip
def test_a_bad_order_is_rejected(order, error, message):
    with pytest.raises(error, match=f"`order` must be.*{message}"):
        NgramLanguageModel.fit(CORPUS, order=order)
    with pytest.raises(error, match="`order`"):
        NgramLanguageModel(order)


@pytest.mark.parametrize(
    ("sequences", "error", "message"),
    [([], ValueError, r"`sequences` is empty"), (iter([]), ValueError, r"`sequences` is empty"),
     ("1 2 3", TypeError, r"`sequences` must be"), ([[1, 2], [3, "4"]], TypeError, r"`sequences\[1\]` holds '4'"),
     ([[1.0, 2]], TypeError, r"`sequences\[0\]` holds 1.0"), ([[True]], TypeError, r"`sequences\[0\]` holds a bool"),
     ([[1, -1]], ValueError, r"`sequences\[0\]` holds -1: ids must be >= 0"), ([5], TypeError, r"`sequences\[0\]`")],
)  # fmt: skip
def test_bad_sequences_are_rejected(sequences, error, message):
    with pytest.raises(error, match=message):
        NgramLanguageModel.fit(sequences)


def test_bad_queries_are_rejected(trigram):
    with pytest.raises(TypeError, match=r"`ids` holds 2.5"):
        trigram.sequence_logprob([THE, 2.5])
    with pytest.raises(ValueError, match=r"`ids` holds -1"):  # END is not a word of a sequence
        trigram.sequence_logprob([THE, END])
    with pytest.raises(TypeError, match=r"`context` holds 'the'"):
        trigram.next_logprobs(["the"], [CAT])
    with pytest.raises(TypeError, match=r"`candidates` must be a sequence of int ids"):
        trigram.next_logprobs([THE], 3)
    with pytest.raises(ValueError, match=r"`candidates` holds -5: ids must be >= 0 \(or NgramLanguageModel.END"):
        trigram.next_logprobs([THE], [CAT, -5])
    with pytest.raises(ValueError, match=r"`sequences` is empty"):
        trigram.perplexity([])
    with pytest.raises(TypeError, match=r"`sequences\[0\]` holds None"):
        trigram.perplexity([[None]])


def test_an_unfitted_model_says_so(tmp_path):
    lm = NgramLanguageModel(2)
    with pytest.raises(ValueError, match="not fitted"):
        lm.next_logprobs([], [THE])
    with pytest.raises(ValueError, match="not fitted"):
        lm.save(tmp_path / "lm")
    assert not (tmp_path / "lm").exists()
