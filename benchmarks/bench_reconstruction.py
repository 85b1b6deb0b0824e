"""Text reconstruction from sentence vectors on held-out BBC test sentences, by length bucket.

    python benchmarks/bench_reconstruction.py --data runs/data --embedder runs/token-head \\
        --selector runs/selector --placer runs/placer --sentences 300

Every system decodes the same sentences (the test split of the data folder: documents training never saw),
sampled evenly over the buckets of <= 10, 11-20 and 21-40 words, from the trained TokenEmbedder's vectors:

- greedy: Selector + FAISS + Placer, one hypothesis, no verifier;
- verifier beam: `--beams` hypotheses re-embedded and ranked by cosine (+ the controller's log-probabilities),
  then the repair pass;
- (a) no learning: greedy insertion by cosine over the entries nearest to the residual (target - summary) among
  the most frequent entries embedded as one-word sentences, then the repair pass;
- (b) bag of words: the Selector's top entries at the empty state, as many as the greedy output has, in
  frequency order;
- (c) ceiling: the sentence's own entries (a perfect Selector) ordered by the Placer + verifier; and the same
  entries ordered by cosine search alone (greedy insertion + 3 repair passes), which needs no Placer.

(a) and the cosine-search ceiling also run on the raw backbone's vectors (its own space), which says what stage 1
buys reconstruction. Then the verifier beam on targets noised to cosine `--noise-cosine` of the clean vector (on the
first `--noise-sentences` sentences, beside the clean beam's scores on the same sentences), and
the component figures on the test sentences' oracle states: Selector hit@1/@16 of a missing entry against the raw
residual's nearest entries, Placer slot accuracy against appending at the end, STOP precision/recall.

Metrics (evaluate's metric shipped in hf_tokenembed/evaluation/metrics): token F1 (sets of lowercased words),
BLEU (sacrebleu), exact match, cosine of the re-embedded output to the target, seconds per sentence (decoding
batched over the sentences of a bucket; medians are not needed: one pass per system, all in one run).
"""

from __future__ import annotations

import argparse
import json
import tempfile
from collections import Counter
from pathlib import Path

import numpy as np
import torch
from results import write_section
from transformers import AutoModel

import hf_tokenembed  # noqa: F401  (registers the Auto classes)
from hf_tokenembed.controller import ReconstructionVocabulary, Reconstructor
from hf_tokenembed.controller.search import cosine_insertion
from hf_tokenembed.data import load_data
from hf_tokenembed.evaluation import (
    BUCKETS,
    bucket_sentences,
    format_reconstruction_table,
    raw_backbone,
    reconstruction_scores,
    score_buckets,
)
from hf_tokenembed.training import ControllerTrainingArguments, PlacerTrainer, SelectorTrainer, build_controller_data
from hf_tokenembed.training.controller_trainer import noisy_target


