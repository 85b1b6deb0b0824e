"""The reconstruction vocabulary and the Reconstructor over a tiny trained controller."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

from hf_tokenembed.controller import ReconstructionVocabulary, replay_steps, rollin_states
from hf_tokenembed.models.placer.modeling import PlacerOutput
from hf_tokenembed.training import PlacerTrainer, SelectorTrainer

from .conftest import controller_args


def test_vocabulary_covers_the_training_text_and_round_trips(controller, tmp_path):
    embedder, vocabulary, train, *_ = controller
    coverage = vocabulary.coverage(train.texts)
    assert coverage["token_coverage"] == 1.0 and coverage["uncovered_tokens"] == 0  # they were kept for that
    assert all(vocabulary.detokenize(vocabulary.segment(t).ids) == t for t in train.texts[:20])
    bank = embedder.encode_words(["bank"])[0]
    torch.testing.assert_close(vocabulary.keys[vocabulary.segmenter.ids["bank"]], bank, atol=1e-3, rtol=0)  # fp16
    vocabulary.save(tmp_path / "vocab")
    loaded = ReconstructionVocabulary.load(tmp_path / "vocab", fingerprint=embedder.fingerprint())
    assert loaded.surfaces == vocabulary.surfaces and (loaded.counts == vocabulary.counts).all()
    assert torch.equal(loaded.keys, vocabulary.keys)  # kept at the fp16 precision they are saved at
    with pytest.raises(ValueError, match="embedder"):
        ReconstructionVocabulary.load(tmp_path / "vocab", fingerprint="another-model")
    keys = tmp_path / "vocab" / "keys.npy"
    keys.write_bytes(keys.read_bytes()[:-8])
    with pytest.raises(ValueError, match="corrupted"):
        ReconstructionVocabulary.load(tmp_path / "vocab")
    with pytest.raises(FileNotFoundError, match="no reconstruction vocabulary"):
        ReconstructionVocabulary.load(tmp_path / "missing")


def test_saved_vocabulary_loads_its_keys_bit_for_bit(tmp_path):
    # fp16-rounded unit vectors are not quite unit: normalising them again on load moved some keys by one fp16 step
    # (short vectors with one large component, as a tiny model's, are the ones it moved)
    surfaces = [f"w{i}" for i in range(2000)]
    keys = torch.randn(len(surfaces), 8, generator=torch.Generator().manual_seed(0)) * torch.tensor([5.0] + [1.0] * 7)
    vocabulary = ReconstructionVocabulary(surfaces, list(range(len(surfaces), 0, -1)), keys)
    vocabulary.save(tmp_path / "vocab")
    assert torch.equal(ReconstructionVocabulary.load(tmp_path / "vocab").keys, vocabulary.keys)


def test_reconstruct_gives_text_its_cosine_and_a_trace(controller):
    """The verifier's cosine is the output's real one, and replaying the trace (insertions, STOP and the repair's
    moves) rebuilds the output. Bags (a perfect Selector) with repair passes make sure moves occur."""
    embedder, vocabulary, train, _, _, _, reconstructor = controller
    targets = train.targets[:6]
    bags = [train.states.sentences[i] for i in range(6)]
    runs = [
        {"num_beams": 1, "verifier": False},
        {"num_beams": 2, "verifier": True},
        {"num_beams": 2, "verifier": True, "bags": bags, "repair": 4},
    ]
    actions = set()
    for kwargs in runs:
        results = reconstructor.reconstruct(targets, top_k=4, max_steps=12, return_steps=True, **kwargs)
        assert len(results) == 6
        for result, target in zip(results, targets):
            assert isinstance(result["text"], str) and 1 <= len(result["entries"]) <= 12  # never STOP from empty
            again = embedder.encode_sentences([result["text"]])[0] @ torch.nn.functional.normalize(target, dim=0)
            assert result["cosine"] == pytest.approx(float(again), abs=1e-4)  # the verifier's cosine is real
            replayed = replay_steps(result["steps"])
            assert len(replayed) == len(result["steps"]) and replayed[-1] == result["entries"]
            assert [step["cosine"] for step in result["steps"] if step["action"] == "move"] == sorted(
                step["cosine"] for step in result["steps"] if step["action"] == "move"
            )  # each move raises the cosine
            actions.update(step["action"] for step in result["steps"])
    assert actions == {"insert", "stop", "move"}


def test_vectors_as_numpy_single_or_batch(controller):
    *_, reconstructor = controller
    _, _, train, *_ = controller
    single = reconstructor.reconstruct(train.targets[0].numpy(), num_beams=1, verifier=False, top_k=4, max_steps=3)
    batch = reconstructor.reconstruct(train.targets[:1], num_beams=1, verifier=False, top_k=4, max_steps=3)
    assert single == batch


@pytest.mark.parametrize(
    ("vectors", "kwargs", "error", "match"),
    [
        (torch.randn(2, 7), {}, ValueError, "dimension 7"),
        (torch.full((1, 32), float("nan")), {}, ValueError, "NaN"),
        (torch.full((1, 32), float("inf")), {}, ValueError, "NaN or infinite"),
        (torch.zeros(1, 32), {}, ValueError, "zero vector"),
        (torch.zeros(0, 32), {}, ValueError, "empty batch"),
        (torch.randn(1, 2, 32), {}, ValueError, "shape"),
        ("a sentence", {}, TypeError, "`vectors`"),
        (torch.randn(1, 32), {"top_k": 0}, ValueError, "`top_k`"),
        (torch.randn(1, 32), {"top_k": 10**7}, ValueError, "`top_k`"),
        (torch.randn(1, 32), {"num_beams": 0}, ValueError, "`num_beams`"),
        (torch.randn(1, 32), {"max_steps": -1}, ValueError, "`max_steps`"),
    ],
)
def test_bad_input_names_the_argument(controller, vectors, kwargs, error, match):
    *_, reconstructor = controller
    with pytest.raises(error, match=match):
        reconstructor.reconstruct(vectors, **kwargs)


def test_selector_metrics_count_the_states_whose_missing_entries_hold_the_top_ones(controller, tmp_path):
    """A Selector biased towards a few entries ranks them first for every state: hit@1 is then the share of states
    that miss the first of them, hit@16 the share that miss any of the 16."""
    _, vocabulary, train, dev, selector, _, _ = controller
    favourites = list(range(16))  # the commonest entries ("the", ".", ...)
    biased = copy.deepcopy(selector)
    with torch.no_grad():
        biased.entry_bias[favourites] = torch.arange(16, 0, -1, dtype=torch.float) * 1e3
    metrics = SelectorTrainer(biased, controller_args(tmp_path), train, eval_data=dev).evaluate()
    missing = [set(dev.states.missing(s)) for s in range(len(dev.states))]
    missing = [m for m in missing if m]
    assert metrics["eval_selector_states"] == len(missing) > 0
    assert metrics["eval_selector_hit@1"] == pytest.approx(np.mean([favourites[0] in m for m in missing]))
    assert metrics["eval_selector_hit@16"] == pytest.approx(np.mean([bool(m & set(favourites)) for m in missing]))
    assert 0 < metrics["eval_selector_hit@1"] < metrics["eval_selector_hit@16"] < 1


class _AppendingPlacer(torch.nn.Module):
    """Puts every candidate at the end of the text, and says STOP above everything."""

    def __init__(self, config):
        super().__init__()
        self.config = config
        self.weight = torch.nn.Parameter(torch.zeros(1))

    def forward(self, target, summary, buffer, buffer_mask, candidates, candidate_mask=None, labels=None):
        batch, n, k = buffer.shape[0], buffer.shape[1], candidates.shape[1]
        end = torch.arange(n + 1).view(1, 1, -1) == buffer_mask.sum(-1).view(-1, 1, 1)
        action = end.float().expand(batch, k, n + 1)
        stop = torch.full((batch,), 10.0)
        return PlacerOutput(logits=torch.cat([action.reshape(batch, -1), stop[:, None]], -1), action_logits=action,
                            stop_logits=stop)  # fmt: skip


def test_placer_metrics_of_a_placer_that_always_appends_and_stops(controller, tmp_path):
    """Its slot accuracy is the append-at-the-end baseline; STOP is always predicted, so recall is 1 and precision
    the share of complete states."""
    _, _, train, dev, selector, placer, _ = controller
    args = controller_args(tmp_path, top_k=64)  # candidates enough to hold missing entries
    metrics = PlacerTrainer(_AppendingPlacer(placer.config), args, train, selector, eval_data=dev).evaluate()
    complete = [not dev.states.slots(s) for s in range(len(dev.states))]
    assert 0 < metrics["eval_placer_slot_accuracy"] == metrics["eval_placer_slot_accuracy_append_baseline"] < 1
    assert metrics["eval_placer_stop_recall"] == 1.0
    assert metrics["eval_placer_stop_precision"] == pytest.approx(np.mean(complete))
    trained = PlacerTrainer(
        placer, controller_args(tmp_path / "p", top_k=64), train, selector, eval_data=dev
    ).evaluate()
    assert trained["eval_placer_slot_accuracy_append_baseline"] == metrics["eval_placer_slot_accuracy_append_baseline"]


def test_rollin_states_are_aligned_with_their_sentences_and_carry_their_summaries(controller):
    from hf_tokenembed.controller.search import embed_buffers

    embedder, vocabulary, train, *_, reconstructor = controller
    states, summaries = rollin_states(reconstructor, train.states.sentences, train.targets, [0, 1], top_k=4)
    assert len(states) >= 2 and set(states.sentence_of) <= {0, 1}
    assert states.buffers[0] == []  # every decode starts empty
    for i in range(len(states)):
        sentence = train.states.sentences[states.sentence_of[i]]
        for entry, position in zip(states.buffers[i], states.positions[i]):
            assert position == -1 or sentence[position] == entry
    assert np.all([len(b) == len(p) for b, p in zip(states.buffers, states.positions)])
    # the decode's own summaries, no second encoder pass: each is the sentence vector of its buffer's text
    torch.testing.assert_close(summaries, embed_buffers(embedder, vocabulary, states.buffers), atol=1e-5, rtol=0)
    size = len(train.states)
    train_copy = type(train)(type(train.states)(train.states.sentences), train.targets, train.summaries[:0],
                             train.keys, train.texts)  # fmt: skip
    train_copy.add_states(states, summaries)
    assert len(train_copy.states) == len(states) == len(train_copy.summaries) and len(train.states) == size
    with pytest.raises(ValueError, match="`summaries`"):
        train_copy.add_states(states, summaries[1:])


def test_greedy_decoding_stops_when_the_cosine_stops_rising(controller):
    """`patience` ends greedy decodes too: with `patience=1` a decode is the patient decode cut at its first step
    that did not raise the best cosine. (Bags keep the tiny Placer, which says STOP early, from ending the texts
    itself; each holds its sentence twice over, so the cosine cannot rise at every step.)"""
    _, _, train, *_, reconstructor = controller
    bags = [sentence * 2 for sentence in train.states.sentences[:10]]
    decode = dict(num_beams=1, verifier=False, top_k=4, bags=bags, return_steps=True)
    patient = reconstructor.reconstruct(train.targets[:10], patience=10**3, **decode)
    impatient = reconstructor.reconstruct(train.targets[:10], patience=1, **decode)
    stopped = 0
    for long, short in zip(patient, impatient):
        assert all("summary" not in step for step in short["steps"])  # the vectors stay inside
        cosines = [step["cosine"] for step in long["steps"]]
        first_fall = next((i for i in range(1, len(cosines)) if cosines[i] <= max(cosines[:i]) + 1e-6), None)
        kept = long["steps"][: len(cosines) if first_fall is None else first_fall + 1]
        stopped += first_fall is not None and first_fall + 1 < len(cosines)
        assert [(s["entry"], s["slot"]) for s in short["steps"]] == [(s["entry"], s["slot"]) for s in kept]
        assert [s["cosine"] for s in short["steps"]] == pytest.approx([s["cosine"] for s in kept], abs=1e-5)
    assert stopped


def test_a_perfect_selector_writes_exactly_the_bag(controller):
    """With `bags`, the candidates are the entries not written yet and the text ends when the bag is empty."""
    _, vocabulary, train, *_, reconstructor = controller
    bags = [train.states.sentences[i] for i in range(3)]
    results = reconstructor.reconstruct(train.targets[:3], num_beams=2, top_k=4, bags=bags, repair=0)
    for result, bag in zip(results, bags):
        assert sorted(vocabulary.segmenter.ids[e] for e in result["entries"]) == sorted(bag)


def test_cosine_search_orders_a_bag_and_repair_only_raises_the_cosine(controller):
    from collections import Counter

    from hf_tokenembed.controller.search import cosine_insertion, embed_buffers, repair_by_moves

    embedder, vocabulary, train, *_ = controller
    target = torch.nn.functional.normalize(train.targets[0], dim=0)
    bag = train.states.sentences[0]

    def left(buffer, summary):
        return sorted((Counter(bag) - Counter(buffer)).keys())

    entries, cosine = cosine_insertion(embedder, vocabulary, target, left, max_steps=len(bag), until_no_gain=False)
    assert sorted(entries) == sorted(bag)
    assert cosine == pytest.approx(float(embed_buffers(embedder, vocabulary, [entries])[0] @ target), abs=1e-5)
    scrambled = entries[::-1]
    start = float(embed_buffers(embedder, vocabulary, [scrambled])[0] @ target)
    repaired, better, moves = repair_by_moves(embedder, vocabulary, scrambled, target, start, passes=3)
    assert better >= start and sorted(repaired) == sorted(bag) and len(moves) <= 3
    replayed = list(scrambled)
    for source, slot, _ in moves:
        replayed.insert(slot, replayed.pop(source))
    assert replayed == repaired
    assert float(embed_buffers(embedder, vocabulary, [repaired])[0] @ target) == pytest.approx(better, abs=1e-5)
