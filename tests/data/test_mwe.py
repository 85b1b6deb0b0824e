from __future__ import annotations

import math

import pytest
from data_helpers import make_sentences, requires_wordnet

from hf_tokenembed.data import build_mwes, count_ngrams, mine_collocations, npmi
from hf_tokenembed.data.mwe import count_phrases, tokenize_chunks

# A hand-made corpus with known answers: "New York" and "hot dog" always co-occur; "big dog" and "the city" are
# frequent but their words also occur apart; "ice cream" is perfect but below the frequency floor.
CORPUS = (
    ["We flew to New York today."] * 6
    + ["A hot dog costs two dollars."] * 5
    + ["The big dog ran to the city."] * 3
    + ["The big cat sat in the city.", "A dog and a cat met in the city.", "The city was big."]
    + ["I like ice cream."] * 2
)


def test_tokenize_chunks_stops_at_punctuation_and_numbers():
    assert tokenize_chunks("In New York, prices rose 5 percent in high-tech shares.") == [
        ["In", "New", "York"], ["prices", "rose"], ["percent", "in", "high", "tech", "shares"],
    ]  # fmt: skip


def test_npmi_matches_hand_computation():
    counts = count_ngrams(CORPUS, max_n=3)
    total = counts.total
    assert total == sum(len(s.rstrip(".").split()) for s in CORPUS)
    # "new york": c(new) = c(york) = c(new york) = 6 -> NPMI 1.
    assert npmi(counts, ("new", "york")) == pytest.approx(1.0)
    # "big dog": c = 3; big: 3 + "big cat" + "was big" = 5; dog: 5 "hot dog" + 3 + "a dog" = 9.
    assert (counts.unigrams["big"], counts.unigrams["dog"], counts.ngrams[2][("big", "dog")]) == (5, 9, 3)
    p_xy, p_x, p_y = 3 / total, 5 / total, 9 / total
    assert npmi(counts, ("big", "dog")) == pytest.approx(math.log(p_xy / (p_x * p_y)) / -math.log(p_xy))
    # trigram, normalised by (n - 1): flew 6, to 6 + 3 = 9, new 6, "flew to new" 6.
    p_g, p_flew, p_to, p_new = 6 / total, 6 / total, 9 / total, 6 / total
    expected = math.log(p_g / (p_flew * p_to * p_new)) / (2 * -math.log(p_g))
    assert npmi(counts, ("flew", "to", "new")) == pytest.approx(expected)
    assert npmi(counts, ("never", "seen")) == -1.0


def test_mine_collocations_known_answers():
    rows = mine_collocations(CORPUS, min_count=3, min_npmi=0.6)
    phrases = [r["phrase"] for r in rows]
    assert "New York" in phrases  # original casing
    assert "hot dog" in phrases
    assert "ice cream" not in phrases  # below the frequency floor
    assert "big dog" not in phrases  # words also occur apart: NPMI below the bar
    assert not any(p.split()[0].lower() in {"the", "to", "a"} or p.split()[-1] in {"the", "to", "a"} for p in phrases)
    assert {r["phrase"]: r["count"] for r in rows}["New York"] == 6
    assert [r["npmi"] for r in rows] == sorted((r["npmi"] for r in rows), reverse=True)
    assert "ice cream" in [r["phrase"] for r in mine_collocations(CORPUS, min_count=2, min_npmi=0.6)]


def test_mine_collocations_bad_arguments():
    with pytest.raises(ValueError, match="`max_n`"):
        mine_collocations(CORPUS, max_n=1)
    with pytest.raises(ValueError, match="`min_count`"):
        mine_collocations(CORPUS, min_count=0)
    with pytest.raises(ValueError, match="`min_npmi`"):
        mine_collocations(CORPUS, min_npmi=2)


def test_count_phrases_is_case_insensitive():
    assert count_phrases(["new york and New York, NEW YORK!"], ["New York"])["new york"] == 3


@requires_wordnet
def test_build_mwes_merges_sources(wn):
    sentences = make_sentences(60)
    mwes = build_mwes(sentences, wn, known_words=["prime", "minister", "the"], min_count=5, min_npmi=0.5)
    rows = {p: (c, s, n) for p, c, s, n in zip(mwes["phrase"], mwes["count"], mwes["source"], mwes["npmi"])}
    assert rows["New York"][:2] == (15, "wordnet+npmi")
    assert rows["red herring"][:2] == (15, "wordnet+npmi")
    count, source, score = rows["prime minister"]  # WordNet only: every word known, never seen
    assert (count, source) == (0, "wordnet") and math.isnan(score)
    assert all(s in {"wordnet", "npmi", "wordnet+npmi"} for s in mwes["source"])
    assert len({p.lower() for p in mwes["phrase"]}) == len(mwes)
