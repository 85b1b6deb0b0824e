"""Stage-1 quality: the trained TokenEmbedder vs the raw backbone and the original recipe, on the held-out test sets.

    accelerate launch trainers/train_head.py --data_dir runs/data --output_dir runs/token-head
    accelerate launch trainers/train_head.py --preset original --data_dir runs/data --output_dir runs/token-head-original
    python benchmarks/bench_stage1.py --data runs/data --model runs/token-head --original runs/token-head-original

All three models are scored here by the same evaluators on the same samples (`evaluate_model`, test split, same
`--max-items` and seed); the raw backbone is the trained model's backbone, mean-pooled, no LoRA, no head. Word
similarity is also scored on SimLex-999 and WordSim-353 (human judgements this project never trains on; read from
the installed gensim package's test data).
"""

from __future__ import annotations

import argparse
import time

from results import write_section
from stage1_models import stage1_models

from hf_tokenembed.evaluation import WORD_SIMILARITY_SETS, WordSimilarityEvaluator, evaluate_model

TARGETS = [
    ("context_type_acc@1", "≥ 0.80", lambda m, raw: m >= 0.80),
    ("wic_accuracy", "≥ 0.70", lambda m, raw: m >= 0.70),
    ("synonym_recall@10", "≥ raw", lambda m, raw: m >= raw),
    ("mwe_gloss_recall@10", "≥ raw", lambda m, raw: m >= raw),
    ("order_awareness", "≥ 0.95", lambda m, raw: m >= 0.95),
    ("order_cosine_gap", "≥ 2× raw", lambda m, raw: m >= 2 * raw),
    ("geometry_spearman", "≥ 0.90", lambda m, raw: m >= 0.90),
]
SHOWN = [
    "context_type_acc@1", "context_type_acc@1_top1k", "context_type_acc@1_1k-10k", "context_type_acc@1_rare",
    "wic_accuracy", "synonym_recall@10", "mwe_gloss_recall@10", "word_geometry_spearman", "simlex999_spearman",
    "wordsim353_spearman", "sense_fine_accuracy", "sense_coarse_accuracy", "order_awareness", "order_cosine_gap", "geometry_spearman",
]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="runs/data")
    parser.add_argument("--model", default="runs/token-head")
    parser.add_argument("--original", default="runs/token-head-original")
    parser.add_argument("--max-items", type=int, default=1000)
    args = parser.parse_args()

    models = stage1_models(args.model, args.original)
    metrics, seconds = {}, {}
    for name, model in models.items():
        start = time.perf_counter()
        metrics[name] = evaluate_model(model, args.data, split="test", max_items=args.max_items)
        for similarity in WORD_SIMILARITY_SETS:
            metrics[name].update(WordSimilarityEvaluator.from_set(similarity)(model))
        seconds[name] = time.perf_counter() - start
    raw, ours = metrics["raw backbone"], metrics["this project"]
    header = "| metric | " + " | ".join(models) + " | target | met |"
    lines = [header, "|---|" + "---:|" * len(models) + "---|---|"]
    targets = {name: (text, check) for name, text, check in TARGETS}
    for metric in SHOWN:
        text, check = targets.get(metric, ("", None))
        met = "" if check is None else ("yes" if check(ours[metric], raw[metric]) else "**no**")
        cells = " | ".join(f"{metrics[name].get(metric, float('nan')):.4f}" for name in models)
        lines.append(f"| `{metric}` | {cells} | {text} | {met} |")
    markdown = f"""## Stage 1: token head quality (`benchmarks/bench_stage1.py`)

```
accelerate launch trainers/train_head.py --data_dir {args.data} --output_dir {args.model}
accelerate launch trainers/train_head.py --preset original --data_dir {args.data} --output_dir {args.original}
python benchmarks/bench_stage1.py --data {args.data} --model {args.model} --original {args.original} --max-items {args.max_items}
```

Test split of `{args.data}`, up to {args.max_items} items per set (seed 0), the same samples for every column.
Evaluation wall time per model: {", ".join(f"{k} {v:.0f} s" for k, v in seconds.items())}.

{chr(10).join(lines)}
"""
    print(markdown)
    write_section("bench_stage1", markdown)


if __name__ == "__main__":
    main()
