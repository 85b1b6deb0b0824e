"""Build a data folder (corpus, vocabulary, MWEs, senses, homographs, evaluation sets) in one call, atomically and
cached: a folder whose ``manifest.json`` matches the build parameters and inputs is reused as is."""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import shutil
import time
from pathlib import Path

from hf_tokenembed.atomic import check_sha256, replace_dir, sha256_file, staging_dir

logger = logging.getLogger(__name__)

__all__ = ["DATA_FORMAT_VERSION", "SUMMARY_KEYS", "build_data", "data_fingerprint", "format_summary", "load_data"]

DATA_FORMAT_VERSION = 3  # 2: split by document; 3: senses carry synonyms and the hypernym gloss
SUMMARY_KEYS = (
    "sentences",
    "vocabulary",
    "mwes",
    "senses",
    "homographs",
    "synonyms",
    "wic",
    "mwe_gloss",
    "reconstruction",
)
TABLES = ("vocab", "mwes", "senses", "homographs")
DATASET_DICTS = ("corpus", "eval/synonyms", "eval/wic", "eval/mwe_gloss", "eval/reconstruction")


def _wordnet_fingerprint(root) -> str:
    root = Path(str(root))
    stats = [(name, (root / name).stat().st_size) for name in ("data.noun", "index.noun") if (root / name).exists()]
    return f"WordNet {root} {stats}"


def _read_manifest(out: Path) -> dict | None:
    try:
        return json.loads((out / "manifest.json").read_text())
    except (OSError, ValueError):
        return None


