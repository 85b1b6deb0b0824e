"""Word vocabulary: the original rule (``[A-Za-z]+`` words, lowercase, ``min_freq``, ``max_vocab``) over corpus counts,
optionally merged with ``wordfreq``'s most frequent English words, with a casing policy for proper nouns."""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Iterable

logger = logging.getLogger(__name__)

__all__ = ["CASING_POLICIES", "WORD_RE", "build_vocab", "count_words", "vocab_features"]

WORD_RE = re.compile(r"[A-Za-z]+")
CASING_POLICIES = ("proper", "lower")


def vocab_features():
    """``datasets.Features`` of the vocabulary table."""
    import datasets

    return datasets.Features(
        {"word": datasets.Value("string"), "count": datasets.Value("int64"), "zipf": datasets.Value("float32")}
    )


def count_words(sentences: Iterable[str], *, progress: bool = False) -> tuple[Counter, dict[str, Counter]]:
    """Lowercase word counts, and for each lowercase word the counts of its surface forms away from sentence starts
    (where capitalisation says nothing about proper nouns)."""
    from tqdm.auto import tqdm

    counts: Counter = Counter()
    surfaces: dict[str, Counter] = {}
    for sentence in tqdm(sentences, desc="vocabulary", unit="sent", disable=not progress):
        for i, match in enumerate(WORD_RE.finditer(sentence)):
            token = match.group()
            key = token.lower()
            counts[key] += 1
            if i > 0:
                surfaces.setdefault(key, Counter())[token] += 1
    return counts, surfaces


def _cased_form(key: str, surfaces: Counter | None, proper_ratio: float) -> str:
    """``key`` or, when it is capitalised in at least ``proper_ratio`` of its mid-sentence uses, its commonest
    capitalised form ("york" -> "York", "bbc" -> "BBC")."""
    if not surfaces:
        return key
    total = sum(surfaces.values())
    capitalised = {form: n for form, n in surfaces.items() if form[0].isupper()}
    if sum(capitalised.values()) >= proper_ratio * total:
        return max(capitalised.items(), key=lambda kv: (kv[1], kv[0]))[0]
    return key


def build_vocab(
    sentences: Iterable[str],
    *,
    min_freq: int = 2,
    max_vocab: int = 50_000,
    wordfreq_top: int = 0,
    casing: str = "proper",
    proper_ratio: float = 0.9,
    progress: bool = False,
):
    """The vocabulary as a ``datasets.Dataset`` (``word``, ``count``, ``zipf``), most frequent first.

    Args:
        sentences: corpus sentences.
        min_freq: keep corpus words seen at least this often (the original recipe used 100 on WikiText-103).
        max_vocab: keep at most this many words (by corpus count, then wordfreq frequency).
        wordfreq_top: also merge in the this-many most frequent ``[a-z]+`` English words of ``wordfreq``
            (count 0 when the corpus lacks them); 0 disables.
        casing: ``"proper"`` keeps words that are capitalised in at least ``proper_ratio`` of their
            mid-sentence uses in that form ("York", "Paris", "BBC"); ``"lower"`` lowercases everything (original).
    """
    import datasets
    import wordfreq

    if not isinstance(min_freq, int) or min_freq < 1:
        raise ValueError(f"`min_freq` must be an int >= 1, got {min_freq!r}")
    if not isinstance(max_vocab, int) or max_vocab < 1:
        raise ValueError(f"`max_vocab` must be an int >= 1, got {max_vocab!r}")
    if not isinstance(wordfreq_top, int) or wordfreq_top < 0:
        raise ValueError(f"`wordfreq_top` must be an int >= 0, got {wordfreq_top!r}")
    if casing not in CASING_POLICIES:
        raise ValueError(f"`casing` must be one of {CASING_POLICIES}, got {casing!r}")
    counts, surfaces = count_words(sentences, progress=progress)
    keys = {key for key, n in counts.items() if n >= min_freq}
    if wordfreq_top:
        keys.update(w for w in wordfreq.top_n_list("en", wordfreq_top) if WORD_RE.fullmatch(w))
    rows = []
    for key in keys:
        word = _cased_form(key, surfaces.get(key), proper_ratio) if casing == "proper" else key
        rows.append((word, counts.get(key, 0), wordfreq.zipf_frequency(key, "en")))
    rows.sort(key=lambda r: (-r[1], -r[2], r[0]))
    rows = rows[:max_vocab]
    logger.info(
        "Vocabulary: %d words (%d from the corpus with count >= %d)",
        len(rows),
        sum(r[1] >= min_freq for r in rows),
        min_freq,
    )
    return datasets.Dataset.from_dict(
        {"word": [r[0] for r in rows], "count": [r[1] for r in rows], "zipf": [float(r[2]) for r in rows]},
        features=vocab_features(),
    )
