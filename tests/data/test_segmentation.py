"""Segmentation into reconstruction entries and back to text."""

from __future__ import annotations

import pytest

from hf_tokenembed.data import Segmenter
from hf_tokenembed.data.segmentation import count_tokens, entry_kind, moses_tokenize

ENTRIES = [
    "the", ",", ".", "said", "New York", "New", "York", "'s", "plan", "Blair", "rose", "%", "5", "@.@", "05",
    "well", "@-@", "known", "The", "in", "on", "Monday", "shares", "tube", '"', "rejected", "was",
]  # fmt: skip


@pytest.fixture
def segmenter() -> Segmenter:
    return Segmenter(ENTRIES)


@pytest.mark.parametrize(
    "sentence",
    [
        "The plan, in New York, said Blair.",
        "Shares rose 5.05% on Monday.",
        'The well-known plan was "rejected".',
        "Blair's plan rose.",
    ],
)
def test_round_trip(segmenter, sentence):
    segmentation = segmenter.segment(sentence)
    assert segmentation.covered, segmentation
    assert segmenter.detokenize(segmentation.entries) == sentence
    assert segmenter.detokenize(segmentation.ids) == sentence


def test_mwes_by_longest_match_and_punctuation_as_entries(segmenter):
    segmentation = segmenter.segment("The plan, in New York, said Blair.")
    assert segmentation.entries == ["the", "plan", ",", "in", "New York", ",", "said", "Blair", "."]
    assert segmenter.detokenize(["New York", ",", "said"]) == "New York, said"


def test_numbers_and_compounds_are_split_into_common_pieces(segmenter):
    assert moses_tokenize("Shares rose 5.05% on well-known days.") == [
        "Shares", "rose", "5", "@.@", "05", "%", "on", "well", "@-@", "known", "days", ".",
    ]  # fmt: skip


def test_first_capital_folds_only_to_the_commoner_entry():
    # "the" is commoner than "The" (lower id): a sentence-initial "The" is "the"; "York" has no lowercase entry
    segmenter = Segmenter(["the", "York", "is", "The", "."])
    assert segmenter.segment("The York is.").entries == ["the", "York", "is", "."]
    assert segmenter.segment("York is.").entries == ["York", "is", "."]
    assert segmenter.detokenize(["the", "York", "is", "."]) == "The York is."


def test_uncovered_tokens_are_counted_never_dropped(segmenter):
    segmentation = segmenter.segment("The Tube and zeppelins rose.")
    assert segmentation.entries == ["the", "tube", "and", "zeppelins", "rose", "."]  # "Tube": only its case differs
    assert segmentation.ids[2] == -1 and segmentation.ids[3] == -1 and not segmentation.covered
    assert sum(i < 0 for i in segmentation.ids) == 2


def test_counts_fold_sentence_initial_capitals():
    counts = count_tokens(["The cat sat.", "The dog ran with the cat.", "York is big.", "In York, the end."])
    assert counts["the"] == 4 and "The" not in counts
    assert counts["York"] == 2 and "york" not in counts


def test_entry_kinds_and_bad_input():
    assert [entry_kind(s) for s in ("New York", "plan", "2004", "%", "1.5bn")] == [
        "mwe", "word", "number", "punct", "word",
    ]  # fmt: skip
    with pytest.raises(ValueError, match="`entries`"):
        Segmenter([])
    with pytest.raises(ValueError, match=r"`entries\[1\]`"):
        Segmenter(["a", "two  spaces"])
    with pytest.raises(TypeError, match="`sentence`"):
        Segmenter(["a"]).segment(None)
