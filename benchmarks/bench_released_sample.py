"""The released bundle on a pinned sample: 20 held-out BBC test sentences, and how much its figures move between runs.

    python benchmarks/bench_released_sample.py --data runs/data --bundle checkpoints/tokenembed-reconstructor-minilm

The sample (`pinned_sample`: the first 10 sentences of the ≤ 10 and of the 11–20 word buckets of
`bucket_sentences(test, 10, seed=0)`) is what `tests/controller/test_released_bundle.py` decodes with the bundle's
default decoding, as one batch; the test holds its token F1 and BLEU at no less than the figures printed here, less
a margin. The margin comes from the spread measured here: the same sentences decoded one at a time (other padding in
every encoder call), and from targets moved to cosine 0.9999 of themselves (three seeds), which stands for the float
noise of another machine's kernels.
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
from results import write_section

import hf_tokenembed  # noqa: F401  (registers the Auto classes)
from hf_tokenembed.controller import Reconstructor
from hf_tokenembed.data import load_data
from hf_tokenembed.evaluation import bucket_sentences, reconstruction_scores
from hf_tokenembed.training.controller_trainer import noisy_target

PINNED_BUCKETS = ("<= 10", "11-20")


def pinned_sample(test_texts: list[str]) -> list[str]:
    """The 20 sentences the released-quality test decodes."""
    buckets = bucket_sentences(test_texts, 10, seed=0)
    return [text for bucket in PINNED_BUCKETS for text in buckets[bucket]]


def decode_scores(reconstructor: Reconstructor, targets: torch.Tensor, texts: list[str], batch_size: int) -> dict:
    """Token F1 and BLEU of the default decoding of `targets` against `texts`."""
    decoded = [r["text"] for r in reconstructor.reconstruct(targets, batch_size=batch_size)]
    scores = reconstruction_scores(decoded, texts)
    return {"token_f1": scores["token_f1"], "bleu": scores["bleu"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="runs/data")
    parser.add_argument("--bundle", default="checkpoints/tokenembed-reconstructor-minilm")
    args = parser.parse_args()

    reconstructor = Reconstructor.from_pretrained(args.bundle)
    texts = pinned_sample(list(load_data(args.data)["eval/reconstruction"]["test"]["text"]))
    targets = reconstructor.embedder.encode_sentences(texts)
    rows = {"one batch (what the test runs)": decode_scores(reconstructor, targets, texts, batch_size=32)}
    rows["one sentence at a time"] = decode_scores(reconstructor, targets, texts, batch_size=1)
    for seed in range(3):
        rng = np.random.default_rng(seed)
        moved = torch.stack([noisy_target(t, 0.9999, rng, max_cosine=0.9999) for t in targets])
        rows[f"targets at cosine 0.9999, seed {seed}"] = decode_scores(reconstructor, moved, texts, batch_size=32)
    lines = ["| run | token F1 | BLEU |", "|---|---:|---:|"]
    lines += [f"| {name} | {row['token_f1']:.4f} | {row['bleu']:.2f} |" for name, row in rows.items()]
    spread = {k: max(r[k] for r in rows.values()) - min(r[k] for r in rows.values()) for k in ("token_f1", "bleu")}
    markdown = f"""## The released bundle on a pinned sample (`benchmarks/bench_released_sample.py`)

```
python benchmarks/bench_released_sample.py --data {args.data} --bundle {args.bundle}
```

{len(texts)} held-out BBC test sentences ({", ".join(PINNED_BUCKETS)} words, 10 each), the bundle's default decoding.
`tests/controller/test_released_bundle.py` decodes them as one batch and holds the first row's figures, less a
margin of twice the spread below (rounded up), as the floor of a release.

{chr(10).join(lines)}

Spread over the runs: token F1 {spread["token_f1"]:.4f}, BLEU {spread["bleu"]:.2f}.
"""
    print(markdown)
    write_section("bench_released_sample", markdown)


if __name__ == "__main__":
    main()
