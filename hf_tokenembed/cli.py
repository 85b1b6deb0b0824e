"""`hf-tokenembed`: build data, build and inspect indexes, evaluate, assemble and run text-reconstruction bundles,
draw pictures, run the demo. Exit codes: 0 done, 2 bad usage, 1 failure (the message says what to do)."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

__all__ = ["main"]

logger = logging.getLogger(__name__)

DEMO_QUERIES = ["car", "happy", "paris", "red herring", "New York"]
DEMO_CONTEXTS = ["We sat on the river bank and watched the boats.", "The bank raised its interest rates again."]
RELEASED_BUNDLE = "checkpoints/tokenembed-reconstructor-minilm"


class UsageError(Exception):
    """A command-line mistake the parser could not see (exit code 2, with the subcommand's usage)."""


def _existing(model: str) -> str:
    """`model`, unless it names a local folder that is not there (transformers would try it as a hub name)."""
    from hf_tokenembed.models.token_embedder.modeling import reads_as_local_path

    if reads_as_local_path(model) and not os.path.isdir(os.path.expanduser(model)):
        raise FileNotFoundError(f"no model or bundle folder at {model}")
    return model


def _load_embedder(model: str):
    from transformers import AutoModel  # the package registered its models with it on import

    return AutoModel.from_pretrained(_existing(model)).eval()


def _index_and_embedder(model: str, index: str | None):
    """The VocabIndex to search and its TokenEmbedder: a bundle's vocabulary, or a TokenEmbedder's saved index
    (`index`, default MODEL/vocab_index)."""
    from transformers import AutoConfig

    from hf_tokenembed.index import VocabIndex

    if AutoConfig.from_pretrained(_existing(model)).model_type == "tokenembed_reconstructor":
        from hf_tokenembed.controller import Reconstructor

        reconstructor = Reconstructor.from_pretrained(model)
        return reconstructor.vocabulary.neighbor_index(), reconstructor.embedder
    embedder = _load_embedder(model)
    folder = index or os.path.join(model, "vocab_index")
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"no index at {folder}: build one with `hf-tokenembed index build {model} DATA "
                                f"--out {folder}`, or give --index")  # fmt: skip
    return VocabIndex.load(folder, embedder=embedder), embedder


def _print_json(value) -> None:
    print(json.dumps(value, ensure_ascii=False))


def _data_build(args: argparse.Namespace) -> None:
    from hf_tokenembed.data import build_data, format_summary

    summary = build_data(args.corpus, args.out, overwrite=args.overwrite)
    print(json.dumps(summary) if args.json else format_summary(summary))


def _index_build(args: argparse.Namespace) -> None:
    from hf_tokenembed.index import VocabIndex, VocabIndexConfig

    embedder = _load_embedder(args.model)
    index = VocabIndex.build(embedder, args.data, VocabIndexConfig(index_type=args.index_type))
    index.save(args.out)
    print(json.dumps({"index": args.out, **index.metadata()}) if args.json else f"{index!r} saved to {args.out}")


def _neighbors(args: argparse.Namespace) -> None:
    from hf_tokenembed.index import format_neighbors, neighbors

    index, embedder = _index_and_embedder(args.model, args.index)
    found = []
    for context in args.context or [None]:
        results = neighbors(index, embedder, args.queries, context, k=args.k, pos=args.pos)
        if args.json:
            found += [
                {"query": q, "context": context,
                 "neighbors": [{**entry.to_dict(), "score": score} for entry, score in hits]}
                for q, hits in zip(args.queries, results)
            ]  # fmt: skip
            continue
        labels = [f"{q}  @  {context}" if context else q for q in args.queries]
        print(format_neighbors(results, labels), end="\n\n")
    if args.json:
        _print_json(found)


def _evaluate(args: argparse.Namespace) -> None:
    from hf_tokenembed.evaluation import evaluate_model, format_metrics

    metrics = evaluate_model(_load_embedder(args.model), args.data, split=args.split, max_items=args.max_items)
    clean = {name: None if value != value else value for name, value in metrics.items()}  # NaN is not JSON
    print(json.dumps(clean) if args.json else format_metrics(metrics))


