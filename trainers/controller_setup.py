"""What train_selector.py and train_placer.py share: the data folder, the embedder, the reconstruction
vocabulary, the sentences and their imitation states with cached vectors."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from transformers import AutoModel

import hf_tokenembed  # noqa: F401  (registers the Auto classes)
from hf_tokenembed.atomic import write_text
from hf_tokenembed.controller import ReconstructionVocabulary
from hf_tokenembed.data import load_corpus, load_data
from hf_tokenembed.training import ControllerTrainingArguments, scripts
from hf_tokenembed.training.controller_data import build_controller_data

logger = logging.getLogger(__name__)

CONFIGS = Path(__file__).with_name("configs")


def vocabulary_dir(args: ControllerTrainingArguments) -> str:
    return args.vocabulary_dir or ReconstructionVocabulary.default_path(args.embedder)


def cache_dir(args: ControllerTrainingArguments) -> str:
    return args.cache_dir or os.path.join(args.embedder, "controller_cache")


def load_vocabulary(args: ControllerTrainingArguments, embedder) -> ReconstructionVocabulary:
    """The vocabulary folder if it matches the embedder, else built from the data folder (main process first)."""
    path = vocabulary_dir(args)
    with args.main_process_first(desc="reconstruction vocabulary"):
        try:
            return ReconstructionVocabulary.load(path, fingerprint=embedder.fingerprint())
        except (FileNotFoundError, ValueError) as err:
            logger.info("Building the reconstruction vocabulary (%s)", err)
            vocabulary = ReconstructionVocabulary.build(
                embedder, args.data_dir, min_count=args.vocabulary_min_count, progress=args.should_log
            )
            if args.should_save:
                vocabulary.save(path)
            return vocabulary


def training_sentences(args: ControllerTrainingArguments, data: dict) -> list[str]:
    """The data folder's training split, then the extra corpora's sentences (all their splits: no BBC test text)."""
    sentences = list(data["corpus"]["train"]["text"])
    for corpus in args.extra_corpora:
        extra = load_corpus(corpus, max_words=40)
        sentences += [t for split in extra.values() for t in split["text"]]
    return sentences[: args.max_sentences] if args.max_sentences else sentences


def prepare(args: ControllerTrainingArguments):
    """`(embedder, vocabulary, train data, dev data)`, everything cached."""
    scripts.ensure_data(args)
    embedder = AutoModel.from_pretrained(args.embedder).eval()
    vocabulary = load_vocabulary(args, embedder)
    data = load_data(args.data_dir)
    caches = cache_dir(args)
    with args.main_process_first(desc="controller states"):
        train = build_controller_data(
            embedder, vocabulary, training_sentences(args, data), os.path.join(caches, "train"),
            states_per_sentence=args.states_per_sentence, max_entries=args.max_entries, seed=args.seed,
            progress=args.should_log,
        )  # fmt: skip
        try:
            dev = build_controller_data(
                embedder, vocabulary, list(data["corpus"]["dev"]["text"])[: args.eval_sentences],
                os.path.join(caches, "dev"), states_per_sentence=args.states_per_sentence,
                max_entries=args.max_entries, seed=args.seed + 1, progress=args.should_log,
            )  # fmt: skip
        except ValueError as err:  # no dev sentence is fully covered (a toy corpus): nothing to evaluate on
            logger.warning("No held-out states: %s", err)
            dev = None
    return embedder, vocabulary, train, dev


def finish(trainer, args: ControllerTrainingArguments) -> dict:
    """Save the model and its state, then the held-out metrics and the model card (main process only)."""
    trainer.save_model()
    trainer.save_state()
    metrics = trainer.evaluate()
    if trainer.is_world_process_zero():
        write_text(os.path.join(args.output_dir, "eval_results.json"), json.dumps(metrics, indent=2))
        trainer.create_model_card(metrics)
    return metrics
