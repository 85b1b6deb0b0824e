"""Multi-word expressions: WordNet's multi-word lemmas plus bigram/trigram collocations mined from the corpus by
normalised PMI, merged into one phrase vocabulary with counts and the source of each entry."""

from __future__ import annotations

import functools
import logging
import math
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from .vocab import WORD_RE

logger = logging.getLogger(__name__)

__all__ = [
    "NgramCounts",
    "build_mwes",
    "count_ngrams",
    "count_phrases",
    "mine_collocations",
    "mwe_features",
    "npmi",
    "tokenize_chunks",
    "wordnet_mwes",
]

# A word, the hyphen inside a compound ("high-tech": it does not end a run), or any other run of non-spaces.
TOKEN_RE = re.compile(rf"(?P<word>{WORD_RE.pattern})|(?P<joiner>(?<=[A-Za-z])-(?=[A-Za-z]))|[^\sA-Za-z]+")


def mwe_features():
    """``datasets.Features`` of the MWE table."""
    import datasets

    return datasets.Features(
        {
            "phrase": datasets.Value("string"),
            "count": datasets.Value("int64"),
            "source": datasets.Value("string"),
            "npmi": datasets.Value("float32"),
        }
    )


def tokenize_chunks(sentence: str) -> list[list[str]]:
    """Runs of word tokens (`WORD_RE`); punctuation and digits end a run, so no n-gram crosses a comma or a number,
    while the hyphen inside a compound ("high-tech") only separates its words."""
    chunks, current = [], []
    for match in TOKEN_RE.finditer(sentence):
        if match.group("word"):
            current.append(match.group())
        elif not match.group("joiner"):
            if len(current) > 1:
                chunks.append(current)
            current = []
    if len(current) > 1 or current and not chunks:
        chunks.append(current)
    return chunks


@dataclass
class NgramCounts:
    """Lowercase unigram and n-gram counts over token runs; ``total`` is the number of tokens."""

    unigrams: Counter = field(default_factory=Counter)
    ngrams: dict[int, Counter] = field(default_factory=dict)
    total: int = 0


def count_ngrams(sentences: Iterable[str], *, max_n: int = 3, progress: bool = False) -> NgramCounts:
    """Count lowercase unigrams and 2..``max_n``-grams within token runs."""
    from tqdm.auto import tqdm

    counts = NgramCounts(ngrams={n: Counter() for n in range(2, max_n + 1)})
    for sentence in tqdm(sentences, desc="n-grams", unit="sent", disable=not progress):
        # Tokens of one-word runs count as unigrams too, but tokenize_chunks drops them; count all words here.
        words = [w.lower() for w in WORD_RE.findall(sentence)]
        counts.unigrams.update(words)
        counts.total += len(words)
        for chunk in tokenize_chunks(sentence):
            low = [w.lower() for w in chunk]
            for n in range(2, max_n + 1):
                counter = counts.ngrams[n]
                for i in range(len(low) - n + 1):
                    counter[tuple(low[i : i + n])] += 1
    return counts


def npmi(counts: NgramCounts, gram: tuple[str, ...]) -> float:
    """Normalised PMI of an n-gram: ``log(p(g) / prod p(w_i)) / ((n - 1) * -log p(g))``.

    For n = 2 this is Bouma's NPMI in [-1, 1]; dividing by n - 1 keeps longer n-grams on the same scale (1 when the
    words never occur apart). Probabilities are counts over the number of tokens.
    """
    n = len(gram)
    c = counts.ngrams[n][gram]
    if c == 0:
        return -1.0
    p = c / counts.total
    if p >= 1:
        return 1.0
    pmi = math.log(p) - sum(math.log(counts.unigrams[w] / counts.total) for w in gram)
    return pmi / ((n - 1) * -math.log(p))


def _surface_forms(
    sentences: Iterable[str], keys: set[tuple[str, ...]], max_n: int
) -> dict[tuple[str, ...], tuple[str, bool]]:
    """Commonest surface form of each n-gram, preferring occurrences away from the sentence start, and whether it
    was seen there (a sentence-initial capital says nothing about names)."""
    mid: dict[tuple[str, ...], Counter] = {}
    start: dict[tuple[str, ...], Counter] = {}
    for sentence in sentences:
        for c, chunk in enumerate(tokenize_chunks(sentence)):
            low = [w.lower() for w in chunk]
            for n in range(2, max_n + 1):
                for i in range(len(low) - n + 1):
                    key = tuple(low[i : i + n])
                    if key in keys:
                        target = start if (c == 0 and i == 0) else mid
                        target.setdefault(key, Counter())[tuple(chunk[i : i + n])] += 1
    out = {}
    for key in keys:
        forms = mid.get(key) or start.get(key)
        if forms:
            out[key] = (" ".join(max(forms.items(), key=lambda kv: (kv[1], kv[0]))[0]), key in mid)
        else:
            out[key] = (" ".join(key), False)
    return out