def _bundle(args: argparse.Namespace) -> None:
    from hf_tokenembed.controller import ReconstructionVocabulary, Reconstructor

    embedder = _load_embedder(args.embedder)
    vocabulary = ReconstructionVocabulary.load(
        args.vocabulary or ReconstructionVocabulary.default_path(args.embedder), fingerprint=embedder.fingerprint()
    )
    reconstructor = Reconstructor(embedder, _load_embedder(args.selector), _load_embedder(args.placer), vocabulary)
    reconstructor.to_bundle().save_pretrained(args.out)
    size = sum(p.stat().st_size for p in Path(args.out).rglob("*") if p.is_file())
    if args.json:
        _print_json({"bundle": args.out, "bytes": size, "entries": len(vocabulary)})
    else:
        print(f"TextReconstructor bundle saved to {args.out} ({size / 1e6:.1f} MB, {len(vocabulary):,} entries)")


def _decoding(args: argparse.Namespace) -> dict:
    options = {
        "num_beams": args.num_beams,
        "top_k": args.top_k,
        "max_steps": args.max_steps,
        "patience": args.patience,
    }
    if args.greedy:
        options.update(num_beams=1, verifier=False)
    return {k: v for k, v in options.items() if v is not None}


def _load_vectors(path: str):
    import numpy as np

    try:
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError) as error:
        raise ValueError(f"--vectors {path}: not a readable .npy file of sentence vectors ({error})") from error


def _rebuild(bundle: str):
    """`pipeline("text-reconstruction")` over `bundle`, loaded first: a missing folder is a clear error."""
    from transformers import pipeline

    from hf_tokenembed.models import TextReconstructor

    return pipeline("text-reconstruction", model=TextReconstructor.from_pretrained(bundle))


def _describe_step(step: dict) -> str:
    if step["action"] == "stop":
        return "STOP"
    if step["action"] == "move":
        return f"move {step['entry']!r} from {step['from']} to slot {step['slot']}"
    return f"{step['entry']!r} at slot {step['slot']}"


def _reconstruct(args: argparse.Namespace) -> None:
    if bool(args.texts) == bool(args.vectors):
        raise UsageError("give texts or --vectors FILE.npy (one of the two)")
    inputs = list(args.texts) if args.texts else _load_vectors(args.vectors)
    results = _rebuild(args.bundle)(inputs, return_steps=args.steps, **_decoding(args))
    results = results if isinstance(results, list) else [results]
    if args.json:
        _print_json(results)
        return
    for i, result in enumerate(results):
        source = args.texts[i] if args.texts else f"vector {i}"
        print(f"{source}\n  -> {result['text']}   (cosine {result['cosine']:.3f})")
        for n, step in enumerate(result.get("steps", []), 1):
            print(f"     {n:>2}. {_describe_step(step):<32} cosine {step['cosine']:.3f}")


