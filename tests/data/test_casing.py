"""Truecasing from context: `CasingModel` fit on a tiny hand-made corpus."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from hf_tokenembed.data.casing import CasingModel

CORPUS = [
    "He moved to New York last year .",
    "The office in New York is closed .",
    "She flew from New York to London .",
    "They have a new plan for the city .",
    "It was a new idea .",
    "We bought a new car in London .",
    "The new rules start today .",
    "He met President Bush in London .",
    "A letter from President Bush arrived .",
    "The president spoke .",
    "The bird sat in a small bush .",
    "A rabbit hid under the bush .",
    "Bush said he would stay .",
    '" The plan is dead , " he said .',
    "Prices rose 5 @.@ 5 % in 2004 , analysts said .",
    "She likes reading books .",
    "He grew up in Reading",  # "Reading" only ends a sentence: one follower, the end
]
SENTENCES = [line.split(" ") for line in CORPUS]


@pytest.fixture(scope="module")
def model() -> CasingModel:
    return CasingModel.fit(SENTENCES)


def recase(model: CasingModel, text: str) -> str:
    return " ".join(model.recase(text.split(" ")))


def test_new_york_is_a_name_while_a_new_plan_stays_lowercase(model):
    assert recase(model, "he moved to new york .") == "He moved to New York ."
    assert recase(model, "they have a new plan .") == "They have a new plan ."
    assert recase(model, "she saw a new plan in new york") == "She saw a new plan in New York"


def test_a_name_after_a_title_word_but_not_after_an_adjective(model):
    assert recase(model, "he met president bush .") == "He met President Bush ."
    assert recase(model, "the bird sat in a small bush .") == "The bird sat in a small bush ."
    assert recase(model, "the president spoke .") == "The president spoke ."
    assert recase(model, "she likes reading in reading .") == "She likes reading in Reading ."


def test_the_first_word_is_capitalised_and_is_no_evidence(model):
    # "The" begins four corpus sentences and "the" is mid-sentence twice: only the latter is evidence.
    assert recase(model, "they have a plan for the city") == "They have a plan for the city"
    assert recase(model, "the plan") == "The plan"
    assert recase(model, "london rose") == "London rose"
    assert recase(model, '" the plan , " he said .') == '" The plan , " he said .'  # the first word, not the quote
    # "Bush said" begins a sentence: no evidence for "Bush", so "bush" stays as often cased as lowercase.
    assert CasingModel.fit(SENTENCES[12:13]).to_dict()["counts"] == {}


def test_a_pair_seen_once_does_not_outweigh_the_lowercase_forms():
    # "Dead Man" once, in a title; "dead" and "man" each lowercase elsewhere: the discounted singleton loses (a
    # plain 0.9 / 0.1 interpolation of the bigram and unigram shares gives "a Dead Man").
    corpus = [
        "He starred in Dead Man Walking .",
        "They found a dead bird .",
        "It was a dead end .",
        "Police said the dead were buried .",
        "Then the man left .",
        "He saw a man run .",
        "Then a man came .",
        *(f"She had a {noun} ." for noun in ["plan", "car", "house", "dog", "cat", "tree", "road", "book"]),
    ]
    model = CasingModel.fit([line.split(" ") for line in corpus])
    assert recase(model, "they saw a dead man") == "They saw a dead man"
    assert recase(model, "he starred in dead man walking") == "He starred in Dead Man Walking"


def test_a_tie_without_context_goes_to_the_lowercase_form(model):
    # "Bush" and "bush" are both seen twice mid-sentence, and nothing is known about "saw".
    assert recase(model, "they saw bush") == "They saw bush"
    assert recase(model, "they saw president bush") == "They saw President Bush"


def test_punctuation_and_numbers_are_returned_as_given(model):
    tokens = ["prices", "rose", "5", "@.@", "5", "%", "in", "2004", ",", "analysts", "said", "."]
    assert model.recase(tokens) == ["Prices", *tokens[1:]]
    assert model.recase(["2004", "was", "a", "new", "year"]) == ["2004", "was", "a", "new", "year"]
    assert model.recase([",", "@-@", "!"]) == [",", "@-@", "!"]
    assert model.recase([]) == []


def test_an_unseen_token_is_returned_as_given(model):
    assert model.recase(["he", "met", "zaphod", "in", "london"]) == ["He", "met", "zaphod", "in", "London"]
    assert model.recase(["he", "met", "ZaPhOd"]) == ["He", "met", "ZaPhOd"]


def test_min_count_drops_rare_forms_and_bigrams():
    rare = CasingModel.fit(SENTENCES, min_count=3)
    assert recase(rare, "he met president bush in london") == "He met president bush in London"  # London: 3
    assert recase(rare, "he moved to new york") == "He moved to New York"  # "New York" is seen three times


def test_to_dict_keeps_only_what_decisions_need(model):
    values = model.to_dict()
    assert values["total"] == sum(len(s) - 1 for s in SENTENCES)  # every token but the first words
    assert values["counts"]["York"] == 3 and values["counts"]["New"] == 3 and values["counts"]["new"] == 4
    assert values["bigrams"]["New"] == {"York": 3}
    assert values["bigrams"]["President"] == {"Bush": 2}
    assert "york" not in values["counts"]  # never written lowercase
    assert "rabbit" not in values["counts"] and "hid" not in values["bigrams"]  # no neighbour with several forms
    assert values["followers"]["new"] == 4 and values["followers"]["bush"] == 1  # "bush ." twice
    assert values["followers"]["Reading"] == 1 and "Reading" not in values["bigrams"]  # the sentence's end


def full_model(sentences: list[list[str]]) -> CasingModel:
    """Every form, bigram and follower count, nothing pruned."""
    unigrams: Counter[str] = Counter()
    pairs: Counter[tuple[str, str]] = Counter()
    for sentence in sentences:
        first = next(i for i, token in enumerate(sentence) if any(ch.isalnum() for ch in token))
        for part in (sentence[:first], sentence[first + 1 :]):
            unigrams.update(part)
            pairs.update(zip(part, part[1:]))
    bigrams: dict[str, dict[str, int]] = {}
    for (prev, form), count in pairs.items():
        bigrams.setdefault(prev, {})[form] = count
    followers = {
        form: len(bigrams.get(form, {})) + (sum(bigrams.get(form, {}).values()) < count)
        for form, count in unigrams.items()
    }
    return CasingModel(dict(unigrams), bigrams, followers, sum(unigrams.values()))


SAMPLE = [line.lower() for line in CORPUS] + [
    "he met president bush in new york .",
    "a new president in london",
    "the bush in new york is small",
    "a rabbit from new york met the president",
    "they said the plan was dead",
    "he grew up in reading",
    "he grew up in reading books",
    "she likes reading in reading .",
]


def test_the_pruned_model_chooses_as_the_full_model(model):
    full = full_model(SENTENCES)
    assert len(full.to_dict()["counts"]) > len(model.to_dict()["counts"])
    for text in SAMPLE:
        assert recase(model, text) == recase(full, text), text


def test_to_dict_from_dict_round_trip_through_json(model):
    values = json.loads(json.dumps(model.to_dict()))
    loaded = CasingModel.from_dict(values)
    assert loaded.to_dict() == model.to_dict()
    for text in SAMPLE:
        assert recase(loaded, text) == recase(model, text), text


@pytest.mark.parametrize(
    ("sentences", "message"),
    [
        (5, "`sentences` must be an iterable"),
        ("he said", "`sentences` must be an iterable"),
        (["he said ."], "`sentences` must be a sequence of string tokens"),
        ([["he", 5]], "`sentences` must hold only string tokens"),
    ],
)
def test_fit_rejects_bad_sentences(sentences, message):
    with pytest.raises(TypeError, match=message):
        CasingModel.fit(sentences)


def test_fit_rejects_a_bad_min_count():
    with pytest.raises(ValueError, match="`min_count`"):
        CasingModel.fit(SENTENCES, min_count=0)


@pytest.mark.parametrize(
    ("tokens", "message"),
    [("new york", "`tokens` must be a sequence of string tokens"), (["new", None], "`tokens` must hold only")],
)
def test_recase_rejects_bad_tokens(model, tokens, message):
    with pytest.raises(TypeError, match=message):
        model.recase(tokens)


def _broken(values: dict, key: str, value: object) -> dict:
    values = json.loads(json.dumps(values))
    if value is KeyError:
        del values[key]
    else:
        values[key] = value
    return values


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("version", 2),
        ("discount", 1.5),
        ("total", "many"),
        ("total", 3),  # fewer than the counts add up to
        ("counts", {"New": -1}),
        ("counts", KeyError),
        ("bigrams", {"New": {"Yorkshire": 1}}),  # a form 'counts' lacks
        ("bigrams", {"New": {"York": 9}}),  # more often than "New" itself
        ("followers", {}),  # the forms of 'bigrams' need theirs
    ],
)
def test_from_dict_names_the_malformed_key(model, key, value):
    with pytest.raises(ValueError, match=f"'{key}'"):
        CasingModel.from_dict(_broken(model.to_dict(), key, value))


def test_from_dict_rejects_a_non_dict():
    with pytest.raises(TypeError, match="`values`"):
        CasingModel.from_dict([("counts", {})])