def build_data(
    corpus: str | os.PathLike | list[str | os.PathLike] = "bbc-news",
    out: str | os.PathLike = "data",
    *,
    text_column: str = "text",
    min_words: int = 3,
    max_words: int = 40,
    dev_fraction: float = 0.05,
    test_fraction: float = 0.05,
    min_freq: int = 2,
    max_vocab: int = 50_000,
    wordfreq_top: int = 25_000,
    casing: str = "proper",
    mwe_max_n: int = 3,
    mwe_min_count: int = 5,
    mwe_min_npmi: float = 0.5,
    mwe_max_words: int = 4,
    wic_max_pairs_per_lemma: int = 10,
    wordnet_path: str | os.PathLike | None = None,
    seed: int = 0,
    progress: bool = True,
    overwrite: bool = False,
) -> dict:
    """Build every data table into ``out`` and return the summary (also written to ``out/summary.json``).

    Defaults (``bbc-news``: ~36k sentences): vocabulary = corpus words seen ``min_freq`` >= 2 times (~17k on BBC)
    merged with the ``wordfreq_top`` = 25,000 most frequent English words of ``wordfreq`` (count 0 when unseen),
    capped at ``max_vocab`` = 50,000. The original WikiText-103 recipe is ``min_freq=100, wordfreq_top=0,
    casing="lower"``. MWEs = NPMI collocations (bigrams/trigrams, count >= 5, NPMI >= 0.5) plus WordNet multi-word
    lemmas that occur in the corpus or consist of vocabulary words.

    The folder is built in a temporary sibling and renamed into place, so an error never leaves a partial folder.
    When ``out/manifest.json`` matches these parameters and inputs the build is skipped (a cache hit) unless
    ``overwrite``. A non-empty ``out`` that is not a data folder is refused unless ``overwrite``.
    """
    import datasets

    from .corpora import load_corpus, source_fingerprint
    from .eval_sets import build_mwe_gloss_pairs, build_reconstruction_set, build_synonym_pairs, build_wic_pairs
    from .mwe import build_mwes
    from .vocab import build_vocab
    from .wordnet import build_homographs, build_senses, find_wordnet, load_wordnet

    if not isinstance(out, str | os.PathLike) or not os.fspath(out):
        raise TypeError(f"`out` must be a non-empty path, got {out!r}")
    out = Path(out).expanduser().absolute()
    sources = corpus if isinstance(corpus, list | tuple) else [corpus]
    if not sources:
        raise ValueError("`corpus` is an empty list")
    for source in sources:
        if not isinstance(source, str | os.PathLike):
            raise TypeError(f"`corpus` must be a source name, a path or a list of them, not {type(source).__name__}")
    params = {
        "corpus": [os.fspath(s) for s in sources], "text_column": text_column, "min_words": min_words,
        "max_words": max_words, "dev_fraction": dev_fraction, "test_fraction": test_fraction, "min_freq": min_freq,
        "max_vocab": max_vocab, "wordfreq_top": wordfreq_top, "casing": casing, "mwe_max_n": mwe_max_n,
        "mwe_min_count": mwe_min_count, "mwe_min_npmi": mwe_min_npmi, "mwe_max_words": mwe_max_words,
        "wic_max_pairs_per_lemma": wic_max_pairs_per_lemma, "seed": seed,
    }  # fmt: skip
    from importlib.metadata import version

    fingerprint = {
        "format": DATA_FORMAT_VERSION,
        "sources": [source_fingerprint(s) for s in sources],
        "wordnet": _wordnet_fingerprint(find_wordnet(wordnet_path)),
        "wordfreq": version("wordfreq"),
        "pysbd": version("pysbd"),
    }
    manifest = {"params": params, "inputs": fingerprint}
    if out.exists():
        old = _read_manifest(out)
        if old is not None and not overwrite and {k: old.get(k) for k in manifest} == manifest:
            try:
                summary = json.loads((out / "summary.json").read_text())
                logger.info("Cache hit: %s matches the build parameters and inputs", out)
                return summary
            except (OSError, ValueError):
                logger.warning("%s has a matching manifest but no readable summary.json; rebuilding", out)
        if old is None and not overwrite and (not out.is_dir() or any(out.iterdir())):
            raise FileExistsError(
                f"`out` {out} exists and is not a data folder (no manifest.json); pass overwrite=True"
            )

    started = time.perf_counter()
    wn = load_wordnet(wordnet_path)
    tmp = staging_dir(out)
    try:
        data = load_corpus(
            sources, text_column=text_column, min_words=min_words, max_words=max_words, dev_fraction=dev_fraction,
            test_fraction=test_fraction, wordnet_path=wordnet_path, progress=progress,
        )  # fmt: skip
        sentences = [text for split in data.values() for text in split["text"]]
        # Vocabulary and collocations come from the training split only, so held-out sentences stay unseen.
        train = data["train"]["text"]
        vocab = build_vocab(
            train, min_freq=min_freq, max_vocab=max_vocab, wordfreq_top=wordfreq_top, casing=casing, progress=progress
        )
        mwes = build_mwes(
            train, wn, known_words=vocab["word"], max_n=mwe_max_n, min_count=mwe_min_count, min_npmi=mwe_min_npmi,
            max_words=mwe_max_words, progress=progress,
        )  # fmt: skip
        senses = build_senses(wn, list(vocab["word"]) + list(mwes["phrase"]), progress=progress)
        # Single letters ("s" from "Blair's", "a") make noisy homographs and synonym pairs ("s" ~ "sulfur").
        words = [w for w in vocab["word"] if len(w) > 1]
        homographs = build_homographs(wn, words, progress=progress)
        known = list(vocab["word"]) + list(mwes["phrase"])
        evals = {
            "synonyms": build_synonym_pairs(wn, words, known=known),
            "wic": build_wic_pairs(
                wn, words, max_pairs_per_lemma=wic_max_pairs_per_lemma, seed=seed, progress=progress
            ),
            "mwe_gloss": build_mwe_gloss_pairs(wn, mwes["phrase"]),
            "reconstruction": build_reconstruction_set(data, max_words=min(max_words, 39)),
        }
        bars_were_off = datasets.are_progress_bars_disabled()
        datasets.disable_progress_bars()  # one bar per saved table is noise
        try:
            data.save_to_disk(str(tmp / "corpus"))
            for name, table in zip(TABLES, (vocab, mwes, senses, homographs)):
                table.save_to_disk(str(tmp / name))
            for name, table in evals.items():
                table.save_to_disk(str(tmp / "eval" / name))
        finally:
            if not bars_were_off:
                datasets.enable_progress_bars()
        summary = {
            "sentences": len(sentences),
            "vocabulary": len(vocab),
            "mwes": len(mwes),
            "senses": len(senses),
            "homographs": len(homographs),
            **{name: sum(len(split) for split in table.values()) for name, table in evals.items()},
        }
        (tmp / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
        manifest["built_seconds"] = round(time.perf_counter() - started, 1)
        manifest["splits"] = {
            "corpus": {k: len(v) for k, v in data.items()},
            **{name: {k: len(v) for k, v in table.items()} for name, table in evals.items()},
        }
        manifest["files_sha256"] = {
            p.relative_to(tmp).as_posix(): sha256_file(p) for p in sorted(tmp.rglob("*")) if p.is_file()
        }
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, default=_json_default) + "\n")
        replace_dir(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    logger.info("Built %s in %.1fs: %s", out, time.perf_counter() - started, summary)
    return summary


def _json_default(value):
    if isinstance(value, float) and math.isnan(value):
        return None
    return str(value)


def format_summary(summary: dict) -> str:
    """The summary as a two-column text table (known keys first, in :data:`SUMMARY_KEYS` order)."""
    keys = [k for k in SUMMARY_KEYS if k in summary] + [k for k in summary if k not in SUMMARY_KEYS]
    width = max([len(k) for k in keys] + [len("table")])
    values = [f"{summary[k]:,}" if isinstance(summary[k], int) else str(summary[k]) for k in keys]
    vwidth = max([len(v) for v in values] + [len("rows")])
    lines = [f"{'table':<{width}}  {'rows':>{vwidth}}", f"{'-' * width}  {'-' * vwidth}"]
    lines += [f"{k:<{width}}  {v:>{vwidth}}" for k, v in zip(keys, values)]
    return "\n".join(lines)


def data_fingerprint(path: str | os.PathLike) -> str:
    """A short hash of what built the data folder at ``path`` (its build parameters and input versions)."""
    manifest = _read_manifest(Path(path))
    if manifest is None:
        raise FileNotFoundError(f"`path` {path} is not a data folder (no readable manifest.json)")
    identity = json.dumps({k: manifest.get(k) for k in ("params", "inputs")}, sort_keys=True, default=str)
    return hashlib.sha256(identity.encode()).hexdigest()[:16]


def load_data(path: str | os.PathLike) -> dict:
    """Every table of a data folder: ``{"corpus": DatasetDict, "vocab": Dataset, ..., "eval/wic": DatasetDict}``."""
    import datasets

    path = Path(path)
    manifest = _read_manifest(path)
    if manifest is None:
        raise FileNotFoundError(
            f"`path` {path} is not a data folder (no readable manifest.json); build it with build_data"
        )
    checksums = manifest.get("files_sha256", {})  # folders built before checksums have none
    check_sha256(path, checksums, "manifest.json", "the data folder", "build it again (build_data, overwrite=True)")
    return {name: datasets.load_from_disk(str(path / name)) for name in DATASET_DICTS + TABLES}
