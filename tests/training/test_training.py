"""Stage 1: feature cache, examples, TokenHeadTrainer, the train_head entry script."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from hf_tokenembed import TokenEmbedder, TokenEmbedderConfig
from hf_tokenembed.training import (
    FrozenFeatureCache,
    TokenHeadTrainer,
    TokenHeadTrainingArguments,
    build_stage1_examples,
)
from hf_tokenembed.training.feature_cache import cache_key
from hf_tokenembed.training.sampling import MicroBatchSeeder

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "trainers"))
import train_head  # noqa: E402


def _examples(data_dir, **overrides):
    values = dict(max_contexts=200, order_sentences=24, max_synonym_pairs=300, max_phrase_glosses=200, progress=False)
    return build_stage1_examples(data_dir, **{**values, **overrides})


@pytest.fixture(scope="module")
def examples(tiny_data_dir):
    return _examples(tiny_data_dir)


def _args(tmp_path, **overrides) -> TokenHeadTrainingArguments:
    values = dict(
        output_dir=str(tmp_path / "run"), max_steps=4, per_device_train_batch_size=8, order_batch_size=4,
        num_hard_negatives=2, refresh_negatives_steps=2, logging_steps=1, save_steps=2, report_to="none",
        use_cpu=True, learning_rate=1e-3, seed=0,
    )  # fmt: skip
    values.update(overrides)
    return TokenHeadTrainingArguments(**values)


def test_examples_have_real_positives(examples):
    assert len(examples.occurrences) > 0 and len(examples.contexts) > 0
    for context_id, start, end, type_id in examples.occurrences[:50]:
        surface = examples.contexts[context_id][start:end]
        assert surface.lower() == examples.types[type_id].lower()
    assert len(examples.sentences) == len(examples.perturbed) == 24
    assert all(s not in copies for s, copies in zip(examples.sentences, examples.perturbed))
    assert "red herring" in examples.types or "New York" in examples.types


def test_sense_examples_point_at_their_gloss_and_skip_wic_lemmas(examples, tiny_data_dir):
    from hf_tokenembed.data import lemma_key, load_data

    assert len(examples.sense_uses) > 0
    assert len(examples.glosses) == len(examples.gloss_spans) == len(examples.sense_siblings)
    for example_id, start, end, sense in examples.sense_uses[:50]:
        word = examples.glosses[sense][slice(*examples.gloss_spans[sense])]
        assert examples.sense_examples[example_id][start:end].lower().startswith(word.lower()[:3])
        assert sense not in examples.sense_siblings[sense]
        assert all(examples.glosses[s].startswith(word + ": ") for s in examples.sense_siblings[sense])
    wic = load_data(tiny_data_dir)["eval/wic"]
    held_out = {lemma_key(lemma) for split in wic.values() for lemma in split["lemma"]}
    words = {lemma_key(g[slice(*span)]) for g, span in zip(examples.glosses, examples.gloss_spans)}
    assert not words & held_out  # "Salt" is held out with the WiC lemma "salt"


def test_synonym_pairs_are_wordnet_synonyms_outside_the_evaluation_sets(examples, tiny_data_dir):
    from hf_tokenembed.data import load_data, load_wordnet

    wn = load_wordnet()
    held_out = {
        w.lower() for split in load_data(tiny_data_dir)["eval/synonyms"].values() for c in ("word", "synonym")
        for w in split[c]
    }  # fmt: skip
    assert 0 < len(examples.synonym_pairs) <= 300
    for a, b in examples.synonym_pairs:
        left, right = examples.types[a], examples.types[b]
        assert left.lower() not in held_out and right.lower() not in held_out
        assert right.lower() in {s.lower() for s, _ in wn.synonyms(left)}
        assert left.islower() and right.islower()
        assert b in examples.synonyms[a] and b in examples.partners[a]
    with pytest.raises(ValueError, match="`max_synonym_pairs`"):
        build_stage1_examples(tiny_data_dir, max_synonym_pairs=-1, progress=False)


def test_feature_cache_matches_the_full_forward(tiny_model, tmp_path):
    texts = ["We sat on the river bank.", "bank", "The bank raised its rates again today."]
    cache = FrozenFeatureCache.build(tiny_model, texts, tmp_path / "cache", progress=False)
    assert len(cache) == 3 and cache.states.dtype.name == "float16"
    states, mask = cache.batch([0, 2])
    with torch.no_grad():
        cached = tiny_model(frozen_states=states, attention_mask=mask).embeddings
    full = tiny_model.encode_words([texts[0], texts[2]])
    torch.testing.assert_close(cached, full, atol=2e-3, rtol=0)  # fp16 storage
    again = FrozenFeatureCache.build(tiny_model, texts, tmp_path / "cache", progress=False)
    assert again.key == cache.key


def test_feature_cache_key_changes_with_every_input(tiny_model):
    """Texts, tokenisation, pooling, prefix and every base weight (top layers too: the teacher) miss the cache;
    the LoRA weights, which training changes and the cache never holds, do not."""
    import copy

    texts = ["We sat on the river bank.", "bank"]
    base = cache_key(tiny_model, texts)
    assert cache_key(copy.deepcopy(tiny_model), texts) == base

    def changed(edit) -> str:
        model = copy.deepcopy(tiny_model)
        model.tokenizer = copy.deepcopy(tiny_model.tokenizer)
        edit(model)
        return cache_key(model, texts)

    def top_layer_weight(model):
        return next(p for n, p in model.backbone.named_parameters() if "layer.3." in n and "lora_" not in n)

    edits = {
        "max_seq_length": lambda m: setattr(m.config, "max_seq_length", 16),
        "pooling": lambda m: setattr(m.config, "pooling", "cls"),
        "prefix": lambda m: setattr(m.config, "query_prefix", "query: "),
        "tokenizer": lambda m: m.tokenizer.add_tokens(["zzqxv"]),
        "top-layer base weight": lambda m: top_layer_weight(m).data.add_(1e-3),
    }
    keys = {name: changed(edit) for name, edit in edits.items()}
    assert all(key != base for key in keys.values()), keys
    assert cache_key(tiny_model, texts[::-1]) != base
    lora = next(p for n, p in tiny_model.backbone.named_parameters() if "lora_B" in n)
    assert changed(lambda m: next(p for n, p in m.backbone.named_parameters() if "lora_B" in n).data.add_(1.0)) == base
    assert lora.abs().sum() == 0  # the fixture itself was left alone


def test_feature_cache_crash_leaves_nothing(tiny_model, tmp_path, monkeypatch):
    def explode(*args, **kwargs):
        raise RuntimeError("killed")

    monkeypatch.setattr(FrozenFeatureCache, "_compute", staticmethod(explode))
    with pytest.raises(RuntimeError):
        FrozenFeatureCache.build(tiny_model, ["a b c"], tmp_path / "cache", progress=False)
    assert list(tmp_path.iterdir()) == []


def test_phrase_glosses_are_wordnet_senses_outside_the_mwe_gloss_evaluation(examples, tiny_data_dir):
    from hf_tokenembed.data import load_data, load_wordnet

    wn = load_wordnet()
    held_out = load_data(tiny_data_dir)["eval/mwe_gloss"]
    phrases = {p.lower() for split in held_out.values() for p in split["phrase"]}
    synsets = {s for split in held_out.values() for s in split["synset"]}
    assert len(examples.phrases) == len(examples.phrase_glosses) == 200
    for phrase, gloss in zip(examples.phrases, examples.phrase_glosses):
        assert " " in phrase and phrase.lower() not in phrases
        senses = [s for s in wn.synsets(phrase) if s.definition() == gloss]
        assert senses and not {s.name() for s in senses} & synsets
    with pytest.raises(ValueError, match="`max_phrase_glosses`"):
        build_stage1_examples(tiny_data_dir, max_phrase_glosses=-1, progress=False)


def test_trainer_trains_lora_and_head_and_logs_every_part(tiny_backbone, examples, tmp_path):
    model = TokenEmbedder(TokenEmbedderConfig(backbone=tiny_backbone, lora_layers=2, head_dims=[48, 24]))
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    cache = FrozenFeatureCache.build(model, examples.texts_to_cache(), tmp_path / "cache", progress=False)
    trainer = TokenHeadTrainer(model, _args(tmp_path), examples, cache)
    trainer.train()
    logged = {k for entry in trainer.state.log_history for k in entry}
    assert {
        "loss_ranking", "loss_context", "loss_synonyms", "loss_senses", "loss_order", "loss_distill",
        "loss_word_geometry", "loss_phrase_glosses",
    } <= logged  # fmt: skip
    assert trainer.miner.refresh_count == 3  # at the start, then after steps 2 and 4 (refresh every 2 of 4)
    changed = {n for n, p in model.named_parameters() if not torch.equal(before[n], p)}
    assert changed and all("lora_" in n or n.startswith("head.") for n in changed)
    # dropout is off (`encoder_dropout=0`): a sentence and its word-order copies differ only by their order
    assert all(m.p == 0 for m in model.modules() if isinstance(m, torch.nn.Dropout))


def test_gloss_matching_picks_among_the_lemmas_senses(tiny_backbone, tiny_data_dir, examples, tmp_path):
    towers = build_stage1_examples(
        tiny_data_dir, max_contexts=200, order_sentences=24, gloss_towers=True, progress=False
    )
    assert towers.glosses == examples.glosses and len(towers.gloss_texts) == len(towers.glosses)
    assert all(g.endswith(t) for g, t in zip(towers.glosses, towers.gloss_texts))
    assert any(towers.sense_synonyms) and any(towers.hypernym_glosses)
    for gloss, hypernym, span in zip(towers.glosses, towers.hypernym_glosses, towers.gloss_spans):
        assert not hypernym or hypernym[slice(*span)] + ": " == gloss[: span[1] + 2]  # the word at the same span
    with pytest.raises(ValueError, match="gloss_towers"):
        _trainer(tiny_backbone, examples, tmp_path / "plain", sense_loss="gloss_matching")
    trainer = _trainer(tiny_backbone, towers, tmp_path, sense_loss="gloss_matching")
    assert len(trainer.matchable_uses) > 0
    for use in trainer.matchable_uses[:20]:  # each has another sense of the same word and part of speech
        sense = towers.sense_uses[use, 3]
        assert len(trainer.group_senses[towers.sense_groups[sense]]) >= 2
    trainer.train()
    assert "loss_senses" in {k for entry in trainer.state.log_history for k in entry}
    trainer.create_model_card()
    assert "GlossMatchingLoss" in (tmp_path / "run" / "README.md").read_text()


def _trainer(tiny_backbone, examples, tmp_path, pooling=None, **overrides):
    model = TokenEmbedder(
        TokenEmbedderConfig(backbone=tiny_backbone, lora_layers=2, head_dims=[48, 24], pooling=pooling)
    )
    cache = FrozenFeatureCache.build(model, examples.texts_to_cache(), tmp_path / "cache", progress=False)
    return TokenHeadTrainer(model, _args(tmp_path, **overrides), examples, cache)


def test_a_word_without_partners_is_never_its_own_positive(tiny_backbone, examples, tmp_path):
    trainer = _trainer(tiny_backbone, examples, tmp_path)
    lonely = [t for t, p in enumerate(examples.partners) if not p][:3]
    paired = [t for t, p in enumerate(examples.partners) if p][:3]
    assert lonely and paired
    drawn = trainer._draw_partners(np.array(lonely + paired), np.random.default_rng(0))
    assert list(drawn[:3]) == [-1, -1, -1]
    assert all(d in examples.partners[t] and d != t for t, d in zip(paired, drawn[3:]))


def test_a_partner_that_tokenizes_like_its_word_is_never_its_positive(tiny_backbone, examples, tmp_path):
    """The uncased tokenizer gives "BANK" the vector of "bank": as a positive it would be the word itself (the same
    for a phrase's gloss)."""
    anchor = next(t for t, p in enumerate(examples.partners) if p and examples.types[t].isalpha())
    twin = examples.partners[anchor][0]
    types = list(examples.types)
    types[twin] = types[anchor].upper()
    assert types[twin] not in examples.types
    glosses = [examples.phrases[0].upper(), *examples.phrase_glosses[1:]]  # a gloss that repeats its phrase
    twinned = dataclasses.replace(
        examples, types=types, synonym_pairs=np.array([[anchor, twin], [twin, anchor]]), phrase_glosses=glosses
    )
    trainer = _trainer(tiny_backbone, twinned, tmp_path)
    assert len(trainer.phrase_rows) == len(examples.phrases) - 1
    assert twin not in trainer.positive_partners[anchor] and anchor not in trainer.positive_partners[twin]
    assert len(trainer.synonym_pairs) == 0
    assert twin not in trainer._draw_partners(np.full(50, anchor), np.random.default_rng(0))
    assert trainer.partner_mask(np.array([anchor]), np.array([twin])).tolist() == [[True]]  # still no negative


def test_variants_and_synonyms_are_masked_as_ranking_negatives(tiny_backbone, examples, tmp_path):
    """A partner of the anchor among the ranking candidates (in-batch or mined for another row) is not a negative."""
    trainer = _trainer(tiny_backbone, examples, tmp_path)
    anchor = next(t for t, p in enumerate(examples.partners) if p)
    partner = examples.partners[anchor][0]
    stranger = next(t for t in range(len(examples.types)) if t != anchor and t not in examples.partners[anchor])
    mask = trainer.partner_mask(np.array([anchor]), np.array([anchor, stranger, partner]))
    assert mask.tolist() == [[False, False, True]]


def _distilled_teacher_rows(trainer, occurrences: np.ndarray) -> torch.Tensor:
    """The raw-backbone vectors a training step on `occurrences` hands to the word-level distillation."""
    seen = []
    loss = trainer.losses["word_geometry"]
    original = loss.compute_loss_from_embeddings
    loss.compute_loss_from_embeddings = lambda student, teacher: seen.append(teacher) or original(student, teacher)
    trainer.miner.refresh(trainer.encode_types())
    trainer.compute_loss(trainer.model, {"occurrence": torch.from_numpy(occurrences)})
    return seen[0].float()


def test_uniform_occurrences_train_frequent_words_in_context(examples, tiny_data_dir):
    """By default a context trains its rarest words; `uniform_occurrences` draws some from all its words."""
    top = 20
    assert not (examples.occurrences[:, 3] < top).any()
    mixed = _examples(tiny_data_dir, uniform_occurrences=1)
    assert mixed.contexts == examples.contexts
    assert (mixed.occurrences[:, 3] < top).mean() > 0.1
    with pytest.raises(ValueError, match="`uniform_occurrences`"):
        _examples(tiny_data_dir, uniform_occurrences=4)


def test_the_most_frequent_words_stay_out_of_the_word_distillation(tiny_backbone, tiny_data_dir, tmp_path):
    top = 20
    examples = _examples(tiny_data_dir, uniform_occurrences=3)
    frequent = examples.occurrences[:, 3] < top
    batch = np.concatenate([np.flatnonzero(frequent)[:24], np.flatnonzero(~frequent)[:24]])
    assert frequent.any() and (~frequent).any()
    for skip, expect_frequent in ((0, True), (top, False)):
        trainer = _trainer(tiny_backbone, examples, tmp_path / str(skip), word_distill_skip_top=skip)
        teacher = _distilled_teacher_rows(trainer, batch)
        frequent_vectors = trainer.cache.teacher[trainer.type_rows[:top]].float()
        present = (torch.cdist(frequent_vectors, teacher).min(dim=1).values < 1e-6).any().item()
        assert present == expect_frequent, skip
    assert len(teacher) > 0  # the rarer words, the sentences and the glosses are still distilled


def test_sentence_vectors_in_training_are_pooled_as_encode_sentences_pools(tiny_backbone, examples, tmp_path):
    """With CLS pooling the order loss's sentence vectors are the CLS vectors, not a mean (the all-ones bug)."""
    trainer = _trainer(tiny_backbone, examples, tmp_path / "cls", pooling="cls")
    model = trainer.model.eval()
    rows = trainer.sentence_rows[:3, 0]
    with torch.no_grad():
        _, vectors = trainer.embed_sentences(model, rows)
    expected = model.encode_sentences(examples.sentences[:3])
    torch.testing.assert_close(vectors, expected, atol=3e-3, rtol=0)  # the cache stores fp16 states
    mean = trainer.cache.batch(rows.tolist())
    assert not torch.allclose(vectors, torch.nn.functional.normalize(mean[0].mean(1), dim=-1), atol=1e-2)


def test_each_micro_batch_draws_its_own_sample(tiny_backbone, examples, tmp_path):
    trainer = _trainer(tiny_backbone, examples, tmp_path, gradient_accumulation_steps=2)
    draws = []
    for step in (0, 0, 1, 1):
        trainer.state.global_step = step
        draws.append(tuple(trainer._batch_rng().integers(0, 10**9, 4)))
    assert len(set(draws)) == 4  # two micro-batches of one step differ, and differ from the next step's
    trainer._seeder = MicroBatchSeeder()
    trainer.state.global_step = 0
    assert tuple(trainer._batch_rng().integers(0, 10**9, 4)) == draws[0]  # reproducible, e.g. after a resume


def test_a_short_run_lowers_its_loss_and_raises_a_dev_metric(tiny_backbone, examples, tiny_data_dir, tmp_path):
    from hf_tokenembed.data import load_data
    from hf_tokenembed.evaluation import ContextTypeRetrievalEvaluator

    data = load_data(tiny_data_dir)
    evaluator = ContextTypeRetrievalEvaluator(
        data["corpus"]["dev"]["text"], examples.types[:300], max_items=200, show_progress_bar=False
    )
    trainer = _trainer(tiny_backbone, examples, tmp_path, max_steps=40, learning_rate=3e-3, logging_steps=10)
    before = evaluator(trainer.model.eval())["context_type_acc@1"]
    trainer.train()
    after = evaluator(trainer.model.eval())["context_type_acc@1"]
    losses = [entry["loss"] for entry in trainer.state.log_history if "loss" in entry]
    assert losses[-1] < losses[0]
    assert after > before + 0.05, (before, after)


def test_original_recipe_trains_the_head_only(tiny_backbone, examples, tmp_path):
    model = TokenEmbedder(
        TokenEmbedderConfig(backbone=tiny_backbone, lora_layers=0, head_dims=[32, 16], pooling="cls")
    )
    cache = FrozenFeatureCache.build(model, examples.texts_to_cache(), tmp_path / "cache", progress=False)
    trainer = TokenHeadTrainer(
        model, _args(tmp_path, recipe="original", gradient_accumulation_steps=2), examples, cache
    )
    trainer.train()
    logged = {k for entry in trainer.state.log_history for k in entry}
    assert {"loss_self_positive", "loss_orthogonality"} <= logged


def test_k_larger_than_the_vocabulary(tiny_backbone, examples, tmp_path):
    model = TokenEmbedder(TokenEmbedderConfig(backbone=tiny_backbone, lora_layers=1))
    cache = FrozenFeatureCache.build(model, examples.texts_to_cache(), tmp_path / "cache", progress=False)
    with pytest.raises(ValueError, match="`num_hard_negatives`"):
        TokenHeadTrainer(model, _args(tmp_path, num_hard_negatives=len(examples.types)), examples, cache)


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        ({"recipe": "fancy"}, "`recipe`"),
        ({"head_dims": [8]}, "`head_dims`"),
        ({"order_batch_size": 0}, "order"),
        ({"sense_batch_size": 0}, "`sense_batch_size`"),
        ({"encoder_dropout": 1.5}, "`encoder_dropout`"),
        ({"order_positive": "mirror"}, "`order_positive`"),
        ({"synonym_batch_size": 0}, "`synonym_batch_size`"),
        ({"max_synonym_pairs": -1}, "`max_synonym_pairs`"),
        ({"cpu_threads": 0}, "`cpu_threads`"),
        ({"eval_split": "train"}, "`eval_split`"),
        ({"sense_loss": "wsd"}, "`sense_loss`"),
        ({"word_distill_skip_top": -1}, "`word_distill_skip_top`"),
        ({"max_phrase_glosses": -1}, "`max_phrase_glosses`"),
        ({"phrase_gloss_batch_size": 0}, "`phrase_gloss_batch_size`"),
    ],  # fmt: skip
)
def test_bad_training_arguments(tmp_path, overrides, match):
    with pytest.raises(ValueError, match=match):
        _args(tmp_path, **overrides)


