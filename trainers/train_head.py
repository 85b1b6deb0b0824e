"""Stage 1: train the token head (LoRA on the top layers + MLP head) on frozen-feature caches.

    accelerate launch trainers/train_head.py                          # default preset, fully offline
    accelerate launch trainers/train_head.py --preset original        # the original recipe, same data and cache
    accelerate launch --cpu --num_processes 2 trainers/train_head.py --preset tiny
    accelerate launch trainers/train_head.py --backbone intfloat/e5-base-v2 --output_dir runs/e5-head

A preset (`trainers/configs/<name>.json`, or a path) sets the defaults; any `--flag` overrides it. The run resumes
from the last checkpoint in `--output_dir`, saves the model with its model card and writes `eval_results.json`.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
from pathlib import Path

import torch
from transformers import HfArgumentParser
from transformers.trainer_utils import get_last_checkpoint

from hf_tokenembed import TokenEmbedder, TokenEmbedderConfig
from hf_tokenembed.atomic import write_text
from hf_tokenembed.training import FrozenFeatureCache, TokenHeadTrainer, TokenHeadTrainingArguments
from hf_tokenembed.training.examples import build_stage1_examples

logger = logging.getLogger(__name__)

CONFIGS = Path(__file__).with_name("configs")


def load_preset(name: str) -> dict:
    """Argument defaults of preset `name`: a file in trainers/configs/ or a JSON path."""
    path = CONFIGS / f"{name}.json"
    if not path.is_file():
        path = Path(name)
    if not path.is_file():
        known = sorted(p.stem for p in CONFIGS.glob("*.json"))
        raise ValueError(f"`--preset` {name!r} is neither one of {known} nor a JSON file")
    return json.loads(path.read_text())


def parse_args(argv: list[str] | None = None) -> TokenHeadTrainingArguments:
    """The preset's values, overridden by explicit flags."""
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--preset", default="default")
    known, rest = pre.parse_known_args(argv)
    parser = HfArgumentParser(TokenHeadTrainingArguments, description=__doc__)
    parser.add_argument("--preset", default="default", help="trainers/configs/<name>.json or a JSON path")
    parser.set_defaults(**load_preset(known.preset))
    args, _preset = parser.parse_args_into_dataclasses(argv)
    return args


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.should_log else logging.WARNING)
    if args.device.type == "cpu":  # `accelerate launch` without `--cpu` pins OMP_NUM_THREADS=1
        torch.set_num_threads(args.cpu_threads or max(1, (os.cpu_count() or 1) // args.world_size))
    from hf_tokenembed.data import build_data
    from hf_tokenembed.evaluation import evaluate_model

    with args.main_process_first(desc="data"):
        build_data(args.corpus, args.data_dir, progress=args.should_log)
    config = TokenEmbedderConfig(
        backbone=args.backbone,
        lora_layers=args.lora_layers,
        lora_rank=args.lora_rank,
        lora_alpha=args.lora_alpha,
        head_dims=args.head_dims or None,
        pooling=args.pooling,
    )
    model = TokenEmbedder(config)
    examples = build_stage1_examples(
        args.data_dir,
        max_contexts=args.max_contexts,
        occurrences_per_context=args.occurrences_per_context,
        max_words=args.max_words,
        order_sentences=args.order_sentences,
        perturbations=args.perturbations,
        swaps=args.swaps,
        max_sense_words=args.max_sense_words,
        max_synonym_pairs=args.max_synonym_pairs,
        seed=args.seed,
        progress=args.should_log,
    )
    cache_dir = args.cache_dir or os.path.join(args.output_dir, "feature_cache")
    with args.main_process_first(desc="feature cache"):
        cache = FrozenFeatureCache.build(model, examples.texts_to_cache(), cache_dir, progress=args.should_log)
    trainer = TokenHeadTrainer(model, args, examples, cache)
    last = get_last_checkpoint(args.output_dir) if os.path.isdir(args.output_dir) else None
    if last:
        logger.info("Resuming from %s", last)
    trainer.train(resume_from_checkpoint=last)
    trainer.save_model()
    trainer.save_state()
    metrics = {}
    if trainer.is_world_process_zero():
        metrics = evaluate_model(model.eval(), args.data_dir, split=args.eval_split, max_items=args.eval_max_items)
        write_text(os.path.join(args.output_dir, "eval_results.json"), json.dumps(metrics, indent=2))
        trainer.create_model_card(metrics)
    return metrics


if __name__ == "__main__":
    main()
