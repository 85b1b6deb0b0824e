from __future__ import annotations

import json

import datasets
import pytest

from hf_tokenembed.evaluation import (
    CachedEncoder,
    TokenSpaceEvaluator,
    evaluate_model,
    evaluators_from_data,
    format_metrics,
)

from .fakes import FakeEmbedder, unit

EXPECTED = {
    "synonym_recall@10", "context_type_acc@1", "wic_accuracy", "wic_threshold", "sense_fine_accuracy",
    "mwe_gloss_recall@10", "order_awareness", "order_cosine_gap", "geometry_spearman", "token_space_score",
}  # fmt: skip

SENTENCES = {
    "train": ["The cat sat on the mat near the river bank today."],
    "dev": [f"The big dog sat near the river bank on day {i} of the trip." for i in range(6)],
    "test": [f"A large cat ran to the bank at home on day {i} of the week." for i in range(6)],
}


def _wic(lemma_suffix: str) -> list[dict]:
    rows = []
    for i in range(4):
        s1, s2 = f"the bank {lemma_suffix} {i}", "bank: sloping land"
        rows.append({"lemma": "bank", "pos": "n", "sentence1": s1, "start1": 4, "end1": 8, "sentence2": s2,
                     "start2": 0, "end2": 4, "synset1": "bank.n.01", "synset2": "bank.n.01" if i % 2 else "bank.n.02",
                     "label": i % 2})  # fmt: skip
    return rows


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    """A hand-made folder with the layout of `hf_tokenembed.data.build_data` (no WordNet needed)."""
    root = tmp_path_factory.mktemp("eval_data")
    (root / "manifest.json").write_text(json.dumps({"params": {}, "inputs": {}}))
    vocab = ["the", "a", "big", "large", "cat", "dog", "sat", "ran", "bank", "river", "home", "day", "of", "on", "to"]
    tables = {
        "vocab": {"word": vocab, "count": [1] * len(vocab), "zipf": [1.0] * len(vocab)},
        "mwes": {"phrase": ["river bank"], "count": [1], "source": ["npmi"], "npmi": [0.9]},
        "senses": {
            "word": ["bank", "bank"], "synset": ["bank.n.01", "bank.n.02"], "pos": ["n", "n"],
            "lexname": ["noun.object", "noun.group"], "gloss": ["sloping land", "a financial firm"],
            "examples": [["we sat on the bank"], ["the bank lent money"]], "spans": [[[14, 18]], [[4, 8]]],
        },
        "homographs": {"word": ["bank"], "lexnames": [["noun.object", "noun.group"]], "synsets": [["bank.n.01"]]},
    }  # fmt: skip
    for name, columns in tables.items():
        datasets.Dataset.from_dict(columns).save_to_disk(str(root / name))
    splits = {
        "corpus": {split: {"text": texts} for split, texts in SENTENCES.items()},
        "eval/synonyms": {s: {"word": ["big", "cat"], "synonym": ["large", "true cat"], "pos": ["a", "n"]}
                          for s in ("dev", "test")},
        "eval/wic": {s: datasets.Dataset.from_list(_wic(s)).to_dict() for s in ("dev", "test")},
        "eval/mwe_gloss": {s: {"phrase": ["river bank"], "gloss": ["sloping land"], "synset": ["bank.n.01"]}
                           for s in ("dev", "test")},
        "eval/reconstruction": {s: {"text": SENTENCES[s]} for s in ("dev", "test")},
    }  # fmt: skip
    for name, parts in splits.items():
        datasets.DatasetDict({s: datasets.Dataset.from_dict(c) for s, c in parts.items()}).save_to_disk(
            str(root / name)
        )
    return root


def test_cached_encoder_encodes_each_text_once():
    fake = FakeEmbedder()
    cached = CachedEncoder(fake)
    first = cached.encode_words(["a", "b", "a"])
    second = cached.encode_words(["b", "c"])
    assert fake.encoded_words == ["a", "b", "c"]
    assert first.shape == (3, 16) and (first[1] == second[0]).all()
    assert cached.token_dim == 16  # other attributes pass through
    assert cached.encode_words([]).shape == (0, 16)


def test_evaluators_from_data_runs_every_evaluator(data_dir, tmp_path):
    near = {"big": unit(1), "large": unit(1, 0, 0.1), "cat": unit(0, 1), "true cat": unit(0, 1, 0.1)}
    fake = FakeEmbedder(words=near)
    evaluator = evaluators_from_data(data_dir, "test", max_items=50, reference=FakeEmbedder())
    assert isinstance(evaluator, TokenSpaceEvaluator) and evaluator.primary_metric == "token_space_score"
    metrics = evaluator(fake, output_path=str(tmp_path))
    assert set(metrics) >= EXPECTED
    assert all(isinstance(v, float) for v in metrics.values())
    assert metrics["synonym_recall@10"] == 1.0  # each synonym sits next to its word
    assert metrics["context_type_acc@1"] == 1.0  # the fake's in-context vector is its type vector
    assert metrics["geometry_spearman"] == pytest.approx(1.0)
    assert fake.encoded_words.count("cat") == 1  # vocabulary shared by synonyms and context->type
    assert len(list(tmp_path.glob("*_results.csv"))) == 7
    assert "wic_accuracy" in format_metrics(metrics)


def test_evaluate_model_dev_split(data_dir):
    metrics = evaluate_model(FakeEmbedder(), data_dir, split="dev", max_items={"order": 3}, reference=FakeEmbedder())
    assert metrics["order_sentences"] == 3.0


def test_builder_arguments(data_dir, tmp_path):
    with pytest.raises(ValueError, match="`split`"):
        evaluators_from_data(data_dir, "train")
    with pytest.raises(FileNotFoundError, match="`data_dir`"):
        evaluators_from_data(tmp_path / "missing")
    with pytest.raises(FileNotFoundError, match="data folder"):
        evaluators_from_data(tmp_path)  # exists, but no manifest.json
    with pytest.raises(ValueError, match="unknown keys"):
        evaluators_from_data(data_dir, max_items={"nope": 3})
    with pytest.raises(ValueError, match="max_items"):
        evaluators_from_data(data_dir, max_items=0)
    with pytest.raises(ValueError, match="`k`"):
        evaluators_from_data(data_dir, k=0)


@pytest.mark.slow
def test_evaluate_model_with_packaged_minilm(data_dir, minilm_model):
    """The real backbone end to end: against itself geometry is exactly preserved, in both spaces; a model with an
    untrained head gets other figures (the metrics can move)."""
    from hf_tokenembed import TokenEmbedder, TokenEmbedderConfig

    raw = TokenEmbedder(TokenEmbedderConfig(head_dims=[], lora_layers=0)).eval()
    metrics = evaluate_model(raw, data_dir, max_items=20)
    assert set(metrics) >= EXPECTED | {"word_geometry_spearman"}
    assert metrics["geometry_spearman"] == pytest.approx(1.0, abs=1e-4)
    assert metrics["word_geometry_spearman"] == pytest.approx(1.0, abs=1e-4)
    other = evaluate_model(minilm_model, data_dir, max_items=20, reference=raw)
    assert other["word_geometry_spearman"] < 0.99  # a random head moves the token space...
    assert other["geometry_spearman"] == pytest.approx(1.0, abs=1e-4)  # ...but not the sentence space (fresh LoRA)
    # On this small data folder the recall@10 figures saturate at 1.0 for both; the WiC threshold is continuous.
    assert other["wic_threshold"] != pytest.approx(metrics["wic_threshold"], abs=1e-4)