TWO_PROCESS_ATOL = 1e-6  # README: two processes train as one, to float rounding (weights within 1e-6)


def _cli(tmp_path, tiny_backbone, tiny_data_dir, *extra: str) -> list[str]:
    return [
        "--preset", "tiny", "--backbone", tiny_backbone, "--data_dir", tiny_data_dir,
        "--output_dir", str(tmp_path / "run"), "--eval_max_items", "20", *extra,
    ]  # fmt: skip


def test_presets_leave_the_device_to_the_host():
    """No preset pins `use_cpu`: on a GPU host the run uses the GPU, on a CPU host the CPU."""
    for preset in sorted(p.stem for p in train_head.CONFIGS.glob("*.json")):
        assert "use_cpu" not in train_head.load_preset(preset), preset


def test_bad_preset_corpus_and_backbone(tmp_path, tiny_backbone, tiny_data_dir):
    with pytest.raises(ValueError, match="`--preset`"):
        train_head.main(["--preset", "nope"])
    with pytest.raises((ValueError, FileNotFoundError), match="corpus"):
        train_head.main(_cli(tmp_path, tiny_backbone, str(tmp_path / "missing")) + ["--corpus", "no-such-corpus"])
    with pytest.raises(ValueError, match="`backbone`"):
        train_head.main(_cli(tmp_path, "intfloat/no-such-model-offline", tiny_data_dir))


