"""Build the token-space evaluators from a data folder, run them on a model, and print the metrics as a table."""

from __future__ import annotations

import logging
import math
import os
import random
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from hf_tokenembed.data.eval_sets import EVAL_SPLITS

from .base import check_positive, sample
from .context_type import ContextTypeRetrievalEvaluator
from .geometry import GeometryPreservationEvaluator
from .mwe_gloss import MWEGlossRetrievalEvaluator
from .order_awareness import OrderAwarenessEvaluator
from .sense_retrieval import SenseRetrievalEvaluator
from .synonyms import SynonymRecallEvaluator
from .token_space import TokenSpaceEvaluator
from .wic import WiCEvaluator

logger = logging.getLogger(__name__)

__all__ = ["DEFAULT_MAX_ITEMS", "METRIC_ORDER", "evaluate_model", "evaluators_from_data", "format_metrics"]

DEFAULT_MAX_ITEMS: dict[str, int] = {
    "synonyms": 2000,
    "context_type": 1000,
    "wic": 1000,
    "sense": 500,
    "mwe_gloss": 1000,
    "order": 300,
    "geometry": 500,
    "word_geometry": 2000,
}
"""Items per evaluation set (pairs, occurrences per sample, WiC rows per split, lemmas for senses, pairs, sentences,
sentence pairs, word pairs)."""

METRIC_ORDER = (
    "synonym_recall@10",
    "context_type_acc@1",
    "context_type_acc@10",
    "context_type_acc@1_top1k",
    "context_type_acc@1_1k-10k",
    "context_type_acc@1_rare",
    "wic_accuracy",
    "wic_threshold",
    "wic_dev_accuracy",
    "wic_majority_baseline",
    "wic_examples_accuracy",
    "wic_examples_threshold",
    "wic_examples_dev_accuracy",
    "wic_examples_majority_baseline",
    "sense_fine_accuracy",
    "sense_fine_random",
    "sense_fine_first_sense",
    "sense_coarse_accuracy",
    "sense_coarse_random",
    "sense_coarse_first_sense",
    "sense_coverage",
    "mwe_gloss_recall@10",
    "gloss_mwe_recall@10",
    "order_awareness",
    "order_cosine_gap",
    "order_shuffle_gap",
    "geometry_spearman",
    "word_geometry_spearman",
    "token_space_score",
)
"""Display order of `format_metrics` (other keys follow, sorted)."""


def _rows(dataset: Any, max_items: int | None, seed: int) -> list[dict]:
    """A seeded sample of a `datasets.Dataset`'s rows as dicts, read without writing cache files."""
    n = len(dataset)
    keep = range(n) if max_items is None or n <= max_items else sorted(random.Random(seed).sample(range(n), max_items))
    return dataset.select(list(keep), keep_in_memory=True).to_list()