def mine_collocations(
    sentences: Iterable[str],
    *,
    max_n: int = 3,
    min_count: int = 5,
    min_npmi: float = 0.5,
    stop_zipf: float = 6.0,
    counts: NgramCounts | None = None,
    progress: bool = False,
) -> list[dict]:
    """Collocations by normalised PMI over bigrams..``max_n``-grams.

    Keeps n-grams seen at least ``min_count`` times with :func:`npmi` >= ``min_npmi`` whose first and last words are
    not function words (a lowercase surface form with ``wordfreq`` Zipf frequency >= ``stop_zipf``: "the", "of",
    "said"; capitalised "New" stays). Rows ``{phrase, count, npmi}``, phrase in its commonest mid-sentence casing
    ("New York", "prime minister"), best first.
    """
    import wordfreq

    if not isinstance(max_n, int) or max_n < 2:
        raise ValueError(f"`max_n` must be an int >= 2, got {max_n!r}")
    if not isinstance(min_count, int) or min_count < 1:
        raise ValueError(f"`min_count` must be an int >= 1, got {min_count!r}")
    if not -1 <= min_npmi <= 1:
        raise ValueError(f"`min_npmi` must lie in [-1, 1], got {min_npmi!r}")
    sentences = list(sentences)
    counts = counts or count_ngrams(sentences, max_n=max_n, progress=progress)
    scored = {}
    for n in range(2, max_n + 1):
        for gram, c in counts.ngrams.get(n, {}).items():
            if c >= min_count:
                score = npmi(counts, gram)
                if score >= min_npmi:
                    scored[gram] = (c, score)
    forms = _surface_forms(sentences, set(scored), max_n)
    zipf = functools.lru_cache(maxsize=None)(wordfreq.zipf_frequency)
    rows = []
    for gram, (c, score) in scored.items():
        phrase, seen_mid = forms[gram]
        tokens = phrase.split(" ")
        if any((t.islower() or not seen_mid) and zipf(t.lower(), "en") >= stop_zipf for t in (tokens[0], tokens[-1])):
            continue
        rows.append({"phrase": phrase, "count": c, "npmi": score})
    rows.sort(key=lambda r: (-r["npmi"], -r["count"], r["phrase"]))
    return rows


def count_phrases(sentences: Iterable[str], phrases: Iterable[str], *, progress: bool = False) -> Counter:
    """Occurrences of each phrase (case-insensitive, as a token run) in ``sentences``; keys are lowercase phrases."""
    from tqdm.auto import tqdm

    targets = {tuple(p.lower().split()) for p in phrases}
    lengths = sorted({len(t) for t in targets})
    found: Counter = Counter()
    for sentence in tqdm(sentences, desc="phrase counts", unit="sent", disable=not progress):
        for chunk in tokenize_chunks(sentence):
            low = [w.lower() for w in chunk]
            for n in lengths:
                for i in range(len(low) - n + 1):
                    key = tuple(low[i : i + n])
                    if key in targets:
                        found[" ".join(key)] += 1
    return found


def wordnet_mwes(wn, *, max_words: int = 4) -> Iterator[str]:
    """WordNet multi-word lemmas of 2..``max_words`` plain word tokens (original casing, e.g. "New York")."""
    for phrase in wn.multiword_lemmas():
        tokens = phrase.split()
        if 2 <= len(tokens) <= max_words and all(WORD_RE.fullmatch(t) for t in tokens):
            yield phrase


def build_mwes(
    sentences: Iterable[str],
    wn=None,
    *,
    known_words: Iterable[str] = (),
    max_n: int = 3,
    min_count: int = 5,
    min_npmi: float = 0.5,
    max_words: int = 4,
    progress: bool = False,
):
    """The phrase vocabulary as a ``datasets.Dataset`` (``phrase``, ``count``, ``source``, ``npmi``).

    Entries: collocations from :func:`mine_collocations` (source ``"npmi"``) and WordNet multi-word lemmas
    (``"wordnet"``; ``"wordnet+npmi"`` when both) that occur in the corpus or whose every word is in
    ``known_words`` (case-insensitive). WordNet's casing wins when both name a phrase. ``npmi`` is NaN for
    phrases that were not mined.
    """
    import datasets

    sentences = list(sentences)
    mined = mine_collocations(sentences, max_n=max_n, min_count=min_count, min_npmi=min_npmi, progress=progress)
    entries: dict[str, dict] = {r["phrase"].lower(): dict(r, source="npmi") for r in mined}
    if wn is not None:
        known = {w.lower() for w in known_words}
        candidates = {}
        for phrase in wordnet_mwes(wn, max_words=max_words):
            candidates.setdefault(phrase.lower(), phrase)
        corpus_counts = count_phrases(sentences, candidates, progress=progress)
        for key, phrase in candidates.items():
            if key in entries:
                entries[key].update(phrase=phrase, source="wordnet+npmi")
            elif corpus_counts[key] > 0 or all(t in known for t in key.split()):
                entries[key] = {"phrase": phrase, "count": corpus_counts[key], "npmi": math.nan, "source": "wordnet"}
    rows = sorted(entries.values(), key=lambda r: (-r["count"], r["phrase"]))
    logger.info("MWEs: %d (%s)", len(rows), dict(Counter(r["source"] for r in rows)))
    return datasets.Dataset.from_dict(
        {key: [r[key] for r in rows] for key in ("phrase", "count", "source", "npmi")}, features=mwe_features()
    )