def run(name: str, decode, sentences: dict, targets: dict, embedder, outputs: dict | None = None) -> dict:
    """`score_buckets`, printed as it goes."""
    rows = score_buckets(decode, sentences, targets, embedder, outputs)
    for bucket, row in rows.items():
        print(name, bucket, json.dumps({k: round(v, 4) for k, v in row.items()}), flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="runs/data")
    parser.add_argument("--embedder", default="runs/token-head")
    parser.add_argument("--selector", default="runs/selector")
    parser.add_argument("--placer", default="runs/placer")
    parser.add_argument("--vocabulary", default=None, help="default: <embedder>/reconstruction_vocab")
    parser.add_argument("--sentences", type=int, default=300, help="test sentences in all (split evenly by bucket)")
    parser.add_argument("--baseline-sentences", type=int, default=30, help="of those, decoded by (a) and (c)")
    parser.add_argument("--beams", type=int, default=4)
    parser.add_argument("--top-k", type=int, default=16)
    parser.add_argument("--frequent", type=int, default=5000, help="entries the no-learning baseline draws from")
    parser.add_argument("--noise-cosine", type=float, default=0.95)
    parser.add_argument("--noise-sentences", type=int, default=150, help="of those, decoded from noised targets")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.manual_seed(args.seed)

    embedder = AutoModel.from_pretrained(args.embedder).eval()
    vocabulary = ReconstructionVocabulary.load(
        args.vocabulary or Path(args.embedder) / "reconstruction_vocab", fingerprint=embedder.fingerprint()
    )
    selector = AutoModel.from_pretrained(args.selector).eval()
    placer = AutoModel.from_pretrained(args.placer).eval()
    reconstructor = Reconstructor(embedder, selector, placer, vocabulary)
    data = load_data(args.data)
    test = list(data["eval/reconstruction"]["test"]["text"])
    coverage = vocabulary.coverage(test)
    sentences = bucket_sentences(test, args.sentences // len(BUCKETS), args.seed)
    few = args.baseline_sentences // len(BUCKETS) if args.baseline_sentences else None
    baseline_sentences = {b: texts[:few] if few else texts for b, texts in sentences.items()}
    raw = raw_backbone(embedder)

    def targets_of(model, chosen):
        return {b: model.encode_sentences(texts) for b, texts in chosen.items()}

    targets = targets_of(embedder, sentences)
    text = vocabulary.detokenize
    results: dict[str, dict] = {}

    greedy_steps = {}

    def greedy(vectors, texts):
        out = reconstructor.reconstruct(vectors, num_beams=1, verifier=False, top_k=args.top_k)
        greedy_steps.update({t: len(r["entries"]) for t, r in zip(texts, out)})
        return [r["text"] for r in out]

    results["greedy"] = run("greedy", greedy, sentences, targets, embedder)
    beam_outputs: dict[str, list[str]] = {}
    results["verifier beam"] = run(
        f"beam {args.beams} + verifier",
        lambda v, t: [r["text"] for r in reconstructor.reconstruct(v, num_beams=args.beams, top_k=args.top_k)],
        sentences, targets, embedder, beam_outputs,
    )  # fmt: skip
    rng = np.random.default_rng(args.seed)
    few_noised = args.noise_sentences // len(BUCKETS)
    noised_sentences = {b: texts[:few_noised] for b, texts in sentences.items()}
    noised = {
        b: torch.stack([noisy_target(v, args.noise_cosine, rng, args.noise_cosine) for v in targets[b][:few_noised]])
        for b in sentences
    }
    results[f"verifier beam, clean target (the {args.noise_sentences} noised sentences)"] = {
        b: {**reconstruction_scores(beam_outputs[b][:few_noised], texts, embedder, targets[b][:few_noised]),
            "seconds": results["verifier beam"][b]["seconds"]}
        for b, texts in noised_sentences.items()
    }  # fmt: skip
    results[f"verifier beam, target at cosine {args.noise_cosine}"] = run(
        "beam, noisy target",
        lambda v, t: [r["text"] for r in reconstructor.reconstruct(v, num_beams=args.beams, top_k=args.top_k)],
        noised_sentences, noised, embedder,
    )  # fmt: skip

    def bag_of_words(vectors, texts):
        logits = selector(target=vectors, summary=torch.zeros_like(vectors)).logits
        out = []
        for row, t in zip(logits, texts):
            top = row.topk(max(1, greedy_steps.get(t, 10))).indices.tolist()
            out.append(text(sorted(top)))  # ids are frequency ranks: most frequent first
        return out

    results["(b) bag of words"] = run("bag of words", bag_of_words, sentences, targets, embedder)

    def bags_of(texts):
        return [[i for i in vocabulary.segment(t).ids if i >= 0] for t in texts]

    results["(c) ceiling: own entries, Placer + verifier"] = run(
        "ceiling placer",
        lambda v, t: [r["text"] for r in reconstructor.reconstruct(v, num_beams=args.beams, top_k=args.top_k, bags=bags_of(t))],
        baseline_sentences, {b: targets[b][: len(t)] for b, t in baseline_sentences.items()}, embedder,
    )  # fmt: skip

    for space, model in (("trained", embedder), ("raw backbone", raw)):
        no_learning, own_entries = search_baselines(model, vocabulary, args.frequent)
        space_targets = targets_of(model, baseline_sentences)
        results[f"(a) no learning, {space} space"] = run(
            f"no learning {space}", no_learning, baseline_sentences, space_targets, model
        )
        results[f"(c') own entries by cosine search, {space} space"] = run(
            f"ceiling cosine {space}", own_entries, baseline_sentences, space_targets, model
        )

    components = component_metrics(args, embedder, raw, vocabulary, selector, placer, data)
    markdown = render(args, results, components, coverage, sentences, baseline_sentences)
    print(markdown)
    write_section("bench_reconstruction", markdown)


def search_baselines(model, vocabulary: ReconstructionVocabulary, frequent: int):
    """(a) and (c') in `model`'s own sentence space: greedy cosine insertion over the 8 entries (of the `frequent`
    commonest, embedded as one-word sentences) nearest to the residual; or over the sentence's own entries."""
    common = list(range(min(frequent, len(vocabulary))))
    word_vectors = model.encode_sentences([vocabulary.surfaces[i] for i in common])

    def no_learning(vectors, texts):
        out = []
        for target in vectors:

            def nearest(buffer, summary, target=target):
                residual = torch.nn.functional.normalize(target - summary, dim=0)
                return [common[i] for i in (word_vectors @ residual).topk(8).indices.tolist()]

            out.append(
                vocabulary.detokenize(cosine_insertion(model, vocabulary, target, nearest, max_steps=45, repair=2)[0])
            )
        return out

    def own_entries(vectors, texts):
        out = []
        for target, t in zip(vectors, texts):
            bag = [i for i in vocabulary.segment(t).ids if i >= 0]

            def left(buffer, summary, bag=bag):
                return sorted((Counter(bag) - Counter(buffer)).keys())

            entries, _ = cosine_insertion(
                model, vocabulary, target, left, max_steps=len(bag), repair=3, until_no_gain=False
            )
            out.append(vocabulary.detokenize(entries))
        return out

    return no_learning, own_entries


def component_metrics(args, embedder, raw, vocabulary, selector, placer, data) -> dict:
    """Selector and Placer on the oracle states of test sentences, and the raw residual baseline."""
    sentences = list(data["eval/reconstruction"]["test"]["text"])[:500]
    with tempfile.TemporaryDirectory() as tmp:
        states = build_controller_data(embedder, vocabulary, sentences, Path(tmp) / "trained", progress=False)
        trainer_args = ControllerTrainingArguments(output_dir=tmp, report_to="none", use_cpu=True, top_k=args.top_k)
        out = SelectorTrainer(selector, trainer_args, states).state_metrics(states)
        out.update(PlacerTrainer(placer, trainer_args, states, selector).state_metrics(states))
        raw_vocabulary = ReconstructionVocabulary(
            vocabulary.surfaces, vocabulary.counts, raw.encode_words(vocabulary.surfaces)
        )
        raw_states = build_controller_data(raw, raw_vocabulary, sentences, Path(tmp) / "raw", progress=False)
    hits = {1: 0, 16: 0}
    total = 0
    for s in range(len(raw_states.states)):
        missing = set(raw_states.states.missing(s))
        if not missing:
            continue
        target = raw_states.targets[raw_states.states.sentence_of[s]]
        residual = torch.nn.functional.normalize(target - raw_states.summaries[s], dim=0)
        top = (raw_vocabulary.keys @ residual).topk(16).indices.tolist()
        hits[1] += top[0] in missing
        hits[16] += bool(missing & set(top))
        total += 1
    out["raw_residual_hit@1"], out["raw_residual_hit@16"] = hits[1] / total, hits[16] / total
    return out


def render(args, results, components, coverage, sentences, baseline_sentences) -> str:
    counts = {b: len(t) for b, t in sentences.items()}
    few = {b: len(t) for b, t in baseline_sentences.items()}
    c = components
    return f"""## Text reconstruction (`benchmarks/bench_reconstruction.py`)

```
python benchmarks/bench_reconstruction.py --data {args.data} --embedder {args.embedder} --selector {args.selector} \\
    --placer {args.placer} --sentences {args.sentences} --baseline-sentences {args.baseline_sentences} \\
    --noise-sentences {args.noise_sentences} --beams {args.beams} --top-k {args.top_k}
```

Held-out BBC test sentences (documents training never saw), per bucket {counts} (baselines (a) and (c): {few};
noised targets: the first {args.noise_sentences // len(BUCKETS)} of each bucket, beside the clean beam on the same sentences).
Vocabulary coverage of all {coverage["tokens"]:,} test tokens: {coverage["token_coverage"]:.2%}
({coverage["sentence_coverage"]:.1%} of the test sentences fully covered); most frequent uncovered:
{", ".join(f"{t} ({n})" for t, n in coverage["most_common_uncovered"][:8])}.

{format_reconstruction_table(results)}

Components, on the oracle states of 500 test sentences:
Selector hit@1 {c["selector_hit@1"]:.3f}, hit@16 {c["selector_hit@16"]:.3f} (raw residual's nearest entries:
{c["raw_residual_hit@1"]:.3f} / {c["raw_residual_hit@16"]:.3f});
Placer slot accuracy {c["placer_slot_accuracy"]:.3f} (append at the end: {c["placer_slot_accuracy_append_baseline"]:.3f}),
STOP precision {c["placer_stop_precision"]:.3f}, recall {c["placer_stop_recall"]:.3f}.
"""


if __name__ == "__main__":
    main()
