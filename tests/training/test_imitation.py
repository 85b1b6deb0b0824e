"""Imitation states: oracle subsets, alignment of rolled-in buffers, missing entries and valid slots."""

from __future__ import annotations

import pytest

from hf_tokenembed.training.imitation import ImitationStates, align, missing_entries, oracle_states, slot_targets

SENTENCE = [10, 11, 12, 13, 11]  # entry ids; 11 occurs twice


def test_missing_and_slots_of_an_oracle_subset():
    positions = [1, 3]  # the buffer holds entries 11 and 13
    assert missing_entries(SENTENCE, positions) == [10, 12, 11]
    assert slot_targets(SENTENCE, positions) == [(10, 0), (12, 1), (11, 2)]
    assert slot_targets(SENTENCE, [0, 1, 2, 3, 4]) == []  # complete: the Placer's target is STOP
    assert slot_targets(SENTENCE, []) == [(10, 0), (11, 0), (12, 0), (13, 0)]  # empty: anything, at slot 0


def test_unaligned_entries_do_not_constrain_the_slots():
    buffer = [10, 99, 13]  # 99 is wrong
    positions = align(SENTENCE, buffer)
    assert positions == [0, -1, 3]
    # 11 (position 1) and 12 (position 2) may go on either side of the wrong entry; the last 11 after 13
    assert slot_targets(SENTENCE, positions) == [(11, 1), (11, 2), (12, 1), (12, 2), (11, 3)]
    assert missing_entries(SENTENCE, positions) == [11, 12, 11]


def test_align_is_a_longest_common_subsequence():
    assert align(SENTENCE, [13, 10, 11]) in ([-1, 0, 1], [3, -1, 4])
    assert sum(p >= 0 for p in align(SENTENCE, [13, 10, 11])) == 2
    assert align(SENTENCE, []) == [] and align(SENTENCE, [7, 8]) == [-1, -1]


def test_oracle_states_cover_empty_complete_and_ordered_subsets():
    sentences = [SENTENCE, [1, 2, 3]]
    states = oracle_states(sentences, per_sentence=5, seed=3)
    assert len(states) == 10
    for i in range(len(states)):
        sentence = sentences[states.sentence_of[i]]
        positions = states.positions[i]
        assert positions == sorted(positions) and [sentence[p] for p in positions] == states.buffers[i]
    sizes = [len(b) for s, b in zip(states.sentence_of, states.buffers) if s == 0]
    assert sizes[:2] == [0, 5]
    assert oracle_states(sentences, per_sentence=5, seed=3).buffers == states.buffers
    with pytest.raises(ValueError, match="`per_sentence`"):
        oracle_states(sentences, per_sentence=1)


def test_states_extend_and_refuse_mismatches():
    states = ImitationStates([SENTENCE])
    states.add(0, [10], [0])
    more = ImitationStates([SENTENCE])
    more.add(0, [10, 99], [0, -1])
    states.extend(more)
    assert len(states) == 2 and states.missing(1) == [11, 12, 13, 11]
    with pytest.raises(ValueError, match="`positions`"):
        states.add(0, [10], [])
    with pytest.raises(ValueError, match="other sentences"):
        states.extend(ImitationStates([[1]]))