def test_resume_after_an_interrupted_run(tmp_path, tiny_backbone, tiny_data_dir, monkeypatch):
    """Killed after its first checkpoint, the run resumes from it: it takes only the remaining steps (4 to 6, not 1
    to 6) and ends as an uninterrupted run of the same seed does: the same weights and the same metrics."""
    from safetensors.torch import load_file
    from trainer_watch import Kill, StepLog, watch

    log = StepLog()
    watch(monkeypatch, TokenHeadTrainer, log, Kill(4))  # after checkpoint-3 (the tiny preset saves every 3 steps)
    with pytest.raises(KeyboardInterrupt):
        train_head.main(_cli(tmp_path, tiny_backbone, tiny_data_dir))
    assert (tmp_path / "run" / "checkpoint-3").is_dir() and not (tmp_path / "run" / "checkpoint-6").exists()
    assert log.steps == [("run", step) for step in (1, 2, 3, 4)]
    log.steps.clear()
    metrics = train_head.main(_cli(tmp_path, tiny_backbone, tiny_data_dir, "--eval_split", "dev"))
    assert log.steps == [("run", 4), ("run", 5), ("run", 6)]  # from checkpoint-3's step on, nothing twice
    state = json.loads((tmp_path / "run" / "checkpoint-6" / "trainer_state.json").read_text())
    assert state["global_step"] == 6
    assert metrics and (tmp_path / "run" / "eval_results.json").is_file()
    card = (tmp_path / "run" / "README.md").read_text()
    assert "What this recipe fixes" in card and "MultiNegativeRankingLoss" in card
    assert "retrieve their own gloss" in card and "trained in context too" in card and "stay free" in card
    assert "held-out dev sets" in card
    from transformers import AutoModel

    assert isinstance(AutoModel.from_pretrained(tmp_path / "run"), TokenEmbedder)
    straight = train_head.main(_cli(tmp_path / "straight", tiny_backbone, tiny_data_dir, "--eval_split", "dev"))
    timing = {k for k in metrics if k.endswith("seconds")}
    assert {k: v for k, v in straight.items() if k not in timing} == pytest.approx(
        {k: v for k, v in metrics.items() if k not in timing}, abs=1e-6
    )
    resumed, uninterrupted = (
        load_file(path / "run" / "model.safetensors") for path in (tmp_path, tmp_path / "straight")
    )
    assert resumed.keys() == uninterrupted.keys()
    assert all(torch.equal(resumed[name], uninterrupted[name]) for name in resumed)


