"""`hf-tokenembed`: build data, build and inspect indexes, evaluate, run the demo."""

from __future__ import annotations

import argparse
import logging
import os
from pathlib import Path

__all__ = ["main"]

logger = logging.getLogger(__name__)

DEMO_QUERIES = ["car", "happy", "paris", "red herring", "New York"]
DEMO_CONTEXTS = ["We sat on the river bank and watched the boats.", "The bank raised its interest rates again."]


def _load_embedder(model: str):
    from transformers import AutoModel  # the package registered its models with it on import

    return AutoModel.from_pretrained(model).eval()


def _data_build(args: argparse.Namespace) -> None:
    from hf_tokenembed.data import build_data, format_summary

    print(format_summary(build_data(args.corpus, args.out, overwrite=args.overwrite)))


def _index_build(args: argparse.Namespace) -> None:
    from hf_tokenembed.index import VocabIndex, VocabIndexConfig

    embedder = _load_embedder(args.model)
    index = VocabIndex.build(embedder, args.data, VocabIndexConfig(index_type=args.index_type))
    index.save(args.out)
    print(f"{index!r} saved to {args.out}")


def _neighbors(args: argparse.Namespace) -> None:
    from hf_tokenembed.index import VocabIndex, format_neighbors, neighbors

    embedder = _load_embedder(args.model)
    index = VocabIndex.load(args.index or os.path.join(args.model, "vocab_index"), embedder=embedder)
    for context in args.context or [None]:
        results = neighbors(index, embedder, args.queries, context, k=args.k)
        labels = [f"{q}  @  {context}" if context else q for q in args.queries]
        print(format_neighbors(results, labels), end="\n\n")


def _evaluate(args: argparse.Namespace) -> None:
    import json

    from hf_tokenembed.evaluation import evaluate_model, format_metrics

    metrics = evaluate_model(_load_embedder(args.model), args.data, split=args.split, max_items=args.max_items)
    clean = {name: None if value != value else value for name, value in metrics.items()}  # NaN is not JSON
    print(json.dumps(clean) if args.json else format_metrics(metrics))


def _demo(args: argparse.Namespace) -> None:
    """Nearest neighbours of a few words, two multi-word expressions and "bank" in two contexts."""
    from hf_tokenembed.data import build_data, format_summary
    from hf_tokenembed.index import VocabIndex, VocabIndexConfig, format_neighbors, neighbors
    from hf_tokenembed.models import TokenEmbedder, TokenEmbedderConfig

    runs = Path(args.runs)
    print(format_summary(build_data("bbc-news", runs / "data")))
    model_dir = runs / "raw-minilm"
    if not (model_dir / "config.json").exists():
        TokenEmbedder(TokenEmbedderConfig(lora_layers=0, head_dims=[])).save_pretrained(model_dir)
    embedder = _load_embedder(str(model_dir))
    index_dir = model_dir / "vocab_index"
    try:
        index = VocabIndex.load(index_dir, embedder=embedder)
    except (FileNotFoundError, ValueError):
        index = VocabIndex.build(embedder, runs / "data", VocabIndexConfig())
        index.save(index_dir)
    print(f"\n{index!r}\n")
    print(format_neighbors(neighbors(index, embedder, DEMO_QUERIES, k=args.k), DEMO_QUERIES), end="\n\n")
    for context in DEMO_CONTEXTS:
        print(format_neighbors(neighbors(index, embedder, ["bank"], context, k=args.k), [f"bank  @  {context}"]))
        print()


def build_parser() -> argparse.ArgumentParser:
    """The `hf-tokenembed` argument parser."""
    parser = argparse.ArgumentParser(prog="hf-tokenembed", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="log at INFO level")
    commands = parser.add_subparsers(dest="command", required=True)

    demo = commands.add_parser("demo", help="build data + index offline and print neighbours")
    demo.add_argument("--runs", default="runs", help="folder for the data, model and index (default: runs)")
    demo.add_argument("-k", type=int, default=8, help="neighbours per query")
    demo.set_defaults(func=_demo)

    data = commands.add_parser("data", help="corpora, vocabulary, MWEs, WordNet senses, evaluation sets")
    data_commands = data.add_subparsers(dest="data_command", required=True)
    data_build = data_commands.add_parser("build", help="build a data folder")
    data_build.add_argument("--corpus", default="bbc-news", help="bbc-news, wikitext-103, wordnet-examples or a path")
    data_build.add_argument("--out", default="data", help="output folder (default: data)")
    data_build.add_argument("--overwrite", action="store_true", help="rebuild even when the cache matches")
    data_build.set_defaults(func=_data_build)

    index = commands.add_parser("index", help="FAISS vocabulary index")
    index_commands = index.add_subparsers(dest="index_command", required=True)
    index_build = index_commands.add_parser("build", help="embed a data folder's entries and index them")
    index_build.add_argument("model", help="TokenEmbedder folder or hub name")
    index_build.add_argument("data", help="data folder from `hf-tokenembed data build`")
    index_build.add_argument("--out", required=True, help="index folder (e.g. MODEL/vocab_index)")
    index_build.add_argument("--index-type", default="auto", choices=["auto", "exact", "hnsw", "ivfpq"])
    index_build.set_defaults(func=_index_build)

    evaluate = commands.add_parser("evaluate", help="score a TokenEmbedder on a data folder's held-out sets")
    evaluate.add_argument("model", help="TokenEmbedder folder or hub name")
    evaluate.add_argument("--data", required=True, help="data folder from `hf-tokenembed data build`")
    evaluate.add_argument("--split", default="test", choices=["dev", "test"])
    evaluate.add_argument("--max-items", type=int, default=None, help="items per evaluation set (default: builtin)")
    evaluate.add_argument("--json", action="store_true", help="print one JSON object of metric name → value")
    evaluate.set_defaults(func=_evaluate)

    near = commands.add_parser("neighbors", help="print the nearest index entries of words or phrases")
    near.add_argument("model", help="TokenEmbedder folder or hub name")
    near.add_argument("queries", nargs="+", help='words or phrases, e.g. "bank" "red herring"')
    near.add_argument("--context", action="append", help="a sentence to encode the queries in (repeatable)")
    near.add_argument("--index", help="index folder (default: MODEL/vocab_index)")
    near.add_argument("-k", type=int, default=10, help="neighbours per query")
    near.set_defaults(func=_neighbors)
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING)
    args.func(args)


if __name__ == "__main__":
    main()
