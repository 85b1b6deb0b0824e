"""Stage 1: train the token head (LoRA on the top layers + MLP head) on frozen-feature caches.

    accelerate launch trainers/train_head.py                          # default preset, fully offline
    accelerate launch trainers/train_head.py --preset original        # the original recipe, same data and cache
    accelerate launch --multi_gpu --num_processes 2 trainers/train_head.py --preset tiny --use_cpu true  # 2 CPU processes
    accelerate launch trainers/train_head.py --backbone intfloat/e5-base-v2 --output_dir runs/e5-head

A preset (`trainers/configs/<name>.json`, or a path) sets the defaults; any `--flag` overrides it. The run resumes
from the last checkpoint in `--output_dir`, saves the model with its model card and writes `eval_results.json`.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from transformers.trainer_utils import set_seed

from hf_tokenembed import TokenEmbedder, TokenEmbedderConfig
from hf_tokenembed.atomic import write_text
from hf_tokenembed.training import FrozenFeatureCache, TokenHeadTrainer, TokenHeadTrainingArguments, scripts
from hf_tokenembed.training.examples import build_stage1_examples

logger = logging.getLogger(__name__)

CONFIGS = Path(__file__).with_name("configs")


def load_preset(name: str) -> dict:
    """Argument defaults of preset `name`: a file in trainers/configs/ or a JSON path."""
    return scripts.load_preset(name, CONFIGS)


def parse_args(argv: list[str] | None = None) -> TokenHeadTrainingArguments:
    """The preset's values, overridden by explicit flags."""
    return scripts.parse_with_preset(TokenHeadTrainingArguments, CONFIGS, "default", argv, description=__doc__)


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.should_log else logging.WARNING)
    scripts.use_cpu_cores(args)
    from hf_tokenembed.evaluation import evaluate_model

    scripts.ensure_data(args)
    config = TokenEmbedderConfig(
        backbone=args.backbone,
        lora_layers=args.lora_layers,
        lora_rank=args.lora_rank,
        lora_alpha=args.lora_alpha,
        head_dims=args.head_dims or None,
        pooling=args.pooling,
    )
    set_seed(args.seed)  # the model's initialisation (the Trainer seeds only after it is built)
    model = TokenEmbedder(config)
    examples = build_stage1_examples(
        args.data_dir,
        max_contexts=args.max_contexts,
        occurrences_per_context=args.occurrences_per_context,
        uniform_occurrences=args.uniform_occurrences,
        max_words=args.max_words,
        order_sentences=args.order_sentences,
        perturbations=args.perturbations,
        swaps=args.swaps,
        max_sense_words=args.max_sense_words,
        gloss_towers=args.sense_loss == "gloss_matching",
        max_synonym_pairs=args.max_synonym_pairs,
        max_phrase_glosses=args.max_phrase_glosses,
        seed=args.seed,
        progress=args.should_log,
    )
    cache_dir = args.cache_dir or os.path.join(args.output_dir, "feature_cache")
    with args.main_process_first(desc="feature cache"):
        cache = FrozenFeatureCache.build(model, examples.texts_to_cache(), cache_dir, progress=args.should_log)
    trainer = TokenHeadTrainer(model, args, examples, cache)
    scripts.train_or_resume(trainer)
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
