"""Training examples/s: TokenHeadTrainer (frozen-feature cache) vs the original loop, in one run.

    python benchmarks/bench_train_head.py --data runs/data [--steps 600] [--batch-size 64]

The original loop re-runs the frozen encoder on every batch of words, then trains the head with the original loss.
Our trainer reads the frozen layers' outputs from the cache (built once, timed separately) and trains the same
head with the same loss (`recipe=original`), and, for reference, the default preset's LoRA layers + head with the
full default objective. Same backbone (packaged MiniLM), batch size and words. Medians of per-step times, and the
whole run's examples/s (every step plus the set-up inside `train()`; the cache build is reported apart). The default
600 steps are the default preset's run length.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from results import write_section
from transformers import TrainerCallback

from hf_tokenembed import TokenEmbedder, TokenEmbedderConfig
from hf_tokenembed.training import (
    FrozenFeatureCache,
    OriginalRecipeLoss,
    TokenHeadTrainer,
    TokenHeadTrainingArguments,
    build_stage1_examples,
)

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "trainers"))
from train_head import load_preset  # noqa: E402

ORIGINAL_CONFIG = {"lora_layers": 0, "pooling": "cls", "head_dims": [384, 256]}
DEFAULT_PRESET = load_preset("default")
DEFAULT_CONFIG = {key: DEFAULT_PRESET[key] for key in ("lora_layers", "lora_rank", "lora_alpha")}


class StepTimer(TrainerCallback):
    """Wall time of each optimizer step."""

    def __init__(self):
        self.times, self._start = [], None

    def on_step_begin(self, args, state, control, **kwargs):
        self._start = time.perf_counter()

    def on_step_end(self, args, state, control, **kwargs):
        self.times.append(time.perf_counter() - self._start)


def time_trainer(
    examples, config: dict, recipe: str, steps: int, batch_size: int, workdir: str
) -> tuple[float, float, float]:
    """(cache build seconds, median seconds per step, whole `train()` seconds) of TokenHeadTrainer."""
    model = TokenEmbedder(TokenEmbedderConfig(**config))
    start = time.perf_counter()
    cache = FrozenFeatureCache.build(model, examples.texts_to_cache(), f"{workdir}/cache-{recipe}", progress=False)
    cache_seconds = time.perf_counter() - start
    args = TokenHeadTrainingArguments(
        output_dir=f"{workdir}/run-{recipe}", max_steps=steps, per_device_train_batch_size=batch_size,
        recipe=recipe, save_strategy="no", report_to="none", use_cpu=True, logging_steps=10_000,
        refresh_negatives_steps=10_000, disable_tqdm=True,
    )  # fmt: skip
    timer = StepTimer()
    trainer = TokenHeadTrainer(model, args, examples, cache, callbacks=[timer])
    start = time.perf_counter()
    trainer.train()
    return cache_seconds, statistics.median(timer.times[2:]), time.perf_counter() - start


def time_original_loop(examples, steps: int, batch_size: int) -> tuple[float, float]:
    """(median seconds per step, whole loop seconds) of the original loop: frozen encoder + head on every batch."""
    model = TokenEmbedder(TokenEmbedderConfig(**ORIGINAL_CONFIG)).train()
    loss_fn = OriginalRecipeLoss(model)
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=5e-4)
    rng = np.random.default_rng(0)
    features = model.tokenize(examples.types)
    times = []
    begin = time.perf_counter()
    for _ in range(steps):
        start = time.perf_counter()
        words = rng.choice(len(examples.types), batch_size, replace=False)
        nearest = rng.choice(len(examples.types), batch_size, replace=False)  # the mined neighbours' forward
        anchor = model(**model.collate(features, words.tolist())).embeddings
        negative = model(**model.collate(features, nearest.tolist())).embeddings
        loss = loss_fn.compute_loss_from_embeddings(anchor, negative, model.head)["loss"]
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        times.append(time.perf_counter() - start)
    return statistics.median(times[2:]), time.perf_counter() - begin


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="runs/data", help="data folder (hf-tokenembed data build)")
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--contexts", type=int, default=1000)
    parser.add_argument("--words", type=int, default=5000, help="most frequent vocabulary words used as types")
    args = parser.parse_args()

    examples = build_stage1_examples(
        args.data, max_contexts=args.contexts, max_words=args.words, order_sentences=200, progress=False
    )
    with tempfile.TemporaryDirectory() as workdir:
        original_loop, original_total = time_original_loop(examples, args.steps, args.batch_size)
        cache_original, ours_original, ours_original_total = time_trainer(
            examples, ORIGINAL_CONFIG, "original", args.steps, args.batch_size, workdir
        )
        cache_default, ours_default, ours_default_total = time_trainer(
            examples, DEFAULT_CONFIG, "default", args.steps, args.batch_size, workdir
        )
    b, n = args.batch_size, args.batch_size * args.steps
    markdown = f"""## Stage-1 training speed (`benchmarks/bench_train_head.py`)

`python benchmarks/bench_train_head.py --data {args.data} --steps {args.steps} --batch-size {b} --contexts {args.contexts} --words {args.words}`
— packaged MiniLM, batch {b}, {len(examples.types):,} word types, median step time over {args.steps} steps
({torch.get_num_threads()} torch threads).

| loop | median s/step | examples/s (median step) | examples/s (whole run) |
|---|---:|---:|---:|
| original loop (frozen encoder re-run every batch, head + original loss) | {original_loop:.3f} | {b / original_loop:,.0f} | {n / original_total:,.0f} |
| TokenHeadTrainer, `recipe=original` on the feature cache (same head, same loss) | {ours_original:.3f} | {b / ours_original:,.0f} | {n / ours_original_total:,.0f} |
| TokenHeadTrainer, default recipe (the default preset's LoRA: top {DEFAULT_CONFIG["lora_layers"]} layers, rank {DEFAULT_CONFIG["lora_rank"]}; head; all loss parts) | {ours_default:.3f} | {b / ours_default:,.0f} | {n / ours_default_total:,.0f} |

- Same head and loss, cache vs re-running the encoder: **{original_loop / ours_original:.1f}×** the examples/s
  per median step, **{original_total / ours_original_total:.1f}×** over the whole run (target ≥ 10×). The whole
  run counts every step plus the trainer's set-up and its hard-negative index (built at the start, with every
  word's neighbours searched at once when the run will look up at least as many anchors as there are words).
  One-off cache builds, not counted: {cache_original:.0f} s (head-only cache) and {cache_default:.0f} s (states
  below the LoRA layers) for {len(examples.texts_to_cache()):,} texts.
"""
    print(markdown)
    write_section("bench_train_head", markdown)


if __name__ == "__main__":
    main()
