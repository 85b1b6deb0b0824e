"""Can a better scorer lift the sense figures, or is the encoder the limit? Two zero-shot additions to the sense
metric's scorer, weights tuned on dev lemmas, figures on test lemmas:

    python benchmarks/bench_sense_scorers.py --data runs/data --model checkpoints/tokenembed-reconstructor-minilm/embedder \
        --raw-encoder "raw all-mpnet-base-v2=runs/encoders/all-mpnet-base-v2"

- **sentence view**: the query's whole sentence through the word tower against each candidate's gloss text and other
  example sentences (leave-one-out) through the same tower, weight ``w``: what a sentence encoder knows of the
  context beyond the word's own tokens;
- **lexname probe**: a logistic regression from in-context vectors to WordNet lexicographer files (supersenses),
  trained on the WordNet examples and gloss contexts of lemmas outside the WiC dev and test lemmas (no held-out
  sentence either), added as ``λ · log p(candidate's file | query)``: a prior for the homograph case.

Both are added to the metric's own score (`hf_tokenembed.evaluation.sense_scoring`: the query's in-context vector
against the candidate's sense vector), as extra coordinates of the same vectors, so `score_sense_queries` ranks them
(ties 1/n) on the same queries and candidates as bench_senses.py.
"""

from __future__ import annotations

import argparse
import itertools
import random
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
from datasets import load_from_disk
from results import write_section
from sklearn.linear_model import LogisticRegression
from stage1_models import stage1_models

from hf_tokenembed.data import gloss_context, held_out_sentences, lemma_key
from hf_tokenembed.evaluation import raw_encoder, score_sense_queries, sense_queries, sense_rows
from hf_tokenembed.index import encode_contexts, encode_sense_sources
from hf_tokenembed.index.senses import _valid_span

SENTENCE_WEIGHTS = (0.0, 0.5, 1.0, 2.0)
PROBE_WEIGHTS = (0.0, 0.01, 0.02, 0.05, 0.1)
SCORERS = {  # label -> the (w, λ) grid it may choose from on dev
    "in-context vector vs sense vector (the metric)": [(0.0, 0.0)],
    "+ sentence view": [(w, 0.0) for w in SENTENCE_WEIGHTS],
    "+ lexname probe": [(0.0, lam) for lam in PROBE_WEIGHTS],
    "+ both": list(itertools.product(SENTENCE_WEIGHTS, PROBE_WEIGHTS)),
}


def unit(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=-1, keepdims=True).clip(1e-12)


def probe_examples(senses: Any, wic: Any, max_glosses: int, seed: int) -> list[tuple[str, tuple[int, int], str]]:
    """(text, span, lexname) of lemmas outside the WiC dev/test lemmas: every WordNet example, and up to
    `max_glosses` gloss contexts (``"bank: sloping land ..."``); no held-out sentence."""
    held_lemmas = {lemma_key(lemma) for split in ("dev", "test") for lemma in wic[split]["lemma"]}
    held = held_out_sentences(wic, senses)
    examples, glosses = [], []
    for row in senses.select_columns(["word", "examples", "spans", "lexname", "gloss"]).to_list():
        if lemma_key(row["word"]) in held_lemmas or not row["lexname"]:
            continue
        for text, span in zip(row["examples"] or [], row["spans"] or []):
            valid = _valid_span(text, span)
            if text not in held and valid is not None:
                examples.append((text, valid, row["lexname"]))
        if row["gloss"] and " " not in row["word"] and "_" not in row["word"]:
            text, span = gloss_context(row["word"], row["gloss"])
            if text not in held:
                glosses.append((text, span, row["lexname"]))
    random.Random(seed).shuffle(glosses)
    return examples + glosses[:max_glosses]


