"""The part of speech of a word in its context (spaCy's tagger, the `pos` extra), as WordNet writes it."""

from __future__ import annotations

import pytest

from hf_tokenembed.data.pos_tagging import load_tagger, wordnet_pos_in_context
from hf_tokenembed.data.wordnet import find_form

pytest.importorskip("spacy")


@pytest.mark.parametrize(
    ("context", "query", "pos"),
    [
        ("We sat on the bank of the river.", "bank", "n"),
        ("I bank with a local credit union.", "bank", "v"),
        ("They will pitch the tent here.", "pitch", "v"),
        ("The pitch of her voice rose.", "pitch", "n"),
        ("The water was cold and clear.", "cold", "a"),
        ("She ran quickly home.", "quickly", "r"),
        ("That was a red herring in the story.", "red herring", "n"),
        ("He moved to New York last year.", "New York", "n"),
        ("He gave up smoking.", "gave up", "v"),
        ("He sat on the bank.", "the", None),
    ],
)
def test_wordnet_pos_of_a_word_in_its_context(context, query, pos):
    assert wordnet_pos_in_context(context, find_form(context, query)) == pos


def test_bad_span_and_missing_pipeline_are_named():
    with pytest.raises(ValueError, match="`span`"):
        wordnet_pos_in_context("A bank.", (3, 30))
    with pytest.raises(OSError):
        load_tagger("no_such_spacy_pipeline")
