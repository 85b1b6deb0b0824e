"""Two bundles, paired on the sentences `hf-tokenembed evaluate-reconstruction` scores: per-sentence greedy cosine.

    python benchmarks/compare_bundles.py --data runs/data checkpoints/tokenembed-reconstructor-minilm runs/bundle

For each length bucket (11-20 and 21-40 words, 100 test sentences each, seed 0 as in evaluate-reconstruction), each
bundle rebuilds every sentence from its own sentence vector with the greedy decoder; the cosine of the rebuilt text's
vector to the target is paired per sentence, and the mean difference is printed with its standard error: whether a
gap between two bundles is larger than the noise of the sample.
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

import hf_tokenembed  # noqa: F401  (registers the Auto classes)
from hf_tokenembed.controller import Reconstructor
from hf_tokenembed.data import load_data
from hf_tokenembed.evaluation.reconstruction import SYSTEMS, bucket_sentences
from hf_tokenembed.models import TextReconstructor

BUCKETS = ("11-20", "21-40")


def greedy_cosines(path: str, sentences: dict[str, list[str]]) -> dict[str, np.ndarray]:
    """Per bucket, the cosine of each greedy reconstruction's sentence vector to its target (0 when empty)."""
    reconstructor = Reconstructor.from_bundle(TextReconstructor.from_pretrained(path))
    embedder = reconstructor.embedder
    out = {}
    for bucket in BUCKETS:
        targets = torch.nn.functional.normalize(embedder.encode_sentences(sentences[bucket]), dim=-1)
        texts = [r["text"] for r in reconstructor.reconstruct(targets, **SYSTEMS["greedy"])]
        cosines = (embedder.encode_sentences([t if t.strip() else "." for t in texts]) * targets).sum(-1).numpy()
        cosines[[not t.strip() for t in texts]] = 0.0
        out[bucket] = cosines
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("first")
    parser.add_argument("second")
    parser.add_argument("--data", default="runs/data")
    args = parser.parse_args()
    texts = list(load_data(args.data)["eval/reconstruction"]["test"]["text"])
    sentences = bucket_sentences(texts, 100, seed=0)
    first, second = greedy_cosines(args.first, sentences), greedy_cosines(args.second, sentences)
    for bucket in BUCKETS:
        x, y = first[bucket], second[bucket]
        diff = y - x
        print(
            f"{bucket}: {args.first} {x.mean():.3f}, {args.second} {y.mean():.3f}; paired difference "
            f"{diff.mean():+.3f} ± {diff.std(ddof=1) / np.sqrt(len(diff)):.3f} (SE, {len(diff)} sentences)"
        )


if __name__ == "__main__":
    main()
