"""The Selector alone, on the oracle states of held-out sentences: several stage-1 spaces side by side.

    python benchmarks/bench_selector.py --data runs/data \
        --bundle "released=checkpoints/tokenembed-reconstructor-minilm" --run "today=runs/token-head,runs/selector"

Each column is a Selector with the embedder and reconstruction vocabulary it was trained with: a bundle, or a
training run (the embedder folder and its ``reconstruction_vocab/``, and the Selector folder). The states are the
ones `bench_reconstruction.py` scores its components on: the oracle states (6 per sentence, seed 0) of the first
`--sentences` test reconstruction sentences, each built in that column's own space. hit@1 / hit@16: the Selector's
top entry (any of its top 16) is one the text still misses.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from results import write_section
from transformers import AutoModel

import hf_tokenembed  # noqa: F401  (registers the Auto classes)
from hf_tokenembed.controller import ReconstructionVocabulary, Reconstructor
from hf_tokenembed.data import load_data
from hf_tokenembed.training import ControllerTrainingArguments, SelectorTrainer, build_controller_data


def selector_metrics(embedder, vocabulary, selector, sentences: list[str]) -> dict[str, float]:
    """`SelectorTrainer.state_metrics` on the oracle states of `sentences` in this embedder's space."""
    with tempfile.TemporaryDirectory() as tmp:
        states = build_controller_data(embedder, vocabulary, sentences, Path(tmp) / "states", progress=False)
        args = ControllerTrainingArguments(output_dir=tmp, report_to="none", use_cpu=True)
        return SelectorTrainer(selector, args, states).state_metrics(states)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="runs/data")
    parser.add_argument("--bundle", action="append", default=[], metavar="LABEL=PATH", help="a bundle (repeatable)")
    parser.add_argument("--run", action="append", default=[], metavar="LABEL=EMBEDDER,SELECTOR",
                        help="a training run's embedder and Selector folders (repeatable)")  # fmt: skip
    parser.add_argument("--sentences", type=int, default=500)
    args = parser.parse_args()
    columns = {}
    for spec in args.bundle:
        label, _, path = spec.partition("=")
        if not path:
            parser.error(f"--bundle takes LABEL=PATH, got {spec!r}")
        columns[label] = ("bundle", path)
    for spec in args.run:
        label, _, paths = spec.partition("=")
        if paths.count(",") != 1:
            parser.error(f"--run takes LABEL=EMBEDDER,SELECTOR, got {spec!r}")
        columns[label] = ("run", paths)
    if not columns:
        parser.error("give at least one --bundle or --run")

    sentences = list(load_data(args.data)["eval/reconstruction"]["test"]["text"])[: args.sentences]
    rows, seconds = {}, {}
    for label, (kind, spec) in columns.items():
        start = time.perf_counter()
        if kind == "bundle":
            reconstructor = Reconstructor.from_pretrained(spec)
            embedder, vocabulary, selector = reconstructor.embedder, reconstructor.vocabulary, reconstructor.selector
        else:
            embedder_dir, selector_dir = spec.split(",")
            embedder = AutoModel.from_pretrained(embedder_dir).eval()
            vocabulary = ReconstructionVocabulary.load(
                Path(embedder_dir) / "reconstruction_vocab", fingerprint=embedder.fingerprint()
            )
            selector = AutoModel.from_pretrained(selector_dir).eval()
        rows[label] = selector_metrics(embedder, vocabulary, selector, sentences)
        seconds[label] = time.perf_counter() - start
    lines = ["| Selector | hit@1 | hit@16 | states |", "|---|---:|---:|---:|"]
    for label, m in rows.items():
        lines.append(
            f"| {label} | {m['selector_hit@1']:.3f} | {m['selector_hit@16']:.3f} | {m['selector_states']:,} |"
        )
    flags = " ".join([f'--bundle "{b}"' for b in args.bundle] + [f'--run "{r}"' for r in args.run])
    markdown = f"""## The Selector alone (`benchmarks/bench_selector.py`)

```
python benchmarks/bench_selector.py --data {args.data} {flags} --sentences {args.sentences}
```

Oracle states of the first {len(sentences)} held-out test reconstruction sentences, each column in its own stage-1
space. Wall time per column: {", ".join(f"{k} {v:.0f} s" for k, v in seconds.items())}.

{chr(10).join(lines)}
"""
    print(markdown)
    write_section("bench_selector", markdown)


if __name__ == "__main__":
    main()