def evaluators_from_data(
    data_dir: str | os.PathLike,
    split: str = "test",
    *,
    max_items: int | Mapping[str, int] | None = None,
    seed: int = 0,
    include_mwes: bool = False,
    reference: Any | None = None,
    k: int = 10,
    batch_size: int | None = None,
    show_progress_bar: bool | None = None,
) -> TokenSpaceEvaluator:
    """A `TokenSpaceEvaluator` over the held-out `split` of a data folder built by `hf_tokenembed.data.build_data`.

    Args:
        data_dir: The data folder.
        split: ``"test"`` (the report: WiC threshold tuned on dev, sense vectors without the test sentences) or
            ``"dev"`` (for model selection during training: WiC tuned and scored on dev).
        max_items: Items per set: one int for all, or a mapping over the keys of `DEFAULT_MAX_ITEMS` (missing keys
            keep their default); None uses `DEFAULT_MAX_ITEMS` (a few minutes with MiniLM on 2 CPU cores). The
            context→type candidates are always the whole vocabulary.
        seed: Sampling seed.
        include_mwes: Add the MWE table to the synonym candidates (about twice the encoding).
        reference: Reference model for geometry preservation (default: the evaluated model's raw backbone).
        k: Cut-off of the recall@k metrics.
        batch_size: Encoder batch size (None: the encode methods' defaults).
        show_progress_bar: Encoder progress bars.
    """
    from hf_tokenembed.data import load_data

    if split not in EVAL_SPLITS:
        raise ValueError(f"`split` must be one of {EVAL_SPLITS}, got {split!r}")
    check_positive(k, "k")
    path = Path(data_dir).expanduser()
    if not path.is_dir():
        raise FileNotFoundError(
            f"`data_dir` {os.fspath(data_dir)!r} does not exist: build it with "
            f"`hf-tokenembed data build --out {os.fspath(data_dir)}`"
        )
    sizes = dict(DEFAULT_MAX_ITEMS)
    if isinstance(max_items, Mapping):
        unknown = set(max_items) - set(sizes)
        if unknown:
            raise ValueError(f"`max_items` has unknown keys {sorted(unknown)}; known: {sorted(sizes)}")
        sizes.update(max_items)
    elif max_items is not None:
        sizes = dict.fromkeys(sizes, max_items)
    for key, value in sizes.items():
        check_positive(value, f"max_items[{key!r}]")

    data = load_data(path)
    common = {"batch_size": batch_size, "show_progress_bar": show_progress_bar}
    vocabulary = list(data["vocab"]["word"])
    sentences = list(data["corpus"][split]["text"])

    synonyms = _rows(data["eval/synonyms"][split], sizes["synonyms"], seed)
    candidates = vocabulary + (list(data["mwes"]["phrase"]) if include_mwes else [])
    wic_test = data["eval/wic"][split].to_list()
    wic_dev = data["eval/wic"]["dev"].to_list() if split != "dev" else wic_test
    sense_lemmas = sample(sorted({row["lemma"] for row in wic_test}), sizes["sense"], seed)
    mwe = _rows(data["eval/mwe_gloss"][split], sizes["mwe_gloss"], seed)

    evaluators = [
        SynonymRecallEvaluator(
            [r["word"] for r in synonyms], [r["synonym"] for r in synonyms], candidates, k=k, **common
        ),
        ContextTypeRetrievalEvaluator(sentences, vocabulary, max_items=sizes["context_type"], seed=seed, **common),
        WiCEvaluator(sample(wic_dev, sizes["wic"], seed), sample(wic_test, sizes["wic"], seed + 1), **common),
        SenseRetrievalEvaluator(data["senses"], sense_lemmas, **common),
        MWEGlossRetrievalEvaluator([r["phrase"] for r in mwe], [r["gloss"] for r in mwe], k=k, **common),
        OrderAwarenessEvaluator(sample(sentences, sizes["order"], seed), seed=seed, **common),
        GeometryPreservationEvaluator(
            sentences, reference=reference, max_pairs=sizes["geometry"], seed=seed, **common
        ),
        GeometryPreservationEvaluator(
            vocabulary + list(data["mwes"]["phrase"]),
            reference=reference,
            max_pairs=sizes["word_geometry"],
            seed=seed,
            space="word",
            **common,
        ),  # fmt: skip
    ]
    logger.info("Built %d evaluators on the %s split of %s", len(evaluators), split, path)
    return TokenSpaceEvaluator(evaluators)


def evaluate_model(model: Any, data_dir: str | os.PathLike, split: str = "test", **kwargs: Any) -> dict[str, float]:
    """Run `evaluators_from_data(data_dir, split, **kwargs)` on `model`; returns metric name → value."""
    return evaluators_from_data(data_dir, split, **kwargs)(model)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float) and math.isnan(value):
        return "nan"
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer() and abs(value) >= 10):
        return f"{int(value):,}"
    return f"{value:.4f}"


def format_metrics(metrics: Mapping[str, float], baselines: Mapping[str, Mapping[str, float]] | None = None) -> str:
    """Metrics as a text table: one row per metric; with `baselines` (name → metrics), one column per model.

    The evaluated model's column is headed ``model``; a metric a model lacks shows ``-``.
    """
    if not isinstance(metrics, Mapping):
        raise TypeError(f"`metrics` must be a dict of metric name to value, got {type(metrics).__name__}")
    columns = {"model": metrics, **(dict(baselines) if baselines else {})}
    for name, values in columns.items():
        if not isinstance(values, Mapping):
            raise TypeError(f"`baselines[{name!r}]` must be a dict of metric name to value")
    keys = list(dict.fromkeys(k for values in columns.values() for k in values))
    keys = [k for k in METRIC_ORDER if k in keys] + sorted(k for k in keys if k not in METRIC_ORDER)
    width = max([len("metric"), *map(len, keys)])
    cells = {name: [_cell(values.get(k)) for k in keys] for name, values in columns.items()}
    widths = {name: max([len(name), *map(len, col)]) for name, col in cells.items()}
    lines = ["  ".join([f"{'metric':<{width}}", *(f"{n:>{widths[n]}}" for n in columns)])]
    lines.append("  ".join(["-" * width, *("-" * widths[n] for n in columns)]))
    for row, key in enumerate(keys):
        lines.append("  ".join([f"{key:<{width}}", *(f"{cells[n][row]:>{widths[n]}}" for n in columns)]))
    return "\n".join(lines)
