"""Greedy decoding at several `patience` values (steps without a higher cosine before a text ends).

    python benchmarks/bench_greedy_patience.py --data runs/data --embedder runs/token-head --selector runs/selector \
        --placer runs/placer --patience 3 6 10 64

The sentences are bench_reconstruction.py's (100 per length bucket, seed 0), each bucket decoded as one batch;
patience 64 never stops on no gain (the Placer's longest buffer is 64 entries).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from results import write_section
from transformers import AutoModel

import hf_tokenembed  # noqa: F401  (registers the Auto classes)
from hf_tokenembed.controller import ReconstructionVocabulary, Reconstructor
from hf_tokenembed.data import load_data
from hf_tokenembed.evaluation import bucket_sentences, reconstruction_scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="runs/data")
    parser.add_argument("--embedder", default="runs/token-head")
    parser.add_argument("--selector", default="runs/selector")
    parser.add_argument("--placer", default="runs/placer")
    parser.add_argument("--patience", type=int, nargs="+", default=[3, 6, 10, 64])
    parser.add_argument("--per-bucket", type=int, default=100)
    parser.add_argument("--top-k", type=int, default=16)
    args = parser.parse_args()

    embedder = AutoModel.from_pretrained(args.embedder).eval()
    vocabulary = ReconstructionVocabulary.load(
        Path(args.embedder) / "reconstruction_vocab", fingerprint=embedder.fingerprint()
    )
    selector = AutoModel.from_pretrained(args.selector).eval()
    reconstructor = Reconstructor(embedder, selector, AutoModel.from_pretrained(args.placer).eval(), vocabulary)
    test = list(load_data(args.data)["eval/reconstruction"]["test"]["text"])
    buckets = bucket_sentences(test, args.per_bucket, seed=0)
    targets = {b: embedder.encode_sentences(texts) for b, texts in buckets.items()}
    rows = ["| patience | token F1 " + " / ".join(buckets) + " | cosine | s / sentence |", "|---:|---|---|---|"]
    for patience in args.patience:
        f1, cosine, seconds = [], [], []
        for bucket, texts in buckets.items():
            start = time.perf_counter()
            out = reconstructor.reconstruct(
                targets[bucket], num_beams=1, verifier=False, top_k=args.top_k, patience=patience
            )
            seconds.append((time.perf_counter() - start) / len(texts))
            scores = reconstruction_scores([r["text"] for r in out], texts, embedder, targets[bucket])
            f1.append(scores["token_f1"])
            cosine.append(scores["cosine"])
        rows.append(
            f"| {patience} | {' / '.join(f'{x:.3f}' for x in f1)} | {' / '.join(f'{x:.3f}' for x in cosine)} | "
            f"{' / '.join(f'{x:.2f}' for x in seconds)} |"
        )
        print(rows[-1], flush=True)
    markdown = f"""## Greedy decoding and `patience` (`benchmarks/bench_greedy_patience.py`)

```
python benchmarks/bench_greedy_patience.py --data {args.data} --embedder {args.embedder} --selector {args.selector} \\
    --placer {args.placer} --patience {" ".join(map(str, args.patience))}
```

`reconstruct(num_beams=1, verifier=False, top_k={args.top_k}, patience=P)` on bench_reconstruction.py's sentences
({args.per_bucket} per bucket, seed 0); patience 64 never stops on no gain (greedy before it honoured `patience`).

{chr(10).join(rows)}
"""
    write_section("bench_greedy_patience", markdown)


if __name__ == "__main__":
    main()
