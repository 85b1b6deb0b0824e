"""MWE ↔ gloss retrieval over the whole held-out table, in blocks, to tell a real difference from sampling noise.

    python benchmarks/bench_mwe_gloss.py --data runs/data --model runs/token-head --original runs/token-head-original

`bench_stage1.py` scores one sample of `--block` pairs; here the test table is shuffled (seed 0) and cut into
consecutive blocks of `--block` pairs (the remainder is left out), each scored by `MWEGlossRetrievalEvaluator` with
its own glosses as the candidates, so every block is as hard as `bench_stage1`'s sample. The same blocks go to every
model; the table gives each model's mean recall@10 over the blocks with its standard deviation, and its difference
from the raw backbone block by block (mean ± standard error, and blocks above / level / below).
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
from results import write_section
from stage1_models import stage1_models

from hf_tokenembed.data import load_data
from hf_tokenembed.evaluation import MWEGlossRetrievalEvaluator

METRIC = "mwe_gloss_recall@10"


def block_recalls(model, blocks: list[list[dict]]) -> list[float]:
    """recall@10 of each block of (phrase, gloss) rows."""
    return [
        MWEGlossRetrievalEvaluator([r["phrase"] for r in rows], [r["gloss"] for r in rows])(model)[METRIC]
        for rows in blocks
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="runs/data")
    parser.add_argument("--model", default="runs/token-head")
    parser.add_argument("--original", default="runs/token-head-original")
    parser.add_argument("--split", default="test", choices=["dev", "test"])
    parser.add_argument("--block", type=int, default=1000, help="pairs per block")
    args = parser.parse_args()
    if args.block < 1:
        parser.error(f"--block must be >= 1, got {args.block}")

    table = load_data(args.data)["eval/mwe_gloss"][args.split].to_list()
    order = np.random.default_rng(0).permutation(len(table))
    blocks = [[table[i] for i in order[start : start + args.block]] for start in
              range(0, len(table) - args.block + 1, args.block)]  # fmt: skip
    if not blocks:
        parser.error(f"the {args.split} table has {len(table)} pairs, fewer than one --block of {args.block}")
    models = stage1_models(args.model, args.original)
    recalls, seconds = {}, {}
    for name, model in models.items():
        start = time.perf_counter()
        recalls[name] = block_recalls(model, blocks)
        seconds[name] = time.perf_counter() - start
    raw = recalls["raw backbone"]
    lines = ["| model | mean recall@10 | sd over blocks | minus raw, mean ± s.e. | blocks above / level / below raw |",
             "|---|---:|---:|---:|---|"]  # fmt: skip
    for name, values in recalls.items():
        diffs = [v - r for v, r in zip(values, raw)]
        versus = "–" if name == "raw backbone" else (
            f"{statistics.mean(diffs):+.4f} ± {statistics.stdev(diffs) / len(diffs) ** 0.5:.4f}"
            if len(diffs) > 1 else f"{diffs[0]:+.4f}"
        )  # fmt: skip
        won = "–" if name == "raw backbone" else " / ".join(
            str(sum(test(d) for d in diffs)) for test in (lambda d: d > 0, lambda d: d == 0, lambda d: d < 0)
        )  # fmt: skip
        sd = f"{statistics.stdev(values):.4f}" if len(values) > 1 else "–"
        lines.append(f"| {name} | {statistics.mean(values):.4f} | {sd} | {versus} | {won} |")
    original = f" --original {args.original}" if "original recipe" in models else ""
    markdown = f"""## MWE ↔ gloss over the whole held-out table (`benchmarks/bench_mwe_gloss.py`)

```
python benchmarks/bench_mwe_gloss.py --data {args.data} --model {args.model}{original} --split {args.split} --block {args.block}
```

The {args.split} table of `{args.data}` ({len(table):,} pairs), shuffled (seed 0), in {len(blocks)} blocks of
{args.block:,} pairs; each block's glosses are its candidates (as in `bench_stage1.py`'s sample). Wall time per model:
{", ".join(f"{k} {v:.0f} s" for k, v in seconds.items())}.

{chr(10).join(lines)}
"""
    print(markdown)
    write_section("bench_mwe_gloss", markdown)


if __name__ == "__main__":
    main()