def _evaluate_reconstruction(args: argparse.Namespace) -> None:
    from hf_tokenembed.controller import Reconstructor
    from hf_tokenembed.data import load_data
    from hf_tokenembed.evaluation import (
        BUCKETS,
        bucket_sentences,
        evaluate_reconstruction,
        format_reconstruction_table,
    )
    from hf_tokenembed.models import TextReconstructor

    bundle = TextReconstructor.from_pretrained(args.bundle)
    reconstructor = Reconstructor.from_bundle(bundle)
    texts = list(load_data(args.data)["eval/reconstruction"][args.split]["text"])
    sentences = bucket_sentences(texts, args.sentences // len(BUCKETS), seed=args.seed)
    results = evaluate_reconstruction(reconstructor, sentences)
    table = format_reconstruction_table(results)
    if args.json:
        _print_json(results)
    else:
        counts = ", ".join(f"{b}: {len(t)}" for b, t in sentences.items())
        print(f"{args.split} sentences of {args.data} ({counts}), bundle {args.bundle}\n")
        print(table)
    if args.card:
        from hf_tokenembed.atomic import write_text
        from hf_tokenembed.training import render_bundle_card

        command = f"hf-tokenembed evaluate-reconstruction {args.bundle} --data {args.data} --split {args.split} " + (
            f"--sentences {args.sentences} --seed {args.seed}"
        )
        name = Path(args.bundle).name
        card = render_bundle_card(name, bundle, table, command, sum(map(len, sentences.values())), args.seed)
        write_text(Path(args.card), card)
        print(f"\nmodel card written to {args.card}")


def _plot(args: argparse.Namespace) -> None:
    from hf_tokenembed.plotting import (
        plot_neighbourhood,
        plot_reconstruction_trace,
        plot_training_curves,
        save_figure,
    )

    if args.plot_command == "training":
        figure = plot_training_curves(args.run, parts=args.parts)
    elif args.plot_command == "neighbours":
        index, embedder = _index_and_embedder(args.model, args.index)
        figure = plot_neighbourhood(
            index, embedder, args.word, contexts=args.context or [], k=args.k, method=args.method
        )
    else:
        result = _rebuild(args.bundle)(args.text, return_steps=True, **_decoding(args))
        figure = plot_reconstruction_trace(result["steps"], title=f"{args.text}\n→ {result['text']}")
    path = save_figure(figure, args.out)
    print(json.dumps({"png": str(path)}) if args.json else f"{args.plot_command} plot written to {path}")


def _demo(args: argparse.Namespace) -> None:
    """Reconstruct held-out sentences with the released bundle; neighbours of words, an MWE and "bank" in context."""
    import time

    from hf_tokenembed.controller import Reconstructor
    from hf_tokenembed.data import build_data, format_summary, load_data
    from hf_tokenembed.evaluation import bucket_sentences
    from hf_tokenembed.evaluation.metrics.text_reconstruction.text_reconstruction import token_f1
    from hf_tokenembed.index import format_neighbors, neighbors

    runs = Path(args.runs)
    print(format_summary(build_data("bbc-news", runs / "data")))
    reconstructor = Reconstructor.from_pretrained(args.bundle)
    embedder = reconstructor.embedder
    held_out = list(load_data(runs / "data")["eval/reconstruction"]["test"]["text"])
    sentences = [t for bucket in bucket_sentences(held_out, args.sentences // 3, seed=0).values() for t in bucket]
    print(f"\nReconstructing {len(sentences)} held-out BBC test sentences with {args.bundle} (verifier beam)\n")
    for text in sentences:
        start = time.perf_counter()
        result = reconstructor.reconstruct(embedder.encode_sentences([text]))[0]
        seconds = time.perf_counter() - start
        print(f"original: {text}\nrebuilt:  {result['text']}")
        print(
            f"          cosine {result['cosine']:.3f}  token F1 {token_f1(result['text'], text):.3f}  {seconds:.2f} s\n"
        )
    index = reconstructor.vocabulary.neighbor_index()

    print(f"Neighbours among the bundle's {len(index):,} vocabulary entries (case variants shown once)\n")
    hits = neighbors(index, embedder, DEMO_QUERIES, k=args.k, distinct_case=True)
    print(format_neighbors(hits, DEMO_QUERIES, show_synset=False))
    for context in DEMO_CONTEXTS:
        print()
        hits = neighbors(index, embedder, ["bank"], context, k=args.k, distinct_case=True)
        print(format_neighbors(hits, [f"bank  @  {context}"], show_synset=False))


def build_parser() -> argparse.ArgumentParser:
    """The `hf-tokenembed` argument parser."""
    parser = argparse.ArgumentParser(prog="hf-tokenembed", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="log at INFO level")
    commands = parser.add_subparsers(dest="command", required=True)

    demo = commands.add_parser("demo", help="reconstruct held-out sentences with the released bundle; neighbours")
    demo.add_argument("--bundle", default=RELEASED_BUNDLE, help=f"bundle folder (default: {RELEASED_BUNDLE})")
    demo.add_argument("--runs", default="runs", help="folder for the data (default: runs)")
    demo.add_argument("--sentences", type=int, default=12, help="held-out sentences to reconstruct (default: 12)")
    demo.add_argument("-k", type=int, default=8, help="neighbours per query")
    demo.set_defaults(func=_demo)

    bundle = commands.add_parser("bundle", help="assemble a TextReconstructor bundle from trained parts")
    bundle.add_argument("embedder", help="TokenEmbedder folder")
    bundle.add_argument("selector", help="Selector folder (trainers/train_selector.py)")
    bundle.add_argument("placer", help="Placer folder (trainers/train_placer.py)")
    bundle.add_argument("--vocabulary", help="reconstruction vocabulary (default: EMBEDDER/reconstruction_vocab)")
    bundle.add_argument("--out", required=True, help="bundle folder to write")
    bundle.add_argument("--json", action="store_true", help="print the folder, its size and entry count as JSON")
    bundle.set_defaults(func=_bundle)

    def decoding_options(command: argparse.ArgumentParser) -> None:
        command.add_argument("--num-beams", type=int, help="hypotheses per input (default: the bundle's)")
        command.add_argument("--top-k", type=int, help="FAISS candidates per step (default: the bundle's)")
        command.add_argument("--max-steps", type=int, help="most entries written (default: the bundle's)")
        command.add_argument(
            "--patience", type=int, help="steps without a higher cosine before a text ends (default: the bundle's)"
        )
        command.add_argument("--greedy", action="store_true", help="one hypothesis, no verifier")

    rebuild = commands.add_parser("reconstruct", help="rebuild texts (round trip) or sentence vectors with a bundle")
    rebuild.add_argument("bundle", help="bundle folder or hub name")
    rebuild.add_argument("texts", nargs="*", help="texts to embed and rebuild")
    rebuild.add_argument("--vectors", help="a .npy file of sentence vectors, (d,) or (n, d)")
    rebuild.add_argument("--steps", action="store_true", help="print each text's step trace")
    rebuild.add_argument("--json", action="store_true", help="print one JSON list of results")
    decoding_options(rebuild)
    rebuild.set_defaults(func=_reconstruct)

    scores = commands.add_parser(
        "evaluate-reconstruction", help="greedy and verifier-beam scores of a bundle by length bucket"
    )
    scores.add_argument("bundle", help="bundle folder or hub name")
    scores.add_argument("--data", default="runs/data", help="data folder (default: runs/data)")
    scores.add_argument("--split", default="test", choices=["dev", "test"])
    scores.add_argument("--sentences", type=int, default=300, help="sentences in all, split evenly by bucket")
    scores.add_argument("--seed", type=int, default=0, help="seed of the sentence sample")
    scores.add_argument("--json", action="store_true", help="print {system: {bucket: scores}} as JSON")
    scores.add_argument("--card", help="also write the bundle's model card with these figures (e.g. BUNDLE/README.md)")
    scores.set_defaults(func=_evaluate_reconstruction)

    data = commands.add_parser("data", help="corpora, vocabulary, MWEs, WordNet senses, evaluation sets")
    data_commands = data.add_subparsers(dest="data_command", required=True)
    data_build = data_commands.add_parser("build", help="build a data folder")
    data_build.add_argument("--corpus", default="bbc-news", help="bbc-news, wikitext-103, wordnet-examples or a path")
    data_build.add_argument("--out", default="data", help="output folder (default: data)")
    data_build.add_argument("--overwrite", action="store_true", help="rebuild even when the cache matches")
    data_build.add_argument("--json", action="store_true", help="print the summary as JSON")
    data_build.set_defaults(func=_data_build)

    index = commands.add_parser("index", help="FAISS vocabulary index")
    index_commands = index.add_subparsers(dest="index_command", required=True)
    index_build = index_commands.add_parser("build", help="embed a data folder's entries and index them")
    index_build.add_argument("model", help="TokenEmbedder folder or hub name")
    index_build.add_argument("data", help="data folder from `hf-tokenembed data build`")
    index_build.add_argument("--out", required=True, help="index folder (e.g. MODEL/vocab_index)")
    index_build.add_argument("--index-type", default="auto", choices=["auto", "exact", "hnsw", "ivfpq"])
    index_build.add_argument("--json", action="store_true", help="print the index's metadata as JSON")
    index_build.set_defaults(func=_index_build)

    evaluate = commands.add_parser("evaluate", help="score a TokenEmbedder on a data folder's held-out sets")
    evaluate.add_argument("model", help="TokenEmbedder folder or hub name")
    evaluate.add_argument("--data", required=True, help="data folder from `hf-tokenembed data build`")
    evaluate.add_argument("--split", default="test", choices=["dev", "test"])
    evaluate.add_argument("--max-items", type=int, default=None, help="items per evaluation set (default: builtin)")
    evaluate.add_argument("--json", action="store_true", help="print one JSON object of metric name → value")
    evaluate.set_defaults(func=_evaluate)

    near = commands.add_parser("neighbors", help="print the nearest index entries of words or phrases")
    near.add_argument("model", help="TokenEmbedder folder (with an index) or a bundle (its vocabulary)")
    near.add_argument("queries", nargs="+", help='words or phrases, e.g. "bank" "red herring"')
    near.add_argument("--context", action="append", help="a sentence to encode the queries in (repeatable)")
    near.add_argument("--index", help="index folder (default: MODEL/vocab_index)")
    near.add_argument("-k", type=int, default=10, help="neighbours per query")
    near.add_argument(
        "--pos",
        choices=["n", "v", "a", "r", "auto"],
        help="keep only the sense entries of this part of speech (the query's in its context); "
        'auto: tag it in each --context with spaCy (pip install "hf_tokenembed[pos]")',
    )
    near.add_argument("--json", action="store_true", help="print one JSON list of {query, context, neighbors}")
    near.set_defaults(func=_neighbors)

    plot = commands.add_parser("plot", help="draw a PNG: training curves, a neighbourhood map, a reconstruction trace")
    plot_commands = plot.add_subparsers(dest="plot_command", required=True)
    curves = plot_commands.add_parser("training", help="every loss part of a run against the step")
    curves.add_argument("run", help="run folder (its trainer_state.json, else its last checkpoint's) or the file")
    curves.add_argument("--parts", nargs="+", help="loss parts to draw, e.g. loss_order (default: every one)")
    hood = plot_commands.add_parser("neighbours", help="2-D map of a word, its contexts, neighbours and senses")
    hood.add_argument("model", help="TokenEmbedder folder (with an index) or a bundle (its vocabulary)")
    hood.add_argument("word", help='a word or phrase, e.g. "bank"')
    hood.add_argument("--context", action="append", help="a sentence containing the word (repeatable)")
    hood.add_argument("--index", help="index folder (default: MODEL/vocab_index)")
    hood.add_argument("-k", type=int, default=15, help="neighbours per query vector (default: 15)")
    hood.add_argument("--method", default="auto", choices=["auto", "pca", "umap"], help="UMAP where installed")
    trace = plot_commands.add_parser("trace", help="cosine to the target after each step of a reconstruction")
    trace.add_argument("bundle", help="bundle folder or hub name")
    trace.add_argument("text", help="the text to embed and rebuild")
    decoding_options(trace)
    for command in (curves, hood, trace):
        command.add_argument("--out", required=True, help="PNG file to write")
        command.add_argument("--json", action="store_true", help='print {"png": path} as JSON')
        command.set_defaults(func=_plot)
    return parser


def _subcommand_parser(parser: argparse.ArgumentParser, args: argparse.Namespace) -> argparse.ArgumentParser:
    """The (sub)subcommand's own parser, so that a usage error prints that command's usage."""
    for name in ("command", "data_command", "index_command", "plot_command"):
        chosen = getattr(args, name, None)
        actions = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        if chosen is None or not actions:
            break
        parser = actions[0].choices[chosen]
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one subcommand; returns the exit code (argparse itself exits with 2 on a usage error it sees)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING)
    if not args.verbose:  # transformers' load reports and weight-loading bars are noise in a CLI's output
        import transformers

        transformers.logging.set_verbosity_error()
        transformers.logging.disable_progress_bar()
    try:
        args.func(args)
    except UsageError as error:
        _subcommand_parser(parser, args).error(str(error))  # exits with 2
    except (ValueError, TypeError, OSError, ImportError, RuntimeError) as error:
        if args.verbose:
            logger.exception("%s failed", args.command)
        hint = "" if args.verbose else " (run with -v for the traceback)"
        print(f"hf-tokenembed {args.command}: error: {error}{hint}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
