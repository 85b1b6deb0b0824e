"""Homograph senses on held-out lemmas: the raw backbone, the original recipe and this project's TokenEmbedder.

    python benchmarks/bench_senses.py --data runs/data --model runs/token-head --original runs/token-head-original \
        --variant "gloss matching=runs/token-head-gloss"

Every model is scored by the one sense-scoring path (`hf_tokenembed.evaluation.sense_scoring`): the queries are the
WordNet example sentences of the WiC test lemmas (which stage 1 never trains on), the candidates every sense of the
lemma with the query's part of speech, each rebuilt from its gloss (as a context and as a text), its other examples,
its synonyms and its hypernym's gloss without the query (leave-one-out); ties count 1/n. Fine accuracy asks for the
synset, coarse accuracy for the lexicographer file (scored where the candidates span two or more). WiC-style
accuracy is given on all pairs and on pairs of two example sentences only (threshold tuned on dev, scored on test).
A per-source ablation on the raw backbone says what each part of a sense vector adds.
"""

from __future__ import annotations

import argparse
import random
import time
from pathlib import Path

from datasets import load_from_disk
from results import write_section
from stage1_models import stage1_models
from transformers import AutoModel

import hf_tokenembed  # noqa: F401  (registers the Auto classes)
from hf_tokenembed.evaluation import WiCEvaluator, raw_encoder, score_senses
from hf_tokenembed.evaluation.base import sample
from hf_tokenembed.index import SENSE_SOURCES

TARGETS = {"fine_accuracy": 0.60, "coarse_accuracy": 0.85, "wic_examples_accuracy": 0.65}
ROWS = (
    ("fine_accuracy", "fine accuracy (synset)"),
    ("fine_random", "  random pick"),
    ("fine_first_sense", "  first WordNet sense"),
    ("coarse_accuracy", "coarse accuracy (lexicographer file)"),
    ("coarse_random", "  random pick"),
    ("coarse_first_sense", "  first WordNet sense"),
    ("coverage", "coverage (queries with ≥ 2 candidates)"),
    ("wic_examples_accuracy", "WiC-style, example pairs only"),
    ("wic_accuracy", "WiC-style, all pairs (examples and definitions)"),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="runs/data")
    parser.add_argument("--model", default="runs/token-head")
    parser.add_argument("--original", default="runs/token-head-original")
    parser.add_argument(
        "--variant",
        action="append",
        default=[],
        metavar="LABEL=PATH",
        help="Another stage 1 as a column (repeatable).",
    )
    parser.add_argument(
        "--raw-encoder",
        action="append",
        default=[],
        metavar="LABEL=PATH",
        help="Another encoder (hub name or sentence-transformers folder), untrained, as a column (repeatable).",
    )
    parser.add_argument("--lemmas", type=int, default=1000, help="Test lemmas sampled (seed 0); 0: all.")
    parser.add_argument("--wic-rows", type=int, default=2000, help="WiC rows per split (seed 0).")
    args = parser.parse_args()
    variants = dict(v.split("=", 1) for v in args.variant if "=" in v)
    encoders = dict(v.split("=", 1) for v in args.raw_encoder if "=" in v)
    if len(variants) != len(args.variant) or len(encoders) != len(args.raw_encoder):
        parser.error("`--variant` and `--raw-encoder` take LABEL=PATH")

    senses = load_from_disk(str(Path(args.data, "senses")))
    wic = load_from_disk(str(Path(args.data, "eval", "wic")))
    lemmas = sorted(set(wic["test"]["lemma"]))
    total_lemmas = len(lemmas)
    if args.lemmas:
        lemmas = sorted(random.Random(0).sample(lemmas, min(args.lemmas, len(lemmas))))
    wic_eval = WiCEvaluator(
        sample(wic["dev"].to_list(), args.wic_rows, 0), sample(wic["test"].to_list(), args.wic_rows, 1)
    )

    models = stage1_models(args.model, args.original)
    models.update({label: AutoModel.from_pretrained(path).eval() for label, path in variants.items()})
    models.update({label: raw_encoder(path) for label, path in encoders.items()})
    figures, seconds = {}, {}
    for name, model in models.items():
        start = time.perf_counter()
        figures[name] = {**score_senses(model, senses, lemmas, progress=True), **wic_eval(model)}
        seconds[name] = time.perf_counter() - start
        print(name, figures[name], flush=True)
    ablation = {
        source: score_senses(models["raw backbone"], senses, lemmas, sources=(source,)) for source in SENSE_SOURCES
    }

    lines = ["| | " + " | ".join(models) + " | target |", "|---|" + "---:|" * len(models) + "---|"]
    for key, label in ROWS:
        cells = " | ".join(f"{figures[name][key]:.3f}" for name in models)
        target = f"≥ {TARGETS[key]:.2f}" if key in TARGETS else ""
        lines.append(f"| {label} | {cells} | {target} |")
    some = figures["this project"]
    lines.append(f"| scored queries (coarse) | {some['num_scored']:,} ({some['num_coarse']:,}) of "
                 f"{some['num_queries']:,} |" + " |" * len(models))  # fmt: skip
    parts = ["| source alone (raw backbone) | fine | coarse | random (fine) | coverage |", "|---|---:|---:|---:|---:|"]
    for source, r in ablation.items():
        parts.append(
            f"| `{source}` | {r['fine_accuracy']:.3f} | {r['coarse_accuracy']:.3f} | {r['fine_random']:.3f} | "
            f"{r['coverage']:.3f} |"
        )
    lemma_note = f"{len(lemmas):,} of the {total_lemmas:,} WiC test lemmas (seed 0)"
    markdown = f"""## Homograph senses (`benchmarks/bench_senses.py`)

```
python benchmarks/bench_senses.py --data {args.data} --model {args.model} --original {args.original} \\
    {"".join(f'--variant "{v}" ' for v in args.variant)}{"".join(f'--raw-encoder "{v}" ' for v in args.raw_encoder)}--lemmas {args.lemmas} --wic-rows {args.wic_rows}
```

Queries: the WordNet example sentences of {lemma_note}; none of these lemmas is trained on. Candidates and
scoring as in `hf_tokenembed.evaluation.sense_scoring` (leave-one-out, the same recipe for gold and non-gold, ties
1/n). WiC-style: {args.wic_rows:,} rows per split, threshold tuned on dev. Wall time per model:
{", ".join(f"{k} {v:.0f} s" for k, v in seconds.items())}.

{chr(10).join(lines)}

What each part of a sense vector does alone (raw backbone; a sense lacking the part drops out, hence the coverage):

{chr(10).join(parts)}
"""
    print(markdown)
    write_section("bench_senses", markdown)


if __name__ == "__main__":
    main()