class Views:
    """The queries of some lemmas with, per query, each candidate's three scores (in-context vs sense vector,
    sentence view, lexname log-probability), as columns of vectors that `score_sense_queries` can rank."""

    def __init__(self, model: Any, senses: Any, lemmas: list[str], probe: LogisticRegression) -> None:
        self.rows = sense_rows(senses, lemmas)
        self.queries = sense_queries(self.rows)
        self.parts = encode_sense_sources(model, self.rows)
        sentences = [q["sentence"] for q in self.queries]
        self.in_context = unit(encode_contexts(model, sentences, [q["span"] for q in self.queries]).numpy())
        self.sentence = unit(np.asarray(model.encode_words(sentences, batch_size=64)))
        self.gloss = unit(np.asarray(model.encode_words([r["gloss"] or r["word"] for r in self.rows], batch_size=64)))
        self.example_texts = [(text, i) for i, r in enumerate(self.rows) for text in r.get("examples") or []]
        self.example_vectors = unit(np.asarray(model.encode_words([t for t, _ in self.example_texts], batch_size=64)))
        self.log_proba = probe.predict_log_proba(self.in_context)
        self.labels = {label: j for j, label in enumerate(probe.classes_)}
        self.probe_accuracy = float(
            np.mean([probe.classes_[j] == q["lexname"] for j, q in zip(self.log_proba.argmax(1), self.queries)])
        )
        self.examples_of: dict[int, list[int]] = defaultdict(list)
        for e, (_, i) in enumerate(self.example_texts):
            self.examples_of[i].append(e)
        self.by_lemma: dict[tuple[str, Any], list[int]] = defaultdict(list)
        for i, r in enumerate(self.rows):
            self.by_lemma[(lemma_key(r["word"]), r.get("pos"))].append(i)

    def score(self, w: float, lam: float) -> dict[str, Any]:
        """`score_sense_queries` of ``in-context · sense + w · sentence view + λ · log p(lexname)``."""
        # query = [in-context vector, w · sentence vector, λ · log p(file), λ]; candidate = [sense vector, text view,
        # one-hot of its file, -30 for a file the probe never saw (never preferred)]
        unseen = np.full((len(self.queries), 1), lam)
        queries = np.concatenate([self.in_context, w * self.sentence, lam * self.log_proba, unseen], axis=1)

        def candidates(query: dict[str, Any]) -> tuple[list[str], list[str], np.ndarray]:
            ids = self.by_lemma[(query["lemma"], query["pos"])]
            vectors, found = self.parts.combine(ids, leave_out=query["sentence"])
            kept = [k for k, ok in enumerate(found.tolist()) if ok]
            text_views, files = [], np.zeros((len(kept), len(self.labels) + 1))
            for row, k in enumerate(kept):
                i = ids[k]
                others = [e for e in self.examples_of[i] if self.example_texts[e][0] != query["sentence"]]
                parts = [self.gloss[i]] + ([unit(self.example_vectors[others].mean(0))] if others else [])
                text_views.append(unit(np.mean(parts, axis=0)))
                lexname = self.rows[i]["lexname"]
                files[row, self.labels.get(lexname, -1)] = 1.0 if lexname in self.labels else -30.0
            matrix = np.concatenate(
                [
                    vectors[kept].numpy(),
                    np.array(text_views, dtype=np.float64).reshape(len(kept), self.gloss.shape[1]),
                    files,
                ],
                axis=1,
            )
            return [self.rows[ids[k]]["synset"] for k in kept], [self.rows[ids[k]]["lexname"] for k in kept], matrix

        # the query vector is normalised inside: one scale for every candidate, so the ranking is the weighted sum's
        return score_sense_queries(self.queries, queries, candidates)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="runs/data")
    parser.add_argument("--model", default="checkpoints/tokenembed-reconstructor-minilm/embedder")
    parser.add_argument("--raw-encoder", action="append", default=[], metavar="LABEL=PATH")
    parser.add_argument(
        "--lemmas", type=int, default=500, help="Dev and test lemmas sampled (seed 0), as bench_senses"
    )
    parser.add_argument("--max-glosses", type=int, default=12_000, help="Gloss contexts in the probe's training set")
    args = parser.parse_args()
    encoders = dict(v.split("=", 1) for v in args.raw_encoder if "=" in v)
    if len(encoders) != len(args.raw_encoder):
        parser.error("`--raw-encoder` takes LABEL=PATH")

    senses = load_from_disk(str(Path(args.data, "senses")))
    wic = load_from_disk(str(Path(args.data, "eval", "wic")))
    lemmas = {
        split: sorted(random.Random(0).sample(sorted(set(wic[split]["lemma"])), args.lemmas))
        for split in ("dev", "test")
    }
    train = probe_examples(senses, wic, args.max_glosses, seed=0)
    models = stage1_models(args.model, original="")
    models.update({label: raw_encoder(path) for label, path in encoders.items()})

    table: dict[str, dict[str, Any]] = {}
    notes = []
    for name, model in models.items():
        start = time.perf_counter()
        features = encode_contexts(model, [t for t, _, _ in train], [s for _, s, _ in train], batch_size=128).numpy()
        probe = LogisticRegression(max_iter=500).fit(unit(features), [label for _, _, label in train])
        views = {split: Views(model, senses, lemmas[split], probe) for split in ("dev", "test")}
        weights = SCORERS["+ both"]  # every (w, λ) any scorer may choose
        figures = {(split, *k): views[split].score(*k) for split in ("dev", "test") for k in weights}
        for label, grid in SCORERS.items():
            best = max(
                grid, key=lambda k: figures[("dev", *k)]["fine_accuracy"] + figures[("dev", *k)]["coarse_accuracy"]
            )
            table.setdefault(label, {})[name] = (figures[("test", *best)], best)
        seconds = time.perf_counter() - start
        notes.append(
            f"{name}: probe's lexicographer file right on {views['test'].probe_accuracy:.3f} of the test queries "
            f"(of {len(probe.classes_)} files, unconstrained), {seconds:.0f} s"
        )
        print(name, {k: v[name] for k, v in table.items()}, flush=True)

    lines = [
        "| scorer (weights chosen on dev) | " + " | ".join(f"{n}: fine / coarse" for n in models) + " |",
        "|---|" + "---:|" * len(models),
    ]
    for label, row in table.items():
        cells = []
        for name in models:
            result, (w, lam) = row[name]
            cells.append(f"{result['fine_accuracy']:.3f} / {result['coarse_accuracy']:.3f} (w={w:g}, λ={lam:g})")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    base = table["in-context vector vs sense vector (the metric)"]
    some = base["this project"][0]
    markdown = f"""## Sense scorers: is the encoder the limit? (`benchmarks/bench_sense_scorers.py`)

```
python benchmarks/bench_sense_scorers.py --data {args.data} --model {args.model} \\
    {"".join(f'--raw-encoder "{v}" ' for v in args.raw_encoder)}--lemmas {args.lemmas} --max-glosses {args.max_glosses}
```

The test queries and candidates of bench_senses.py ({some["num_scored"]:,} scored queries, {some["num_coarse"]:,} coarse, of
{args.lemmas} test lemmas); the weights (sentence view `w`, lexname probe `λ`) are chosen on {args.lemmas} dev lemmas by
fine + coarse accuracy. The probe is trained on {len(train):,} uses of lemmas outside the WiC evaluation lemmas (their
WordNet examples and up to {args.max_glosses:,} gloss contexts). {"; ".join(notes)}.

{chr(10).join(lines)}
"""
    print(markdown)
    write_section("bench_sense_scorers", markdown)


if __name__ == "__main__":
    main()