def test_same_seed_trains_the_same_model(tmp_path, tiny_backbone, tiny_data_dir):
    """The seed covers the model's initialisation too (the Trainer seeds only once the model is built). The data
    folder, built from another corpus than the preset's, is used as it is, not rebuilt."""
    from safetensors.torch import load_file

    manifest = (Path(tiny_data_dir) / "manifest.json").read_text()
    weights = []
    for run in ("a", "b"):
        train_head.main(_cli(tmp_path / run, tiny_backbone, tiny_data_dir, "--eval_max_items", "5"))
        weights.append(load_file(tmp_path / run / "run" / "model.safetensors"))
    assert weights[0].keys() == weights[1].keys()
    assert all(torch.equal(weights[0][name], weights[1][name]) for name in weights[0])
    assert (Path(tiny_data_dir) / "manifest.json").read_text() == manifest


@pytest.mark.slow
def test_two_processes_train_as_one(tmp_path, tiny_backbone, tiny_data_dir):
    """A global batch of 8 on one process, or 4 on each of two (`accelerate launch --multi_gpu`, DDP over gloo): every
    process draws the whole step's sample and embeds its share (`training.distributed`), so both train the same model,
    every tensor equal up to the float rounding of other batch shapes. Only the main process writes the model, card
    and evaluation."""
    from safetensors.torch import load_file

    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    script = str(ROOT / "trainers" / "train_head.py")
    one = [sys.executable, script, *_cli(tmp_path / "one", tiny_backbone, tiny_data_dir, "--use_cpu", "true")]
    two = [
        sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2", "--num_machines", "1",
        "--mixed_precision", "no", "--dynamo_backend", "no", script,
        *_cli(tmp_path / "two", tiny_backbone, tiny_data_dir, "--use_cpu", "true", "--per_device_train_batch_size", "4"),
    ]  # fmt: skip
    for command in (one, two):
        result = subprocess.run(
            command, capture_output=True, text=True, env=env, timeout=900, stdin=subprocess.DEVNULL
        )
        assert result.returncode == 0, result.stderr[-3000:]
    run = tmp_path / "two" / "run"
    assert {"config.json", "model.safetensors", "README.md", "eval_results.json"} <= set(os.listdir(run))
    assert not [p for p in run.iterdir() if p.name.startswith(".tmp")]
    state = json.loads((run / "checkpoint-6" / "trainer_state.json").read_text())
    assert state["global_step"] == 6
    first, second = (load_file(tmp_path / name / "run" / "model.safetensors") for name in ("one", "two"))
    assert first.keys() == second.keys()
    changed = 0
    for name in first:
        torch.testing.assert_close(second[name], first[name], atol=TWO_PROCESS_ATOL, rtol=0, msg=name)
        changed += not torch.equal(
            first[name], load_file(tmp_path / "one" / "run" / "checkpoint-3" / "model.safetensors")[name]
        )
    assert changed  # training moved the weights after step 3 (the comparison is not of untouched tensors)
