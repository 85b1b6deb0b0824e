"""A tiny controller: the tiny TokenEmbedder, a vocabulary of the tiny data folder, a few training steps."""

from __future__ import annotations

import pytest
import torch

from hf_tokenembed import Placer, PlacerConfig, Selector, SelectorConfig
from hf_tokenembed.controller import ReconstructionVocabulary, Reconstructor
from hf_tokenembed.data import load_data
from hf_tokenembed.training import ControllerTrainingArguments, PlacerTrainer, SelectorTrainer, build_controller_data


def controller_args(tmp_path, **overrides) -> ControllerTrainingArguments:
    values = dict(
        output_dir=str(tmp_path), max_steps=4, per_device_train_batch_size=16, learning_rate=1e-3, report_to="none",
        use_cpu=True, seed=0, logging_steps=1, save_steps=2, top_k=4, eval_sentences=10,
    )  # fmt: skip
    values.update(overrides)
    return ControllerTrainingArguments(**values)


@pytest.fixture(scope="module")
def controller(_tiny_model, tiny_data_dir, tmp_path_factory):
    """(embedder, vocabulary, train data, dev data, trained selector, trained placer, reconstructor). The tiny
    corpus numbers its sentences, so held-out ones are never covered: "dev" states come from other training
    sentences here."""
    root = tmp_path_factory.mktemp("controller")
    torch.manual_seed(0)  # the models' initial weights, whichever tests ran before
    embedder = _tiny_model
    vocabulary = ReconstructionVocabulary.build(embedder, tiny_data_dir, min_count=1, progress=False)
    corpus = load_data(tiny_data_dir)["corpus"]
    train = build_controller_data(
        embedder, vocabulary, list(corpus["train"]["text"])[:80], root / "cache" / "train", states_per_sentence=4,
        progress=False,
    )  # fmt: skip
    dev = build_controller_data(
        embedder, vocabulary, list(corpus["train"]["text"])[80:90], root / "cache" / "dev", states_per_sentence=3,
        progress=False,
    )  # fmt: skip
    dims = {"sentence_dim": embedder.sentence_dim, "token_dim": vocabulary.token_dim}
    selector = Selector(SelectorConfig(**dims, num_entries=len(vocabulary), hidden_size=32, num_layers=1))
    selector.set_entry_keys(vocabulary.keys)
    SelectorTrainer(selector, controller_args(root / "selector"), train, eval_data=dev).train()
    placer = Placer(PlacerConfig(**dims, hidden_size=32, num_layers=1, intermediate_size=64))
    PlacerTrainer(placer, controller_args(root / "placer"), train, selector.eval(), eval_data=dev).train()
    reconstructor = Reconstructor(embedder, selector.eval(), placer.eval(), vocabulary)
    return embedder, vocabulary, train, dev, selector, placer, reconstructor


@pytest.fixture(scope="module")
def rebuild(controller, tmp_path_factory):
    """`pipeline("text-reconstruction")` over the tiny controller, saved as a bundle."""
    from transformers import pipeline

    *_, reconstructor = controller
    folder = tmp_path_factory.mktemp("pipeline-bundle") / "bundle"
    reconstructor.to_bundle().save_pretrained(folder)
    return pipeline("text-reconstruction", model=str(folder))
